"""What every format of a contract run's report shares: rule order, counts, the verdict, finding details."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from coupon_harness.contract.catalog import Severity, rules
from coupon_harness.reporting.text import one_line, plural
from coupon_harness.results.contract import (
    BODY_RULES,
    BaselineStatus,
    ContractRunResult,
    Finding,
    FixedEntry,
    Outcome,
    RuleResult,
    RunShape,
)
from coupon_harness.results.load import LoadReplay
from coupon_harness.results.request import credentials_help, header_words, headers_help

__all__ = ["OUTCOME_ORDER", "BaselineGroups", "FindingView", "baseline_entries", "baseline_groups", "count_outcomes",
           "credential_flags", "curl_env_help", "finding_label", "finding_views", "first_finding_after",
           "first_finding_summary", "ordered_rules", "replay_command", "shape_flags", "shown_outcomes", "summary_line",
           "target_flags", "verdict"]

OUTCOME_ORDER = (Outcome.PASSED, Outcome.FAILED, Outcome.WARNED, Outcome.KNOWN, Outcome.NOT_RUN)
_SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.ERROR: 1, Severity.WARNING: 2}
#: Where each outcome sits in a report's table: what needs attention first.
_TABLE_RANK = {Outcome.FAILED: 0, Outcome.WARNED: 1, Outcome.KNOWN: 2, Outcome.PASSED: 3, Outcome.NOT_RUN: 4}


def ordered_rules(result: ContractRunResult) -> list[RuleResult]:
    """The rule results as every report's table lists them: failed (most severe first), warned, known, passed, not
    run, each group in catalog order (rules the catalog does not know last)."""
    index = {rule.id: position for position, rule in enumerate(rules())}
    return sorted(result.rules, key=lambda r: (
        _TABLE_RANK.get(r.outcome, 5),
        _SEVERITY_RANK.get(r.rule.severity, 3) if r.outcome is Outcome.FAILED else 0,
        index.get(r.rule.id, len(index))))


def shown_outcomes(result: ContractRunResult) -> tuple[Outcome, ...]:
    """The outcomes a tally names: "known" only for a run against a baseline."""
    if result.baseline is not None:
        return OUTCOME_ORDER
    return tuple(outcome for outcome in OUTCOME_ORDER if outcome is not Outcome.KNOWN)


def count_outcomes(result: ContractRunResult) -> dict[Outcome, int]:
    return {outcome: sum(r.outcome is outcome for r in result.rules) for outcome in OUTCOME_ORDER}


def verdict(result: ContractRunResult) -> str:
    """The headline without decoration: "contract holds", "N rules violated (K critical)", or with harness
    faults "harness error in 1 pass; N rules violated ..." (the rules then cover only the passes that ran)."""
    if result.holds:
        text = "contract holds"
    else:
        critical = sum(r.rule.severity is Severity.CRITICAL for r in result.failed)
        text = plural(len(result.failed), "rule") + " violated"
        if critical:
            text += f" ({critical} critical)"
    if result.faults:
        count = len(result.faults)
        rules_text = text if not result.holds else "no rule violated in what ran"
        text = f"harness error in {count} {'pass' if count == 1 else 'passes'}; {rules_text}"
    if result.interrupted:
        text += " (interrupted: partial results)"
    return text


def summary_line(result: ContractRunResult) -> str:
    """'24 rules: 20 passed, 2 failed, 1 warned, 1 not run'."""
    counts = count_outcomes(result)
    parts = ", ".join(f"{counts[outcome]} {outcome.value}" for outcome in shown_outcomes(result))
    return f"{plural(len(result.rules), 'rule')}: {parts}"


def first_finding_after(result: ContractRunResult) -> str | None:
    """'after 0.4 s (scenario/classics)': when the first finding of a rule that fails the gate came, and
    where; None when there was none."""
    if result.first_finding_s is None:
        return None
    source = f" ({result.first_finding_source})" if result.first_finding_source else ""
    seconds = result.first_finding_s
    return f"after {seconds:.{1 if seconds >= 0.1 else 3}f} s{source}"


#: How the Replay line names each kind of credentials: a variable the user's environment holds, never a value.
_CREDENTIAL_FLAGS = {
    "basic": ('--user "${COUPON_HARNESS_USER}"',),
    "basic-md5": ('--user "${COUPON_HARNESS_USER}"', "--md5-password"),
    "token": ('--token "${COUPON_HARNESS_TOKEN}"',),
    "oauth": ('--oauth-key "${COUPON_HARNESS_OAUTH_KEY}"', '--oauth-secret "${COUPON_HARNESS_OAUTH_SECRET}"'),
}


def credential_flags(kind: str | None, prefix: str = "") -> tuple[str, ...]:
    """The flags that give credentials of `kind` again, each value a `${COUPON_HARNESS_*}` reference; `prefix`
    "against-" names `diff`'s second target (--against-user "${COUPON_HARNESS_AGAINST_USER}")."""
    flags = _CREDENTIAL_FLAGS.get(kind or "", ())
    if not prefix:
        return flags
    return tuple(flag.replace("--", f"--{prefix}", 1).replace("COUPON_HARNESS_", "COUPON_HARNESS_"
                                                              + prefix.upper().replace("-", "_"))
                 for flag in flags)


