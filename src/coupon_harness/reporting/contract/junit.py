"""JUnit XML: one testcase per rule, for the test report widgets of GitLab, Jenkins and the like; a harness
error (a bug in coupon-harness inside one pass) is one more testcase, `harness-error:<pass>`, with an <error>."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from pathlib import Path

from coupon_harness.reporting.common import atomic_write_text, one_line, shorten
from coupon_harness.reporting.contract.common import (
    baseline_groups,
    baseline_text,
    count_outcomes,
    fault_headline,
    finding_views,
    first_finding_after,
    first_finding_summary,
    ordered_rules,
    plain_finding,
    replay_command,
    summary_line,
    verdict,
)
from coupon_harness.reporting.junit_xml import timestamp, xml_safe
from coupon_harness.results.contract import ContractRunResult, HarnessFault, Outcome, RuleResult

__all__ = ["SUITE_NAME", "render_junit", "write_junit"]

SUITE_NAME = "coupon-harness contract"
_MESSAGE_LIMIT = 500
def _findings_text(result: ContractRunResult, rule_result: RuleResult) -> str:
    rule = rule_result.rule
    header = (f"{rule.id}: {rule.title} (severity {rule.severity.value}, {rule_result.outcome.value}, "
              f"{rule_result.checks} checks)\n{rule.statement}")
    views = finding_views(result, rule_result)
    if not views:
        return f"{header}\n\nNo finding recorded."
    blocks = [
        f"Finding {number} of {len(views)}: {view.finding.key}\n{plain_finding(view)}"
        for number, view in enumerate(views, start=1)
    ]
    return "\n\n".join([header, *blocks])


def _set(element: ET.Element, **attributes: str) -> None:
    for name, value in attributes.items():
        element.set(name, xml_safe(value))


def _testcase(suite: ET.Element, result: ContractRunResult, rule_result: RuleResult) -> None:
    rule = rule_result.rule
    case = ET.SubElement(suite, "testcase")
    _set(case, classname=f"contract.{rule.group}", name=f"{rule.id}: {rule.title}", time="0")
    if rule_result.outcome is Outcome.FAILED:
        failure = ET.SubElement(case, "failure")
        _set(failure, message=shorten(first_finding_summary(rule_result), _MESSAGE_LIMIT), type=rule.id)
        failure.text = xml_safe(_findings_text(result, rule_result))
    elif rule_result.outcome is Outcome.NOT_RUN:
        skipped = ET.SubElement(case, "skipped")
        _set(skipped, message=one_line(rule_result.reason or "not run (no reason given)"))
    elif rule_result.outcome is Outcome.WARNED:
        out = ET.SubElement(case, "system-out")
        out.text = xml_safe(f"WARNING (does not fail the gate)\n{_findings_text(result, rule_result)}")
    elif rule_result.outcome is Outcome.KNOWN:
        out = ET.SubElement(case, "system-out")
        out.text = xml_safe("KNOWN: every finding is in the baseline (does not fail the gate)\n"
                             f"{_findings_text(result, rule_result)}")


def _fault_testcase(suite: ET.Element, result: ContractRunResult, fault: HarnessFault) -> None:
    case = ET.SubElement(suite, "testcase")
    _set(case, classname="coupon-harness", name=f"harness-error:{fault.stage}", time="0")
    error = ET.SubElement(case, "error")
    _set(error, message=shorten(one_line(fault.error), _MESSAGE_LIMIT), type=fault.error.split(":", 1)[0])
    error.text = xml_safe(f"{fault_headline(fault, result.seed)}\n\n{fault.traceback}")


def render_junit(result: ContractRunResult) -> str:
    """The JUnit XML document as a string."""
    counts = count_outcomes(result)
    duration = f"{result.duration_s:.3f}"
    totals = {
        "tests": str(len(result.rules) + len(result.faults)),
        "failures": str(counts[Outcome.FAILED]),
        "errors": str(len(result.faults)),
        "skipped": str(counts[Outcome.NOT_RUN]),
        "time": duration,
    }
    root = ET.Element("testsuites")
    _set(root, name=SUITE_NAME, **totals)
    suite = ET.SubElement(root, "testsuite")
    _set(suite, name=SUITE_NAME, **totals, timestamp=timestamp(result.started_at),
         hostname=socket.gethostname() or "localhost")
    properties = ET.SubElement(suite, "properties")
    for name, value in (("target", result.target), ("seed", str(result.seed)),
                        ("requests", str(result.requests)), ("interrupted", str(result.interrupted).lower()),
                        ("holds", str(result.holds).lower()),
                        ("warned", str(counts[Outcome.WARNED])),
                        ("known", str(counts[Outcome.KNOWN])),
                        ("replay", replay_command(result.seed, result.shape)),
                        ("harness_errors", str(len(result.faults))),
                        *([("first_finding_s", str(result.first_finding_s))]
                          if result.first_finding_s is not None else []),
                        *([("first_finding_source", result.first_finding_source)]
                          if result.first_finding_source else [])):
        _set(ET.SubElement(properties, "property"), name=name, value=value)
    for fault in result.faults:
        _fault_testcase(suite, result, fault)
    for rule_result in ordered_rules(result):
        _testcase(suite, result, rule_result)
    out = ET.SubElement(suite, "system-out")
    first = first_finding_after(result)
    lines = [f"{verdict(result)}", *(fault_headline(fault, result.seed) for fault in result.faults),
             summary_line(result), f"target {result.target}, seed {result.seed}, "
             f"{result.requests} requests in {result.duration_s:.1f}s",
             *([f"first finding {first}"] if first else []),
             *(f"pass {name}: {sent} requests" for name, sent in result.passes),
             *(f"note: {note}" for note in result.notes),
             f"replay: {replay_command(result.seed, result.shape)}"]
    groups = baseline_groups(result)
    if groups is not None:
        lines += baseline_text(groups)
    out.text = xml_safe("\n".join(lines))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(result: ContractRunResult, path: Path) -> None:
    """Write the JUnit XML report to `path` (atomically)."""
    atomic_write_text(path, render_junit(result))
