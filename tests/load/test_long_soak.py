"""A long soak stays readable and bounded: the aggregate keeps at most MAX_INTERVALS intervals, merging
adjacent ones exactly (histograms added, counts summed); a synthesized 24 h soak gives a timeline of at most
600 points, summary.json and report.html under 2 MB, a chart that still draws, and a comparison that still
judges noise over the merged intervals. No network: deltas are synthesized."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram
from tests.reporting.load_builders import load_result

from coupon_harness.reporting.load.charts import latency_chart_svg
from coupon_harness.reporting.load.compare import compare_runs
from coupon_harness.reporting.load.document import write_load_reports
from coupon_harness.reporting.load.summary_json import read_earlier
from coupon_harness.results.load import LoadRunResult
from coupon_harness.runners.load.checker import CheckOutcome
from coupon_harness.runners.load.recorder import MAX_INTERVALS, Aggregate, Recorder, new_histogram

START = 1_700_000_000.0
DAY_S = 24 * 3600
#: The recorders' interval of the synthesized soak (a run made with a fine --interval, or plain Locust): 10,800.
INTERVAL_S = 8.0
LIMIT_BYTES = 2_000_000


def _soak(seed: int, per_interval: int = 4) -> tuple[Aggregate, int]:
    """A 24 h soak shipped every 10 minutes, latencies drifting with the time of day."""
    rng = random.Random(seed)
    aggregate = Aggregate(INTERVAL_S, frozenset(), None)
    recorder = Recorder(INTERVAL_S)
    sent = 0
    intervals = int(DAY_S / INTERVAL_S)
    for index in range(intervals):
        at = START + index * INTERVAL_S + 1.0
        base = 0.020 * (1.5 + math.sin(index / intervals * 2 * math.pi))
        for _ in range(per_interval):
            failed = rng.random() < 0.01
            recorder.record(CheckOutcome("500" if failed else "200"), rng.lognormvariate(math.log(base), 0.3), "c", at)
            sent += 1
        if index % 75 == 74:
            aggregate.merge(recorder.take_delta())
    aggregate.merge(recorder.take_delta())
    return aggregate, sent


def _result(aggregate: Aggregate, sent: int) -> LoadRunResult:
    return load_result(duration_s=float(DAY_S), shape="soak", requests=sent, timeline=aggregate.timeline(),
                       histograms=aggregate.export_histograms(), latency_ms=aggregate.percentiles_ms())


def test_merged_intervals_are_exact() -> None:
    """Merging adjacent intervals adds their histograms and counts: the same figures as recording them together."""
    aggregate = Aggregate(1.0, frozenset(), None, max_intervals=10)
    recorder = Recorder(1.0)
    reference: dict[int, HdrHistogram] = {}
    for second in range(40):
        for value in range(1, 30):
            latency = (second * 37 + value * 101) % 500 / 1000 + 0.001
            recorder.record(CheckOutcome("200" if value % 7 else "500"), latency, "c", at=START + second)
            reference.setdefault(int(START + second) // 4, new_histogram()).record_value(int(latency * 1_000_000))
        aggregate.merge(recorder.take_delta())
    assert aggregate.factor == 4 and aggregate.interval_s == 4.0
    timeline = aggregate.timeline()
    assert len(timeline) == 10 and sum(point.requests for point in timeline) == 40 * 29
    assert all(point.requests == 4 * 29 and point.errors == 4 * 4 for point in timeline)
    first = min(aggregate.histograms)
    for point in timeline:
        expected = reference[first + round(point.t_s / 4) - 1]
        assert point.p95_ms == expected.get_value_at_percentile(95) / 1000.0
    assert aggregate.total.get_total_count() == 40 * 29


@pytest.fixture(scope="module")
def day() -> tuple[Aggregate, LoadRunResult]:
    """One synthesized day (~2.7 CPU-s to make), read by both tests below: the second compares it with another."""
    aggregate, sent = _soak(1)
    return aggregate, _result(aggregate, sent)


def test_a_day_long_soak_stays_bounded_and_readable(tmp_path: Path, day: tuple[Aggregate, LoadRunResult]) -> None:
    aggregate, result = day
    sent = result.requests
    assert MAX_INTERVALS // 2 <= len(result.timeline) <= MAX_INTERVALS
    assert sum(point.requests for point in result.timeline) == sent
    assert result.histograms is not None
    assert 30 <= len(result.histograms.intervals) <= MAX_INTERVALS
    assert result.histograms.interval_s == result.timeline[0].t_s == aggregate.interval_s
    written = write_load_reports(result, tmp_path)
    sizes = {name: path.stat().st_size for name, path in written.items()}
    assert all(size < LIMIT_BYTES for size in sizes.values()), sizes
    chart = latency_chart_svg(result)
    assert chart is not None
    paths = re.findall(r'<path [^>]*d="(M[^"]+)"', chart)
    assert paths and all(len(path) > 100 for path in paths), paths[:1]
    summary = json.loads(written["summary.json"].read_text(encoding="utf-8"))
    assert len(summary["timeline"]) == len(result.timeline)


def test_the_comparison_judges_noise_over_merged_intervals(tmp_path: Path,
                                                           day: tuple[Aggregate, LoadRunResult]) -> None:
    write_load_reports(day[1], tmp_path / "earlier")
    read_back = read_earlier(tmp_path / "earlier")
    current, sent_now = _soak(2)
    comparison = compare_runs(read_back, _result(current, sent_now), resamples=200)
    assert comparison.noise_judged, comparison.notes
    rows = {row.key: row for row in comparison.rows}
    assert rows["p95"].low is not None and rows["p95"].verdict in {"within noise", "better", "worse"}
    assert not comparison.regressed
