"""junit.xml of a capacity search: one testcase for the gate as the exit code judges it (a failure below the SLOs
or --min-capacity, an <error> when nothing of the target was measured, skipped when interrupted) and one per
contract rule checked under load. The steps are suite properties (`step.01` ...): a step that breaks an SLO is
how the search finds the knee, not a failure.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from coupon_harness.reporting.capacity.common import fmt_ms, fmt_rate, gate_text, headline, step_verdict
from coupon_harness.reporting.junit_xml import document, finish_suite, new_suite, testcase
from coupon_harness.reporting.load.junit import checked_rules, known_rule, rule_case
from coupon_harness.results.capacity import CapacityResult, CapacityStep

__all__ = ["SUITE_NAME", "capacity_suite", "render_capacity_junit"]

SUITE_NAME = "coupon-harness capacity"


def _step_text(step: CapacityStep) -> str:
    latency = step.latency_ms
    return (f"{step.phase} {fmt_rate(step.rate)} req/s offered, {fmt_rate(step.achieved_rps)} answered, p95 "
            f"{fmt_ms(latency.get('p95'))}, error rate {step.error_rate:.2%}: {step_verdict(step)}")


def _gate(result: CapacityResult) -> tuple[str, tuple[str, str] | None, tuple[str, str] | None, str | None]:
    """(the gate's name, failure, error, skipped) as the exit code judges the search."""
    name = ("capacity" + (f" >= --min-capacity {fmt_rate(result.min_capacity)} req/s"
                          if result.min_capacity is not None else " found") + f" (SLOs {', '.join(result.slos)})")
    text = gate_text(result)
    steps = "\n".join(f"step {step.index + 1}: {_step_text(step)}" for step in result.steps) or "no step ran"
    detail = f"{text}\n\n{steps}"
    if result.harness_errors:
        return name, None, (f"harness error: {result.harness_errors[0]}", detail), None
    if result.interrupted:
        return name, None, None, f"interrupted: {result.stopped_reason or text}"
    if result.generator_limited:
        return name, None, (headline(result), detail), None
    if result.capacity_rps is None:
        if result.breaking_rps is not None:
            return name, (text, detail), None, None
        return name, None, (text, detail), None
    if result.min_capacity is not None and result.capacity_rps < result.min_capacity:
        return name, (text, detail), None, None
    return name, None, None, None


def _rule_case(suite: ET.Element, result: CapacityResult, rule_id: str) -> None:
    count = result.violation_counts.get(rule_id, 0)
    steps = [f"step {step.index + 1} ({fmt_rate(step.rate)} req/s): {step.violation_counts[rule_id]:,}, sample "
             f"request in {step.report_dir or 'its folder'}/report.md"
             for step in result.steps if step.violation_counts.get(rule_id)]
    rule_case(suite, "capacity", known_rule(rule_id), result.duration_s, result.violation_examples,
              share=f"{count:,} responses" if count else None, when="during the search", evidence="\n".join(steps),
              skipped=None if any(step.requests for step in result.steps) else "no answer was checked")


def capacity_suite(result: CapacityResult) -> ET.Element:
    suite = new_suite(SUITE_NAME, result.started_at, result.duration_s, [
        ("target", result.target), ("slos", ", ".join(result.slos)),
        ("capacity_rps", "" if result.capacity_rps is None else f"{result.capacity_rps:g}"),
        ("breaking_rps", "" if result.breaking_rps is None else f"{result.breaking_rps:g}"),
        *([("min_capacity_rps", f"{result.min_capacity:g}")] if result.min_capacity is not None else []),
        ("generator_limited", str(result.generator_limited).lower()),
        *([("generator_limit_rps", f"{result.generator_limit_rps:g}")] if result.generator_limit_rps else []),
        ("verdict", result.verdict), ("coupons_issued", str(result.coupons_issued)),
        ("duplicate_codes", str(result.duplicate_codes)), ("interrupted", str(result.interrupted).lower()),
        *((f"step.{step.index + 1:02d}", _step_text(step)) for step in result.steps)])
    name, failure, error, skipped = _gate(result)
    testcase(suite, "capacity", name, result.duration_s, failure=failure, error=error, skipped=skipped,
             kind="capacity", out=None if failure or error else gate_text(result))
    for rule_id in checked_rules(result.violation_counts):
        _rule_case(suite, result, rule_id)
    lines = [gate_text(result), *(f"stopped: {reason}" for reason in [result.stopped_reason] if reason),
             *(f"note: {note}" for note in result.notes)]
    return finish_suite(suite, lines)


def render_capacity_junit(result: CapacityResult) -> str:
    return document(SUITE_NAME, [capacity_suite(result)])
