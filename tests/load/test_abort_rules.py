"""The arithmetic of --abort-on-fail's "can no longer be met" (runners/load/abort.py), without a run."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from coupon_harness.runners.load.abort import (
    MIN_ANSWERS,
    Evidence,
    abort_reason,
    allowed_over,
    count_over,
    evidence_of,
    projected_total,
    user_seconds,
)
from coupon_harness.runners.load.recorder import Aggregate, new_histogram
from coupon_harness.runners.load.settings import LoadSettings, parse_slo


def _settings(*slos: str, **fields: Any) -> LoadSettings:
    base: dict[str, Any] = {"base_url": "http://127.0.0.1:1", "series_ids": (101,), "users": 10,
                            "run_time_s": 60.0, "abort_on_fail": True, "slos": tuple(parse_slo(s) for s in slos)}
    base.update(fields)
    return LoadSettings(**base)


def _evidence(**fields: Any) -> Evidence:
    base: dict[str, Any] = {"requests": 0, "errors": 0, "other_entities": 0, "unexpected_failures": 0,
                            "violations": 0, "elapsed_s": 0.0, "max_us": 0, "over_ms": {}}
    base.update(fields)
    return Evidence(**base)


def test_no_requests_yet_is_no_reason() -> None:
    settings = _settings("p95=300ms", "max=1s", "error-rate=0.01", "failure-ratio=0.02")
    assert abort_reason(settings, _evidence()) is None
    assert projected_total(settings, 0, 0.0) == 0.0
    assert allowed_over(95, 0) == 0


def test_allowed_over_follows_the_reports_percentile_rank() -> None:
    # hdrh: the p95 of N answers is the answer at rank max(1, int(0.95 N + 0.5)): N - rank may be slower.
    assert allowed_over(95, 1000) == 50
    assert allowed_over(95, 999.2) == 50  # rounded up: the total is a projection, the check errs on waiting
    assert allowed_over(99, 100) == 1
    assert allowed_over(50, 1) == 0
    assert allowed_over(95, 10) == 0  # int(9.5 + 0.5) = 10


def test_a_percentile_exactly_at_its_limit_does_not_abort_one_more_does() -> None:
    settings = _settings("p95=300ms")
    # Steady, half the run done: 1,000 requests in 30 s of 60 -> heading for 2,000, of which 100 may be slow.
    at_limit = _evidence(requests=1000, elapsed_s=30.0, over_ms={300.0: 100})
    assert projected_total(settings, 1000, 30.0) == pytest.approx(2000.0)
    assert abort_reason(settings, at_limit) is None
    reason = abort_reason(settings, replace(at_limit, over_ms={300.0: 101}))
    assert reason is not None
    assert reason.startswith("--abort-on-fail: p95<=300ms can no longer be met (101 of at most 100 answers "
                             "allowed over 300 ms"), reason


def test_projected_rules_wait_for_the_grace_and_enough_answers() -> None:
    settings = _settings("p95=300ms", "error-rate=0.01", abort_grace_s=5.0)
    broken = _evidence(requests=MIN_ANSWERS, errors=MIN_ANSWERS, elapsed_s=5.0, over_ms={300.0: MIN_ANSWERS})
    assert abort_reason(settings, broken) is not None
    assert abort_reason(settings, replace(broken, elapsed_s=4.9)) is None
    assert abort_reason(settings, replace(broken, requests=MIN_ANSWERS - 1, errors=MIN_ANSWERS - 1,
                                          over_ms={300.0: MIN_ANSWERS - 1})) is None


def test_max_and_violations_are_certain_at_once() -> None:
    settings = _settings("max=1s")
    slow = _evidence(requests=1, elapsed_s=0.1, max_us=1_000_001)
    reason = abort_reason(settings, slow)
    assert reason is not None and "max<=1000ms can no longer be met" in reason, reason
    assert abort_reason(settings, replace(slow, max_us=1_000_000)) is None  # exactly at the limit holds
    one = _evidence(requests=1, elapsed_s=0.1, violations=1, first_rule="no-server-error")
    reason = abort_reason(settings, one)
    assert reason is not None and "no-server-error" in reason and "--abort-violations 1" in reason, reason
    more = replace(settings, abort_violations=5)
    assert abort_reason(more, replace(one, violations=4)) is None
    assert abort_reason(more, replace(one, violations=5)) is not None


def test_error_rate_and_failure_ratio_against_the_projected_total() -> None:
    settings = _settings("error-rate=0.01", "failure-ratio=0.02")
    # 1,000 requests in 10 s of 60: heading for 6,000, of which 60 may fail.
    figures = _evidence(requests=1000, elapsed_s=10.0, errors=60, other_entities=1500, unexpected_failures=0)
    assert abort_reason(settings, figures) is None  # exactly 1% of the projected total
    reason = abort_reason(settings, replace(figures, errors=61))
    assert reason is not None and "error-rate<=0.01 can no longer be met (61 errors, at most 60" in reason, reason
    # Entities: 1,500 so far -> 9,000 projected, 2% = 180 failures allowed.
    assert abort_reason(settings, replace(figures, unexpected_failures=180)) is None
    reason = abort_reason(settings, replace(figures, unexpected_failures=181))
    assert reason is not None and "failure-ratio<=0.02" in reason and "181 entity failures" in reason, reason
    # No valid-series entity yet: nothing to judge.
    assert abort_reason(settings, replace(figures, other_entities=0, unexpected_failures=5)) is None


def test_at_the_end_of_the_run_the_projection_is_the_count() -> None:
    settings = _settings("error-rate=0.1")
    assert projected_total(settings, 500, 60.0) == 500.0
    assert projected_total(settings, 500, 75.0) == 500.0  # traffic past the run time (users finishing)
    assert abort_reason(settings, _evidence(requests=500, elapsed_s=60.0, errors=50)) is None
    assert abort_reason(settings, _evidence(requests=500, elapsed_s=60.0, errors=51)) is not None


def test_the_open_model_projects_its_schedule() -> None:
    settings = _settings("error-rate=0.01", arrival_rate=100.0)
    assert projected_total(settings, 600, 5.0) == 6000.0
    assert projected_total(settings, 7000, 59.0) == 7000.0  # never fewer than sent


def test_shapes_project_by_user_seconds() -> None:
    ramp = _settings(shape="ramp", users=10)
    # Five steps of 12 s: 2, 4, 6, 8, 10 users -> 360 user-seconds in all, 24 in the first 12 s.
    assert user_seconds(ramp, 60.0) == pytest.approx(360.0)
    assert user_seconds(ramp, 12.0) == pytest.approx(24.0)
    assert projected_total(ramp, 240, 12.0) == pytest.approx(3600.0)  # steady would say 1,200
    steady = _settings(users=10)
    assert projected_total(steady, 240, 12.0) == pytest.approx(1200.0)


def test_count_over_and_evidence_read_the_aggregate_as_the_report_does() -> None:
    aggregate = Aggregate(1.0, frozenset(), None)
    histogram = new_histogram()
    for micros in (1_000, 299_000, 300_000, 300_100, 301_000, 5_000_000):
        histogram.record_value(micros)
    # 300,000 us falls in a bucket whose upper bound is 300,031: the report's percentile there reads 300.031 ms.
    assert count_over(histogram, 300.0) == 4
    assert count_over(histogram, 300.1) == 3
    aggregate.total = histogram
    aggregate.counters.update({"requests": 6, "errors": 2, "other_entities": 6, "unexpected_failures": 1})
    aggregate.violations.update({"no-server-error": 2, "unique-codes": 1})
    aggregate.spans = [[100.0, 103.5]]
    evidence = evidence_of(aggregate, (parse_slo("p95=300ms"), parse_slo("max=1s")))
    assert evidence.requests == 6 and evidence.errors == 2 and evidence.violations == 3
    assert evidence.first_rule == "no-server-error"
    assert evidence.elapsed_s == pytest.approx(3.5)
    assert evidence.over_ms == {300.0: 4}
    assert evidence.max_us >= 5_000_000
    empty = evidence_of(Aggregate(1.0, frozenset(), None), (parse_slo("p95=300ms"),))
    assert empty == _evidence(over_ms={300.0: 0})


def test_a_run_stopped_by_abort_on_fail_exits_1_even_if_its_last_figures_pass() -> None:
    """The answers in flight when the run stopped may bring its figures back under the SLO: it stopped because it
    could not pass, and a pipeline must not read a pass."""
    from coupon_harness.cli.load_cmd import load_exit_code
    from coupon_harness.results.load import LoadRunResult, SloResult

    result = LoadRunResult(
        target="http://127.0.0.1:9", started_at="", duration_s=5.0, shape="steady", users=1, arrival_rate=None,
        workers=0, requests=200, status_counts={"200": 200}, violation_counts={}, violation_examples={},
        latency_ms={"p95": 290.0}, error_rate=0.0, entities=200, entity_failures=0, expected_failures=0,
        unexpected_failures=0, failure_ratio=0.0, entity_error_codes={}, coupons_issued=200, duplicate_codes=0,
        slos=[SloResult("p95", 300.0, "ms", 290.0, True)])
    assert load_exit_code(result) == 0
    result.stopped_reason = "--abort-on-fail: p95<=300ms can no longer be met (12 of at most 10 answers ...)"
    assert load_exit_code(result) == 1
    result.stopped_reason = "--max-coupons reached (200)"
    assert load_exit_code(result) == 0
