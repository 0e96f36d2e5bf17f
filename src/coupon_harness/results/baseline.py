"""The baseline of known findings (`--baseline FILE`): a JSON file the team commits, read, matched and rewritten.

The file follows Schemathesis' baseline (4.32) where it can: an object with `format_version` and `entries`, each
with an `id`, `first_seen`, `last_seen` and an optional `expires` (YYYY-MM-DD, the last day it holds); unknown keys
are kept. It differs where this harness needs it:

- the `id` is the finding's fingerprint (`results.contract.fingerprint`: rule, kind of breakage, probe class,
  never the request), the same under every seed, where Schemathesis' `signature` names values drawn from it. An
  entry can be written by hand from a report's fingerprint column; `rule`, `kind` and `probe` say what it is
  (with `kind` given, the id must match it: a typo is an error, not an entry that never matches);
- every entry says why it is accepted (`description`) and since when (`accepted`).

Matching: a finding with an unexpired entry is *known* (it does not fail the gate); an expired entry's finding
counts as new, with a warning. An entry is *fixed* when an uninterrupted run judged its rule (and, for a probe's
entry, ran the classics pass) without seeing its finding: the file can lose it.

Updating (`--baseline-update`, `update_file`): another run may have written the file since this one read it (two
CI jobs on one checkout), so the write is a merge under an exclusive lock (`.NAME.lock` beside the file): read the
file as it is now, apply this run's changes (the entries it saw, those it found fixed), write a temporary file and
rename it over. When both touched one entry, `last_seen` is the later, `first_seen` and `accepted` the earlier, and
the file's `description`, `expires` and unknown keys stay. A fixed entry is dropped only if still as this run read
it; when in doubt, nothing accepted is lost.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from coupon_harness import ENDPOINT, __version__
from coupon_harness.contract.catalog import UnknownRuleError, canonical_rule_id
from coupon_harness.errors import ConfigError
from coupon_harness.file_lock import FileLock
from coupon_harness.input_files import DATA_LIMIT, NESTED_TOO_DEEPLY, UnreadableFile, read_text
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

__all__ = ["FORMAT_VERSION", "LOCK_TIMEOUT_S", "OPERATION", "Baseline", "BaselineEntry", "apply_baseline",
           "baseline_changes", "describe", "lock_path", "merge_changes", "today", "update_file", "updated_baseline"]

FORMAT_VERSION = 1
OPERATION = f"POST {ENDPOINT}"
#: How long an update waits for another run's (a read, a merge and a write: milliseconds) before it gives up.
LOCK_TIMEOUT_S = 30.0
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
        """The entry as the file holds it: its keys in `_KNOWN_KEYS` order (kind, first_seen and last_seen left out
        when unknown), then the keys the harness does not know, as read."""
        data = {key: OPERATION if key == "operation" else getattr(self, key) for key in _KNOWN_KEYS}
        return {**{key: value for key, value in data.items() if value is not None or key in ("probe", "expires")},
                **self.extra}


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
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):  # TypeError: not a string
        raise ConfigError(f"{what} must be a date YYYY-MM-DD, got {json.dumps(value)[:40]}") from None


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
    return BaselineEntry(id=data["id"], rule=rule, description=str(data.get("description") or ""), kind=kind,
                         probe=probe, **{"accepted": "", **dates},
                         extra={key: value for key, value in data.items() if key not in _KNOWN_KEYS})


@dataclass(slots=True)
class Baseline:
    entries: list[BaselineEntry] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path, *, missing_ok: bool = False) -> Baseline:
        """ConfigError (exit 2, one line naming the fix) on a missing file (unless `missing_ok`: the file
        --baseline-update is about to create) or on one that is not a baseline (a device, a file larger than
        16 MiB, one nested too deeply)."""
        try:
            text = read_text(path, limit=DATA_LIMIT)
        except FileNotFoundError:
            if missing_ok:
                return cls()
            raise ConfigError(f"--baseline {path}: no such file; create it from a run with --baseline-update") from None
        except OSError as exc:
            raise ConfigError(f"--baseline {path}: cannot read it ({exc.strerror or type(exc).__name__}); check "
                              "--baseline") from None
        except UnreadableFile as exc:
            raise ConfigError(f"--baseline {exc}: give --baseline the JSON file --baseline-update writes") from None
        try:
            return cls._parse(text, path)
        except RecursionError:
            raise ConfigError(f"--baseline {path} {NESTED_TOO_DEEPLY}: give --baseline the JSON file "
                              "--baseline-update writes") from None

    @classmethod
    def _parse(cls, text: str, path: Path) -> Baseline:
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
        """Atomically: a killed run never leaves half a file the team committed (a temporary file beside it,
        synced, renamed over it; the file keeps its permissions)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode: int | None = path.stat().st_mode & 0o777
        except OSError:
            mode = None  # a new file: 0o666 less the umask, as any file the user creates
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(self.dumps())
                out.flush()
                if mode is not None:
                    os.fchmod(out.fileno(), mode)
                os.fsync(out.fileno())
            temporary.replace(path)
        except BaseException:
            temporary.unlink(missing_ok=True)
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


