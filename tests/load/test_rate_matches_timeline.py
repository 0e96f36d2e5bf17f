"""The reported duration and rate count traffic: from the first request sent to the last answer received.

A master/worker run once reported 27,974 requests "in 12.3 s (2,276 req/s)" while its timeline held ~9 s of
traffic (~3,100 req/s): the clock started before the workers connected. The rate a report shows must be the
rate its own timeline shows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coupon_harness.results.load import LoadRunResult
from coupon_harness.runners.load.recorder import Aggregate, new_histogram
from coupon_harness.runners.load.settings import OPEN_ENDED_INTERVAL_S, TIMELINE_POINTS
from load.support import describe, load_settings, run_against_sandbox

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


def _answers(at: list[float], first_sent: float) -> dict[str, object]:
    """A delta of one answer at each time of `at` (1 s intervals, 10 ms latency), the first sent at `first_sent`."""
    histograms: dict[str, str] = {}
    counts: dict[str, list[int]] = {}
    for bucket in sorted({int(t) for t in at}):
        histogram = new_histogram()
        for t in at:
            if int(t) == bucket:
                histogram.record_value(10_000)
        histograms[str(bucket)] = histogram.encode().decode()
        counts[str(bucket)] = [sum(1 for t in at if int(t) == bucket), 0]
    return {**delta(first_sent, max(at), len(at)), "histograms": histograms, "bucket_counts": counts}


def test_partial_first_and_last_intervals_read_the_rate_they_saw() -> None:
    """100 answers/s from 100.5 to 103.25 (wall clock), 1 s intervals: the first interval covers 0.5 s and the
    last 0.25 s; each reads 100 req/s (before: 50 and 25, a drop that never happened)."""
    at = [100.5 + i / 100 for i in range(275)]
    aggregate = Aggregate(1.0, frozenset(), None)
    aggregate.merge(_answers(at, 100.5))
    points = aggregate.timeline()
    assert [point.requests for point in points] == [50, 100, 100, 25]
    assert [point.rps for point in points] == pytest.approx([100.0] * 4, rel=0.05)
    assert sum(point.requests for point in points) == len(at)
    # Idle time between two web-UI tests is no traffic either: the interval that holds the gap counts its spans.
    gap = Aggregate(1.0, frozenset(), None, bridge_s=0.2)
    gap.merge(_answers([200.0 + i / 100 for i in range(40)], 200.0))   # 200.0-200.39
    gap.merge(_answers([200.8 + i / 100 for i in range(20)], 200.8))   # 200.8-200.99
    assert gap.timeline()[0].requests == 60
    assert gap.timeline()[0].rps == pytest.approx(60 / (0.39 + 0.19), rel=0.01)


def test_a_sliver_of_an_interval_reads_its_rate_but_never_a_burst() -> None:
    """100 answers/s from 100.98: the first interval covers 20 ms (2 answers), and reads 100 req/s (not 2/s, nor
    20/s as a floor of a tenth of the interval read it). Five answers in the last 4 ms of an interval (all users
    answered at once) read at most the run's average rate, not 1,250 req/s."""
    steady = Aggregate(1.0, frozenset(), None)
    steady.merge(_answers([100.98 + i / 100 for i in range(150)], 100.98))
    assert steady.timeline()[0].requests == 2
    assert steady.timeline()[0].rps == pytest.approx(100.0, rel=0.05)
    burst = Aggregate(1.0, frozenset(), None)
    burst.merge(_answers([100.996, 100.997, 100.998, 100.999, 100.9995] + [101.01 + i / 100 for i in range(95)],
                         100.996))
    average = burst.requests / (burst.traffic_s() or 1.0)
    assert burst.covered_s(100) == pytest.approx(0.004)
    assert burst.timeline()[0].rps == pytest.approx(average)


def test_an_open_ended_run_starts_fine_and_coarsens_as_it_grows() -> None:
    """Plain Locust (no -t, or a worker, which is never told it): 1 s intervals, however long -t says (before:
    -t unset read as an hour, 30 s intervals, so a 10 s web-UI test was one or two points at a fifth of its
    rate); past twice TIMELINE_POINTS intervals they merge in pairs."""
    settings = load_settings("http://127.0.0.1:1", open_ended=True, run_time_s=3600.0)
    assert settings.timeline_interval() == OPEN_ENDED_INTERVAL_S
    assert settings.timeline_cap() == 2 * TIMELINE_POINTS
    assert load_settings("http://127.0.0.1:1", run_time_s=3600.0).timeline_interval() == 30.0  # `load -t 1h`
    assert load_settings("http://127.0.0.1:1", run_time_s=10.0).timeline_interval() == 1.0
    aggregate = Aggregate(settings.timeline_interval(), frozenset(), None, max_intervals=settings.timeline_cap() or 0)
    aggregate.merge(_answers([1000.0 + i for i in range(600)], 1000.0))  # 10 minutes, one answer a second
    assert aggregate.interval_s == 4.0 and TIMELINE_POINTS <= len(aggregate.timeline()) <= 2 * TIMELINE_POINTS
    rates = [point.rps for point in aggregate.timeline()]
    assert rates[:-1] == pytest.approx([1.0] * (len(rates) - 1))  # the last: 4 answers in its 3 s of traffic
