"""What every format of a contract run's report shares: rule order, counts, the verdict, finding details."""

from __future__ import annotations

from dataclasses import dataclass

from coupon_harness.contract.catalog import Severity, rules
from coupon_harness.reporting.common import one_line, plural, shorten
from coupon_harness.results.contract import ContractRunResult, Finding, HarnessFault, Outcome, RuleResult

__all__ = [
    "OUTCOME_ORDER",
    "FindingView",
    "count_outcomes",
    "fault_headline",
    "finding_views",
    "first_finding_after",
    "first_finding_summary",
    "ordered_rules",
    "plain_finding",
    "problem_rules",
    "replay_command",
    "summary_line",
    "verdict",
]

OUTCOME_ORDER = (Outcome.PASSED, Outcome.FAILED, Outcome.WARNED, Outcome.NOT_RUN)
_SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.ERROR: 1, Severity.WARNING: 2}


def ordered_rules(result: ContractRunResult) -> list[RuleResult]:
    """The rule results in catalog order; rules the catalog does not know come last, as given."""
    index = {rule.id: position for position, rule in enumerate(rules())}
    return sorted(result.rules, key=lambda r: index.get(r.rule.id, len(index)))


def problem_rules(result: ContractRunResult) -> list[RuleResult]:
    """Failed rules (most severe first), then warned rules, each group in catalog order."""
    ordered = ordered_rules(result)
    failed = sorted((r for r in ordered if r.outcome is Outcome.FAILED),
                    key=lambda r: _SEVERITY_RANK.get(r.rule.severity, 3))
    return failed + [r for r in ordered if r.outcome is Outcome.WARNED]


def count_outcomes(result: ContractRunResult) -> dict[Outcome, int]:
    counts = dict.fromkeys(OUTCOME_ORDER, 0)
    for rule_result in result.rules:
        counts[rule_result.outcome] += 1
    return counts


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
    parts = ", ".join(f"{counts[outcome]} {outcome.value}" for outcome in OUTCOME_ORDER)
    return f"{plural(len(result.rules), 'rule')}: {parts}"


def fault_headline(fault: HarnessFault, seed: int) -> str:
    """One line that tells a harness bug from a finding and says where its traceback is."""
    return (f"Harness error in pass '{fault.stage}' (a bug in coupon-harness, not a finding): "
            f"{one_line(fault.error)}; traceback in {fault.file_name}; seed {seed}")


def first_finding_after(result: ContractRunResult) -> str | None:
    """'after 0.4 s (scenario/classics)': when the first finding of a rule that fails the gate came, and
    where; None when there was none."""
    if result.first_finding_s is None:
        return None
    source = f" ({result.first_finding_source})" if result.first_finding_source else ""
    seconds = result.first_finding_s
    return f"after {seconds:.{1 if seconds >= 0.1 else 3}f} s{source}"


def replay_command(seed: int) -> str:
    return f"coupon-harness contract --seed {seed}"


@dataclass(frozen=True, slots=True)
class FindingView:
    """A finding with what every report derives from it (curl, replay command, response line)."""

    finding: Finding
    seed: int
    replay: str
    curl: str | None
    response: str | None

    @property
    def occurrences(self) -> str:
        return plural(self.finding.occurrences, "occurrence")


def finding_views(result: ContractRunResult, rule_result: RuleResult) -> list[FindingView]:
    """The rule's findings; a finding without its own seed replays with the run's seed."""
    views = []
    for finding in rule_result.findings:
        seed = finding.seed if finding.seed is not None else result.seed
        response = None
        if finding.response_status is not None or finding.response_excerpt:
            status = str(finding.response_status) if finding.response_status is not None else "no status"
            response = f"{status} {finding.response_excerpt}".rstrip()
        curl = finding.request.curl if finding.request is not None else None
        views.append(FindingView(finding, seed, replay_command(seed), curl, response))
    return views


def plain_finding(view: FindingView, *, indent: str = "  ", limit: int | None = None) -> str:
    """The finding as aligned plain-text lines: probe class (when set), expected, received, response, where,
    seed, curl.

    With `limit`, expected, received and response are cut to one line of at most `limit` characters.
    """
    finding = view.finding

    def cut(text: str) -> str:
        return text if limit is None else shorten(one_line(text), limit)

    lines = [
        *([("probe", cut(finding.probe))] if finding.probe else []),
        ("expected", cut(finding.expected)),
        ("received", cut(finding.received)),
        *([("response", cut(view.response))] if view.response else []),
        ("found in", f"{finding.source} ({view.occurrences})"),
        ("seed", f"{view.seed} (replay: {view.replay})"),
        ("curl", view.curl or "(no request recorded)"),
    ]
    return "\n".join(f"{indent}{label + ':':<10}{value}" for label, value in lines)


def first_finding_summary(rule_result: RuleResult) -> str:
    """'expected X, received Y' of the first finding, on one line."""
    if not rule_result.findings:
        return f"rule {rule_result.outcome.value} (no finding recorded)"
    first = rule_result.findings[0]
    return one_line(f"expected {first.expected}, received {first.received}")


