"""The reported duration and rate count traffic: from the first request sent to the last answer received.

A master/worker run once reported 27,974 requests "in 12.3 s (2,276 req/s)" while its timeline held ~9 s of
traffic (~3,100 req/s): the clock started before the workers connected. The rate a report shows must be the
rate its own timeline shows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coupon_harness.results.load import LoadRunResult
from coupon_harness.runners.load.recorder import Aggregate
from load.support import describe, run_against_sandbox

#: Fine intervals: the timeline's span is whole intervals, so its first and last cost at most two of them.
INTERVAL_S = 0.1
RUN_TIME_S = 6.0


def timeline_rate(result: LoadRunResult) -> float:
    """Requests over the intervals with traffic, divided by their span (first to last such interval)."""
    busy = [index for index, point in enumerate(result.timeline) if point.requests]
    assert busy, describe(result)
    span_s = (busy[-1] - busy[0] + 1) * INTERVAL_S
    return sum(result.timeline[index].requests for index in busy) / span_s


@pytest.mark.parametrize("workers", [0, 2], ids=["local", "two-workers"])
def test_reported_rate_matches_the_timeline(tmp_path: Path, workers: int) -> None:
    result = run_against_sandbox(tmp_path / "out", workers=workers, users=10, run_time_s=RUN_TIME_S,
                                 interval_s=INTERVAL_S)
    why = describe(result)
    assert result.requests > 100, why
    assert result.workers == workers, why
    reported = result.requests / result.duration_s
    from_timeline = timeline_rate(result)
    # The duration is the traffic's span (the timeline's), whatever the start-up took: a duration that counted
    # the start-up would read a lower rate than the timeline's.
    assert reported == pytest.approx(from_timeline, rel=0.05), (reported, from_timeline, why)


def delta(first: float | None, last: float | None, requests: int = 1) -> dict[str, object]:
    return {"histograms": {}, "bucket_counts": {}, "counters": {"requests": requests}, "statuses": {},
            "violations": {}, "examples": {}, "error_codes": {}, "coupons": [], "attributes": [],
            "span": None if first is None else [first, last]}


def test_spans_join_deltas_and_keep_long_idle_gaps_out() -> None:
    one_run = Aggregate(1.0, frozenset(), None)
    assert one_run.traffic_s() is None and one_run.first_sent is None
    # Deltas of two workers, out of order, one empty: one span from the first request to the last answer.
    for first, last in ((100.2, 101.0), (100.1, 100.9), (None, None), (101.0, 102.0), (110.0, 110.5)):
        one_run.merge(delta(first, last))
    assert one_run.first_sent == 100.1
    assert one_run.traffic_s() == pytest.approx(10.4)
    # Plain Locust's web UI: a gap without a request in flight longer than bridge_s is idle time between tests.
    web_ui = Aggregate(1.0, frozenset(), None, bridge_s=5.0)
    for first, last in ((100.0, 101.0), (101.0, 102.0), (103.0, 104.0), (200.0, 202.0), (110.0, 110.5)):
        web_ui.merge(delta(first, last))
    assert web_ui.spans == [[100.0, 104.0], [110.0, 110.5], [200.0, 202.0]]
    assert web_ui.traffic_s() == pytest.approx(6.5)
    # A delta without the span (an older worker) changes nothing.
    older = delta(None, None)
    del older["span"]
    web_ui.merge(older)
    assert web_ui.traffic_s() == pytest.approx(6.5)
