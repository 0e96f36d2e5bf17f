"""The baseline of known findings (`--baseline FILE`): a JSON file the team commits, read, matched and rewritten.

The file follows Schemathesis' baseline (4.32, `schemathesis/baseline/model.py`) where it can: an object with
`format_version` and `entries`; each entry has an `id`, `first_seen`, `last_seen` and an optional `expires`
(YYYY-MM-DD, the last day it holds), and keys the harness does not know are kept as they are. It differs where
this harness needs it:

- the identity is the finding's fingerprint (`results.contract.fingerprint`): the rule, the kind of breakage
  within it and the probe class, never the request. Schemathesis' `signature` is derived from the failure
  (its message), which for a cross-request rule (a duplicate code) or a scenario names values drawn from the
  seed; ours is the same under every seed. The `id` *is* the fingerprint (12 hex digits), so an entry can be
  written by hand from a report's fingerprint column; `rule`, `kind` and `probe` say what it is (when `kind`
  is given, the id must match it: a typo is an error, not an entry that never matches);
- every entry says why it is accepted (`description`) and since when (`accepted`).

Matching: a finding whose fingerprint has an unexpired entry is *known* (it does not fail the gate); an
expired entry's finding counts as new, with a warning. An entry is *fixed* when the run exercised its rule
(the rule was judged on at least one exchange, i.e. it was not "not run"; for a probe's entry, the classics
pass ran too), did not see its finding, and was not interrupted: the file can lose it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from coupon_harness import ENDPOINT, __version__
from coupon_harness.contract.catalog import UnknownRuleError, canonical_rule_id
from coupon_harness.errors import ConfigError
from coupon_harness.results.contract import (
    BODY_RULES,
    BaselineStatus,
    BaselineSummary,
    ContractRunResult,
    Finding,
    FixedEntry,
    Outcome,
    fingerprint,
)

__all__ = ["FORMAT_VERSION", "OPERATION", "Baseline", "BaselineEntry", "apply_baseline", "describe", "today",
           "updated_baseline"]

FORMAT_VERSION = 1
OPERATION = f"POST {ENDPOINT}"
_KNOWN_KEYS = ("id", "operation", "rule", "kind", "probe", "description", "accepted", "first_seen", "last_seen",
               "expires")


def today() -> date:
    return datetime.now(UTC).date()


@dataclass(slots=True)
class BaselineEntry:
    id: str
    rule: str
    description: str
    accepted: str
    kind: str | None = None
    probe: str | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    expires: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def is_expired(self, on: date) -> bool:
        return self.expires is not None and date.fromisoformat(self.expires) < on

    @classmethod
    def from_finding(cls, finding: Finding, on: date) -> BaselineEntry:
        stamp = on.isoformat()
        return cls(id=finding.fingerprint, rule=finding.rule_id, description=describe(finding), accepted=stamp,
                   kind=finding.key, probe=_probe(finding), first_seen=stamp, last_seen=stamp)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "operation": OPERATION, "rule": self.rule, "kind": self.kind,
                                "probe": self.probe, "description": self.description, "accepted": self.accepted,
                                "first_seen": self.first_seen, "last_seen": self.last_seen,
                                "expires": self.expires}
        data = {key: value for key, value in data.items() if value is not None or key in ("probe", "expires")}
        data.update(self.extra)
        return data


def _probe(finding: Finding) -> str | None:
    """The probe class as the fingerprint counts it (None for a rule judged on a 200's body)."""
    return finding.probe_class if finding.rule_id not in BODY_RULES else None


def describe(finding: Finding) -> str:
    """A line a person reads in the file: the rule, the probe or where it was found, what was received."""
    where = f"probe '{_probe(finding)}'" if _probe(finding) else f"first found in {finding.source}"
    received = " ".join(finding.received.split())
    if len(received) > 120:
        received = received[:119] + "…"
    return f"{finding.rule_id} ({finding.key}), {where}: {received}"


def _date(value: Any, what: str) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat() if isinstance(value, str) else _bad(value, what)
    except ValueError:
        return _bad(value, what)


def _bad(value: Any, what: str) -> str:
    raise ConfigError(f"{what} must be a date YYYY-MM-DD, got {json.dumps(value)[:40]}")


def _entry(data: Any, where: str) -> BaselineEntry:
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be an object, got {json.dumps(data)[:60]}")
    for name in ("id", "rule"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise ConfigError(f"{where} needs a string {name!r} (copy the fingerprint and rule from a report, or "
                              "write the file with --baseline-update)")
    try:
        rule = canonical_rule_id(data["rule"])
    except UnknownRuleError:
        raise ConfigError(f"{where}: {data['rule'][:60]!r} is not a rule of the contract") from None
    kind, probe = data.get("kind"), data.get("probe")
    for name, value in (("kind", kind), ("probe", probe), ("description", data.get("description"))):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: {name} must be a string, got {json.dumps(value)[:40]}")
    if kind is not None and fingerprint(rule, kind, probe) != data["id"]:
        raise ConfigError(f"{where}: id {data['id'][:20]!r} is not the fingerprint of rule {rule}, kind {kind!r} "
                          f"and probe {probe!r} ({fingerprint(rule, kind, probe)}): fix the entry or drop its "
                          "kind and probe")
    dates = {name: _date(data[name], f"{where} {name}") for name in ("accepted", "first_seen", "last_seen",
                                                                      "expires") if data.get(name) is not None}
    return BaselineEntry(id=data["id"], rule=rule, description=str(data.get("description") or ""),
                         accepted=dates.get("accepted", ""), kind=kind, probe=probe,
                         first_seen=dates.get("first_seen"), last_seen=dates.get("last_seen"),
                         expires=dates.get("expires"),
                         extra={key: value for key, value in data.items() if key not in _KNOWN_KEYS})


@dataclass(slots=True)
class Baseline:
    entries: list[BaselineEntry] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path, *, missing_ok: bool = False) -> Baseline:
        """ConfigError (exit 2, one line naming the fix) on a missing file (unless `missing_ok`: the file
        --baseline-update is about to create) or on one that is not a baseline."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if missing_ok:
                return cls()
            raise ConfigError(f"--baseline {path}: no such file; create it from a run with --baseline-update") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--baseline {path}: cannot read it ({type(exc).__name__})") from None
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"--baseline {path}: not JSON ({exc}); fix it or write it again with "
                              "--baseline-update") from None
        if not isinstance(raw, dict) or raw.get("format_version") != FORMAT_VERSION:
            raise ConfigError(f"--baseline {path}: not a coupon-harness baseline of format_version {FORMAT_VERSION} "
                              "(an object with format_version and entries)")
        entries = raw.get("entries")
        if not isinstance(entries, list):
            raise ConfigError(f"--baseline {path}: entries must be a list")
        loaded = [_entry(data, f"--baseline {path} entry {index + 1}") for index, data in enumerate(entries)]
        seen: set[str] = set()
        for entry in loaded:
            if entry.id in seen:
                raise ConfigError(f"--baseline {path}: fingerprint {entry.id} is listed twice; keep one entry")
            seen.add(entry.id)
        return cls(loaded)

    def by_id(self) -> dict[str, BaselineEntry]:
        return {entry.id: entry for entry in self.entries}

    def dumps(self) -> str:
        document = {"format_version": FORMAT_VERSION, "coupon_harness_version": __version__,
                    "entries": [entry.to_dict() for entry in sorted(self.entries, key=lambda e: (e.rule, e.id))]}
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

    def save(self, path: Path) -> None:
        """Atomically: a killed run never leaves half a file the team committed."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(self.dumps())
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _exercised(entry: BaselineEntry, result: ContractRunResult) -> bool:
    if result.interrupted:
        return False
    rule = next((r for r in result.rules if r.rule.id == entry.rule), None)
    if rule is None or rule.outcome is Outcome.NOT_RUN or rule.checks == 0:
        return False
    return entry.probe is None or any(name == "classics" for name, _ in result.passes)


def apply_baseline(result: ContractRunResult, baseline: Baseline, file: str, on: date | None = None
                   ) -> BaselineSummary:
    """Mark every finding new, known or expired; a failed rule whose findings are all known becomes KNOWN
    (the gate holds for it); list the fixed entries. Sets and returns `result.baseline`."""
    on = on or today()
    entries = baseline.by_id()
    summary = BaselineSummary(file=file)
    seen: set[str] = set()
    for rule_result in result.rules:
        for finding in rule_result.findings:
            entry = entries.get(finding.fingerprint)
            seen.add(finding.fingerprint)
            if entry is None:
                finding.baseline = BaselineStatus.NEW
            elif entry.is_expired(on):
                finding.baseline = BaselineStatus.EXPIRED
                summary.warnings.append(f"baseline entry {entry.id} ({entry.rule}) expired on {entry.expires}: its "
                                        "finding counts as new; fix it, or accept it again with a later expires")
            else:
                finding.baseline = BaselineStatus.KNOWN
        if rule_result.outcome is Outcome.FAILED and rule_result.findings and all(
                f.baseline is BaselineStatus.KNOWN for f in rule_result.findings):
            rule_result.outcome = Outcome.KNOWN
    for entry in baseline.entries:
        if entry.id not in seen and _exercised(entry, result):
            summary.fixed.append(FixedEntry(entry.id, entry.rule, entry.description))
    result.baseline = summary
    return summary


def updated_baseline(result: ContractRunResult, baseline: Baseline, on: date | None = None) -> Baseline:
    """The file after --baseline-update: every finding of the run accepted (a new one with today's date and a
    generated description; a known or expired one keeps its description, acceptance and expiry, and gets
    today as last_seen), fixed entries dropped, entries the run did not exercise kept as they were."""
    on = on or today()
    old = baseline.by_id()
    kept: dict[str, BaselineEntry] = {}
    for rule_result in result.rules:
        for finding in rule_result.findings:
            entry = old.get(finding.fingerprint)
            if entry is None:
                entry = BaselineEntry.from_finding(finding, on)
            else:
                entry.last_seen = on.isoformat()
                if entry.kind is None:
                    entry.kind, entry.probe = finding.key, _probe(finding)
                entry.first_seen = entry.first_seen or on.isoformat()
            kept[entry.id] = entry
    for entry in baseline.entries:
        if entry.id not in kept and not _exercised(entry, result):
            kept[entry.id] = entry
    return Baseline(list(kept.values()))
