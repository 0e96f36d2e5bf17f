"""junit.xml of a load run: one testcase per --slo, per contract rule checked under load (a failure with the
count, an example and the sample's curl), for --compare (a regression fails), for the load generator, and an
<error> per harness error (exit 2); each testcase's time is the run's duration.

The generator's testcase is never a failure, since the exit code does not fail on it: when it was saturated or
behind, it is <skipped> with the reason (its figures are not the target's).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from coupon_harness.contract.catalog import Need, Rule, RuleId, Severity, UnknownRuleError, get_rule
from coupon_harness.contract.invariants import RESPONSE_RULES
from coupon_harness.reporting.junit_xml import document, finish_suite, new_suite, testcase
from coupon_harness.reporting.load.common import (
    figure_label,
    fmt_count,
    fmt_cpu,
    fmt_measured,
    fmt_ms,
    fmt_ratio,
    fmt_threshold,
    generator_warning,
    load_shape,
    no_sample_text,
    sample_curl,
    slo_label,
    throughput_rps,
    verdict,
)
from coupon_harness.reporting.load.compare import comparison_lines, fmt_limit
from coupon_harness.results.load import LoadRunResult, SloResult

__all__ = ["LOAD_RULES", "SUITE_NAME", "checked_rules", "known_rule", "load_suite", "render_load_junit", "rule_case"]

SUITE_NAME = "coupon-harness load"
#: The rules the load runner judges on every answer (`runners/load/checker.py`: `check_http` for a POST that
#: must be answered 200, then `check_response`) and across answers (the aggregate's Ledger), in that order.
LOAD_RULES: tuple[str, ...] = (
    RuleId.TRANSPORT, RuleId.NO_SERVER_ERROR, RuleId.ACCEPTS_WELL_FORMED, RuleId.JSON_CONTENT_TYPE,
    *RESPONSE_RULES, RuleId.SERIES_ATTRIBUTES_STABLE)


def _slo_case(suite: ET.Element, result: LoadRunResult, slo: SloResult, warning: str | None) -> None:
    figure = figure_label(slo.key)
    measured = f"{figure} {fmt_measured(slo)}, threshold {fmt_threshold(slo)}"
    out = f"{measured}: {'met' if slo.passed else 'not met'}" + (f"\n{warning}" if warning else "")
    failure = None
    if not slo.passed:
        text = (f"SLO {slo_label(slo)} breached over {fmt_count(result.requests)} requests in "
                f"{result.duration_s:.1f}s against {result.target}\n{measured}")
        if result.stopped_reason:
            text += f"\nstopped: {result.stopped_reason}"
        failure = (f"{figure} {fmt_measured(slo)} > {fmt_threshold(slo)}", text)
    testcase(suite, "load.slo", f"SLO {slo_label(slo)}", result.duration_s, failure=failure, kind=slo.key,
             out=None if failure else out)


def checked_rules(violation_counts: Mapping[str, int]) -> tuple[str, ...]:
    """LOAD_RULES, then any other rule that was broken (a rule of a newer load runner)."""
    return (*LOAD_RULES, *sorted(set(violation_counts) - set(LOAD_RULES)))


def known_rule(rule_id: str) -> Rule:
    """The catalog's rule, or a stand-in for one this version does not know."""
    try:
        return get_rule(rule_id)
    except UnknownRuleError:  # a result.json of another version (the load process's own packages)
        return Rule(rule_id, "contract", Severity.ERROR, rule_id, "(a rule this version does not know)")


def _rule_skip(result: LoadRunResult, rule: Rule) -> str | None:
    if result.violation_counts.get(rule.id):
        return None
    if result.requests == 0:
        return "no answer was checked"
    if rule.needs is Need.INVALID_SERIES and result.expected_failures == 0:
        return "no request of the run named a series configured invalid (--invalid-series-ids)"
    return None


def rule_case(suite: ET.Element, kind: str, rule: Rule, time_s: float, examples: Mapping[str, str], *,
              share: str | None, when: str, evidence: str, skipped: str | None = None) -> None:
    """A contract rule checked under load as a testcase of `kind` ("load", "capacity"): a failure when `share` of
    the responses broke it (`when`; its example, then `evidence`), else passed or `skipped`."""
    classname, name = f"{kind}.contract.{rule.group}", f"{rule.id}: {rule.title}"
    if share is None:
        testcase(suite, classname, name, time_s, skipped=skipped)
        return
    example = examples.get(rule.id, "no example recorded")
    text = (f"{rule.id}: {rule.title} (severity {rule.severity.value})\n{rule.statement}\n\n{share} broke it {when}."
            f"\nExample: {example}\n{evidence}")
    testcase(suite, classname, name, time_s, failure=(f"{share} broke it: {example}", text), kind=rule.id)