def target_flags(target: RunShape | LoadReplay, *, credentials: bool = True) -> list[str]:
    """Series and customers, credentials as references (with `credentials`), the extra headers
    (`-H "Name: ${COUPON_HARNESS_HEADER_NAME}"`, a value never written) and the TLS flags as given."""
    parts: list[str] = []
    for flag, values in (("--series-ids", target.series_ids), ("--invalid-series-ids", target.invalid_series_ids),
                         ("--generic-series-ids", target.generic_series_ids),
                         ("--customer-ids", target.customer_ids)):
        if values:
            parts += [flag, shlex.quote(",".join(str(value) for value in values))]
    if credentials:
        parts += credential_flags(target.credentials)
    parts += [header_words(name) for name in target.header_names]
    if not target.tls_verify:
        parts.append("--no-tls-verify")
    for flag, path in (("--cacert", target.cacert), ("--client-cert", target.client_cert),
                       ("--client-key", target.client_key)):
        if path is not None:
            parts += [flag, shlex.quote(path)]
    return parts


def curl_env_help(shape: RunShape | None) -> str:
    """What the curl commands of a run need from the environment: its credentials' and extra headers' variables
    ("" without either)."""
    helps = (credentials_help(shape.credentials if shape is not None else None),
             headers_help(shape.header_names if shape is not None else ()))
    return " ".join(help for help in helps if help)


def shape_flags(shape: RunShape) -> list[str]:
    """The flags of a run's shape as the command line gives them again (the base URL and seed are the caller's)."""
    # A sandbox `run` starts has its own demo credentials.
    parts = target_flags(shape, credentials=not shape.sandbox_started)
    if shape.max_examples != 100:
        parts += ["--max-examples", str(shape.max_examples)]
    if shape.request_timeout != 5.0:
        parts += ["--request-timeout", f"{shape.request_timeout:g}"]
    if shape.allow_production:
        parts.append("--allow-production")
    if shape.passes:
        parts += ["--passes", ",".join(shape.passes)]
    if shape.left_out_rules:
        parts += ["--exclude-rules", ",".join(shape.left_out_rules)]
    return parts


def replay_command(seed: int, shape: RunShape | None = None) -> str:
    """The command that runs the same run again, credentials as `${COUPON_HARNESS_*}` references. A run against
    the sandbox `run` started replays as `coupon-harness run --no-load`; without a shape (an older summary.json),
    only the seed."""
    if shape is None:
        return f"coupon-harness contract --seed {seed}"
    if shape.sandbox_started:
        head = ["coupon-harness", "run", "--no-load"]
    else:
        head = ["coupon-harness", "contract", "--base-url", shlex.quote(shape.base_url)]
    return " ".join([*head, *shape_flags(shape), "--seed", str(seed)])


@dataclass(slots=True)
class BaselineGroups:
    """A run against a baseline in three groups (and the warnings of expired entries)."""

    file: str
    new: list[Finding] = field(default_factory=list)
    known: list[Finding] = field(default_factory=list)
    fixed: list[FixedEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    updated: bool = False


def baseline_entries(groups: BaselineGroups) -> list[tuple[str, str, str]]:
    """One (group, entry, note) a line: new findings ("expired entry" noted), known ones, fixed entries (to trim)."""
    return [*(("new", finding_label(f), " (expired entry)" if f.baseline is BaselineStatus.EXPIRED else "")
              for f in groups.new), *(("known", finding_label(f), "") for f in groups.known),
            *(("fixed", f"{e.fingerprint} {e.rule_id}: {one_line(e.description)}", " (not seen: trim it from the file)")
              for e in groups.fixed)]


def baseline_groups(result: ContractRunResult) -> BaselineGroups | None:
    """New findings (expired ones included) of rules that fail the gate, known findings, fixed entries; None
    for a run without a baseline. A warning rule's new finding is listed as new too (it never fails)."""
    if result.baseline is None:
        return None
    groups = BaselineGroups(result.baseline.file, fixed=list(result.baseline.fixed),
                            warnings=list(result.baseline.warnings), updated=result.baseline.updated)
    seen: set[str] = set()
    for rule_result in ordered_rules(result):
        for finding in rule_result.findings:
            if finding.fingerprint in seen:  # a body rule's finding drawn by several probes: one fingerprint
                continue
            seen.add(finding.fingerprint)
            (groups.known if finding.baseline is BaselineStatus.KNOWN else groups.new).append(finding)
    return groups


@dataclass(frozen=True, slots=True)
class FindingView:
    """A finding with what every report derives from it (replay command, response line)."""

    finding: Finding
    seed: int
    #: The complete command that runs the run again (see `replay_command`).
    replay: str
    response: str | None

    @property
    def occurrences(self) -> str:
        return plural(self.finding.occurrences, "occurrence")


def finding_views(result: ContractRunResult, rule_result: RuleResult) -> list[FindingView]:
    """The rule's findings; a finding without its own seed replays with the run's seed."""
    views = []
    # New findings before known ones: the first one shown is the one that fails the gate.
    for finding in sorted(rule_result.findings, key=lambda f: f.baseline is BaselineStatus.KNOWN):
        seed = finding.seed if finding.seed is not None else result.seed
        response = None
        if finding.response_status is not None or finding.response_excerpt:
            status = str(finding.response_status) if finding.response_status is not None else "no status"
            response = f"{status} {finding.response_excerpt}".rstrip()
        views.append(FindingView(finding, seed, replay_command(seed, result.shape), response))
    return views


def finding_label(finding: Finding) -> str:
    """'abc123def456 no-server-error (status-500), probe string length in customer.id': one line per finding
    in the baseline groups."""
    where = f"probe {finding.probe_class}" if finding.probe_class else finding.source
    if finding.rule_id in BODY_RULES:
        where = f"first found in {where}"
    return f"{finding.fingerprint} {finding.rule_id} ({finding.key}), {where}"


def first_finding_summary(rule_result: RuleResult) -> str:
    """'expected X, received Y' of the first finding, on one line."""
    if not rule_result.findings:
        return f"rule {rule_result.outcome.value} (no finding recorded)"
    first = rule_result.findings[0]
    return one_line(f"expected {first.expected}, received {first.received}")