def baseline_changes(result: ContractRunResult, baseline: Baseline, on: date | None = None
                     ) -> tuple[list[BaselineEntry], list[BaselineEntry]]:
    """What --baseline-update changes in `baseline` (as the run read it, left unchanged): (an entry per finding of
    the run, a known one keeping its description, acceptance and expiry with today as last_seen), (the entries
    found fixed, as read)."""
    on = on or today()
    old = baseline.by_id()
    seen: dict[str, BaselineEntry] = {}
    for rule_result in result.rules:
        for finding in rule_result.findings:
            entry = old.get(finding.fingerprint)
            if entry is None:
                entry = BaselineEntry.from_finding(finding, on)
            else:
                entry = replace(entry, extra=dict(entry.extra), last_seen=on.isoformat(),
                                first_seen=entry.first_seen or on.isoformat())
                if entry.kind is None:
                    entry.kind, entry.probe = finding.key, _probe(finding)
            seen.setdefault(entry.id, entry)
    fixed = [entry for entry in baseline.entries if entry.id not in seen and _exercised(entry, result)]
    return list(seen.values()), fixed


def _earlier(one: str | None, other: str | None) -> str | None:
    return min((value for value in (one, other) if value), default=one or other)


def _merged_entry(current: BaselineEntry, mine: BaselineEntry) -> BaselineEntry:
    """One entry both the file (as it is now) and this run have: the later last_seen, the earlier first_seen
    and acceptance; the file's description (unless it has none), expiry and unknown keys."""
    last_seen = max((value for value in (current.last_seen, mine.last_seen) if value), default=None)
    kind, probe = (current.kind, current.probe) if current.kind is not None else (mine.kind, mine.probe)
    return replace(current, description=current.description or mine.description,
                   accepted=_earlier(current.accepted, mine.accepted) or "", kind=kind, probe=probe,
                   first_seen=_earlier(current.first_seen, mine.first_seen), last_seen=last_seen,
                   extra=dict(current.extra))


def merge_changes(current: Baseline, seen: list[BaselineEntry], fixed: list[BaselineEntry]
                  ) -> tuple[Baseline, list[str]]:
    """The file after this run's changes are applied to it as it is now (`current`): the entries seen added
    or merged (`_merged_entry`), those found fixed dropped if still as the run read them. Returns the result
    and the ids of fixed entries kept because they changed meanwhile."""
    entries = current.by_id()
    for entry in seen:
        other = entries.get(entry.id)
        entries[entry.id] = entry if other is None else _merged_entry(other, entry)
    kept: list[str] = []
    for entry in fixed:
        other = entries.get(entry.id)
        if other is not None and other.to_dict() == entry.to_dict():
            del entries[entry.id]
        elif other is not None:
            kept.append(entry.id)
    return Baseline(list(entries.values())), kept


def updated_baseline(result: ContractRunResult, baseline: Baseline, on: date | None = None) -> Baseline:
    """The file after --baseline-update, when nothing else wrote it since the run read it: every finding of the
    run accepted, fixed entries dropped, entries the run did not exercise kept as they were."""
    seen, fixed = baseline_changes(result, baseline, on)
    return merge_changes(baseline, seen, fixed)[0]


def lock_path(path: Path) -> Path:
    """The lock file of a baseline: `.NAME.lock` beside it (there only while an update holds it)."""
    return path.with_name(f".{path.name}.lock")


def update_file(path: Path, seen: list[BaselineEntry], fixed: list[BaselineEntry], *,
                timeout: float = LOCK_TIMEOUT_S) -> tuple[Baseline, list[str]]:
    """Apply one run's changes (`baseline_changes`) to the file as it is now, atomically, under the lock
    (`lock_path`; removed when released). Returns what was written and the fixed entries kept; raises OSError
    (TimeoutError past `timeout` s) and ConfigError when the file is no longer a baseline."""
    lock = FileLock(lock_path(path))
    lock.path.parent.mkdir(parents=True, exist_ok=True)
    if not lock.acquire(timeout):
        raise TimeoutError(f"another run held {lock.path} for {timeout:g} s")
    try:
        merged, kept = merge_changes(Baseline.load(path, missing_ok=True), seen, fixed)
        merged.save(path)
    finally:
        lock.release()
    return merged, kept