def _rule_case(suite: ET.Element, result: LoadRunResult, rule_id: str) -> None:
    rule, count = known_rule(rule_id), result.violation_counts.get(rule_id, 0)
    curl = sample_curl(result, rule_id)
    evidence = (f"\nSample request (the first the run saw; redacted, as sent):\n{curl}" if curl is not None
                else f"\nSample request: {no_sample_text(rule_id)}")
    rule_case(suite, "load", rule, result.duration_s, result.violation_examples, when="under load", evidence=evidence,
              share=f"{fmt_count(count)} of {fmt_count(result.requests)} responses" if count else None,
              skipped=_rule_skip(result, rule))


def _comparison_case(suite: ET.Element, result: LoadRunResult) -> None:
    if (comparison := result.comparison) is None:
        return
    text = "\n".join(comparison_lines(comparison))
    failure = None
    if comparison.regressed:
        broken = ", ".join(f"{row.key} {fmt_limit(row.limit)}" if row.limit is not None else row.key
                           for row in comparison.regressions)
        failure = (f"regression against the earlier run beyond --max-regression: {broken}", text)
    testcase(suite, "load", "comparison with the earlier run (--compare)", result.duration_s, failure=failure,
             kind="regression", out=None if failure else text)


def _generator_case(suite: ET.Element, result: LoadRunResult, warning: str | None) -> None:
    late = ("" if result.generator_late_share is None
            else f", sends late {fmt_ratio(result.generator_late_share)}")
    figures = f"generator CPU max {fmt_cpu(result.generator_cpu_max)}, mean {fmt_cpu(result.generator_cpu_mean)}{late}"
    testcase(suite, "load", "load generator kept up (the figures are the target's)", result.duration_s,
             skipped=f"{warning} ({figures})" if warning else None, out=None if warning else figures)


def load_suite(result: LoadRunResult, name: str = SUITE_NAME) -> ET.Element:
    """The run as one <testsuite> (also a part of `run`'s combined junit.xml)."""
    latency = result.latency_ms
    suite = new_suite(name, result.started_at, result.duration_s, [
        ("target", result.target), ("load", load_shape(result)), ("requests", str(result.requests)),
        ("throughput_rps", f"{throughput_rps(result):.2f}"), ("error_rate", f"{result.error_rate:.6g}"),
        *((f"latency_{key}_ms", f"{latency[key]:.3f}") for key in ("p50", "p95", "p99") if key in latency),
        ("coupons_issued", str(result.coupons_issued)), ("duplicate_codes", str(result.duplicate_codes)),
        ("holds", str(result.holds and not result.regressed).lower()),
        ("interrupted", str(result.interrupted).lower()),
        *([("stopped_reason", result.stopped_reason)] if result.stopped_reason else [])])
    for index, error in enumerate(result.harness_errors, start=1):
        testcase(suite, "coupon-harness", f"harness-error:load#{index}", result.duration_s,
                 error=(error, f"{error}\n\nA bug in coupon-harness itself: the run's figures are not to be trusted "
                        "(please report it)."), kind=error.split(":", 1)[0])
    warning = generator_warning(result)
    if result.no_answer is not None:  # no verdict without evidence: a failure of its own, whatever else holds
        testcase(suite, "load", "answers completed within --request-timeout", result.duration_s,
                 failure=(result.no_answer, f"{result.no_answer}: every request hung past its deadline or got no "
                          "whole answer, so no figure of the run measures the target"), kind="no-answer")
    for slo in result.slos:
        _slo_case(suite, result, slo, warning)
    for rule_id in checked_rules(result.violation_counts):
        _rule_case(suite, result, rule_id)
    _comparison_case(suite, result)
    _generator_case(suite, result, warning)
    p95 = fmt_ms(latency.get("p95"))
    lines = [verdict(result), f"target {result.target}, {load_shape(result)}: {fmt_count(result.requests)} requests "
             f"in {result.duration_s:.1f}s, {throughput_rps(result):,.1f} req/s, p95 {p95}, error rate "
             f"{fmt_ratio(result.error_rate)}", *([warning] if warning else []),
             *([f"stopped: {result.stopped_reason}"] if result.stopped_reason else []),
             *(f"note: {note}" for note in result.notes)]
    return finish_suite(suite, lines)


def render_load_junit(result: LoadRunResult) -> str:
    return document(SUITE_NAME, [load_suite(result)])
