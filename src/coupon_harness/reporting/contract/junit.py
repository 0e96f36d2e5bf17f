"""JUnit XML: one testcase per rule, for the test report widgets of GitLab, Jenkins and the like; a harness
error (a bug in coupon-harness inside one pass) is one more testcase, `harness-error:<pass>`, with an <error>."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from coupon_harness.reporting.contract.common import (
    BaselineGroups,
    FindingView,
    baseline_entries,
    baseline_groups,
    count_outcomes,
    finding_views,
    first_finding_after,
    first_finding_summary,
    ordered_rules,
    replay_command,
    summary_line,
    verdict,
)
from coupon_harness.reporting.junit_xml import document, finish_suite, new_suite, testcase
from coupon_harness.reporting.text import one_line
from coupon_harness.results.contract import ContractRunResult, HarnessFault, Outcome, RuleResult

__all__ = ["SUITE_NAME", "contract_suite", "render_junit"]

SUITE_NAME = "coupon-harness contract"


def _fault_headline(fault: HarnessFault, seed: int) -> str:
    """One line that tells a harness bug from a finding and says where its traceback is."""
    return (f"Harness error in pass '{fault.stage}' (a bug in coupon-harness, not a finding): "
            f"{one_line(fault.error)}; traceback in {fault.file_name}; seed {seed}")


def _plain_finding(view: FindingView) -> str:
    """The finding as aligned plain-text lines."""
    finding = view.finding
    status = f" ({finding.baseline.value} in the baseline)" if finding.baseline is not None else ""
    lines = [
        *([("probe", finding.probe)] if finding.probe else []),
        ("expected", finding.expected),
        ("received", finding.received),
        *([("response", view.response)] if view.response else []),
        ("found in", f"{finding.source} ({view.occurrences})"),
        ("id", f"{finding.fingerprint}{status}"),
        ("seed", str(view.seed)),
        ("replay", view.replay),
        *([("before", f"{len(finding.sequence)} earlier request(s) (coupon-harness replay sends them)")]
          if finding.sequence else []),
        ("curl", finding.curl or "(no request recorded)"),
    ]
    return "\n".join(f"  {label + ':':<10}{value}" for label, value in lines)


def _baseline_text(groups: BaselineGroups) -> list[str]:
    """The baseline groups as plain lines (the suite's system-out)."""
    head = (f"Baseline {groups.file}: {len(groups.new)} new, {len(groups.known)} known, {len(groups.fixed)} fixed"
            + (" (the file was rewritten from this run: --baseline-update)" if groups.updated else ""))
    return [head, *(f"  {group + ':':<7}{entry}{note}" for group, entry, note in baseline_entries(groups)),
            *(f"  warning: {w}" for w in groups.warnings)]


def _findings_text(result: ContractRunResult, rule_result: RuleResult) -> str:
    rule = rule_result.rule
    header = (f"{rule.id}: {rule.title} (severity {rule.severity.value}, {rule_result.outcome.value}, "
              f"{rule_result.checks} checks)\n{rule.statement}")
    views = finding_views(result, rule_result)
    if not views:
        return f"{header}\n\nNo finding recorded."
    blocks = [
        f"Finding {number} of {len(views)}: {view.finding.key}\n{_plain_finding(view)}"
        for number, view in enumerate(views, start=1)
    ]
    return "\n\n".join([header, *blocks])


def _testcase(suite: ET.Element, result: ContractRunResult, rule_result: RuleResult) -> None:
    rule, outcome = rule_result.rule, rule_result.outcome
    text = _findings_text(result, rule_result) if outcome in (Outcome.FAILED, Outcome.WARNED, Outcome.KNOWN) else ""
    testcase(suite, f"contract.{rule.group}", f"{rule.id}: {rule.title}", 0.0, kind=rule.id,
             failure=(first_finding_summary(rule_result), text) if outcome is Outcome.FAILED else None,
             skipped=(rule_result.reason or "not run (no reason given)") if outcome is Outcome.NOT_RUN else None,
             out={Outcome.WARNED: "WARNING (does not fail the gate)",
                  Outcome.KNOWN: "KNOWN: every finding is in the baseline (does not fail the gate)"}.get(outcome, "")
             + f"\n{text}" * (outcome in (Outcome.WARNED, Outcome.KNOWN)))


def contract_suite(result: ContractRunResult) -> ET.Element:
    """The <testsuite> of a contract run: a harness error (a bug in one pass) first, then one testcase per rule."""
    counts = count_outcomes(result)
    suite = new_suite(SUITE_NAME, result.started_at, result.duration_s, (
        ("target", result.target), ("seed", str(result.seed)), ("requests", str(result.requests)),
        ("interrupted", str(result.interrupted).lower()), ("holds", str(result.holds).lower()),
        ("warned", str(counts[Outcome.WARNED])), ("known", str(counts[Outcome.KNOWN])),
        ("replay", replay_command(result.seed, result.shape)), ("harness_errors", str(len(result.faults))),
        *([("first_finding_s", str(result.first_finding_s))] if result.first_finding_s is not None else []),
        *([("first_finding_source", result.first_finding_source)] if result.first_finding_source else [])))
    for fault in result.faults:
        testcase(suite, "coupon-harness", f"harness-error:{fault.stage}", 0.0, kind=fault.error.split(":", 1)[0],
                 error=(fault.error, f"{_fault_headline(fault, result.seed)}\n\n{fault.traceback}"))
    for rule_result in ordered_rules(result):
        _testcase(suite, result, rule_result)
    first = first_finding_after(result)
    groups = baseline_groups(result)
    return finish_suite(suite, [
        verdict(result), *(_fault_headline(fault, result.seed) for fault in result.faults), summary_line(result),
        f"target {result.target}, seed {result.seed}, {result.requests} requests in {result.duration_s:.1f}s",
        *([f"first finding {first}"] if first else []), *(f"pass {name}: {sent} requests" for name, sent in
                                                          result.passes),
        *(f"note: {note}" for note in result.notes), f"replay: {replay_command(result.seed, result.shape)}",
        *(_baseline_text(groups) if groups is not None else [])])


def render_junit(result: ContractRunResult) -> str:
    return document(SUITE_NAME, [contract_suite(result)])
