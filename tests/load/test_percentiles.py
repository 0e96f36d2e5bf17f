"""The recorder's percentiles against an exact computation over the same samples."""

from __future__ import annotations

import math
import random

import pytest

from coupon_harness.runners.load.checker import CheckOutcome
from coupon_harness.runners.load.recorder import Aggregate, Recorder

SAMPLES = 50_000
#: HDR histogram with 3 significant digits: a recorded value is off by at most 0.1% (plus the 1 us unit).
PRECISION = 0.001
#: Percentiles as tenths of a percent, so that the nearest rank is computed in integers.
PERMILLE = {"p50": 500, "p90": 900, "p95": 950, "p99": 990, "p99.9": 999}


def _nearest_rank(ordered: list[int], permille: int) -> int:
    rank = max(1, -(-permille * len(ordered) // 1000))  # ceil(p * N), in integers
    return ordered[rank - 1]


def _close(measured_ms: float, exact_us: int) -> bool:
    return abs(measured_ms * 1000.0 - exact_us) <= exact_us * PRECISION + 1


@pytest.mark.parametrize("deltas", [1, 7])
def test_percentiles_match_exact_nearest_rank(deltas: int) -> None:
    rng = random.Random(20240611)
    # Lognormal with a median of ~20 ms and a long tail (p99.9 ~ 250 ms), in seconds.
    latencies = [rng.lognormvariate(math.log(0.020), 0.85) for _ in range(SAMPLES)]
    aggregate = Aggregate(interval_s=1.0, generic_series=frozenset(), coupons_csv=None)
    recorders = [Recorder(interval_s=1.0) for _ in range(deltas)]
    start = 1_700_000_000.0
    for index, latency in enumerate(latencies):
        # Spread over 25 one-second buckets and over `deltas` generators, shipped in several deltas.
        recorders[index % deltas].record(CheckOutcome("200"), latency, f"c{index}", at=start + index / 2000)
        if index % 9_999 == 0:
            for recorder in recorders:
                aggregate.merge(recorder.take_delta())
    for recorder in recorders:
        aggregate.merge(recorder.take_delta())

    ordered = sorted(int(latency * 1_000_000) for latency in latencies)
    figures = aggregate.percentiles_ms()
    assert aggregate.requests == SAMPLES
    assert aggregate.total.get_total_count() == SAMPLES
    mismatches = {}
    for key, permille in PERMILLE.items():
        exact = _nearest_rank(ordered, permille)
        if not _close(figures[key], exact):
            mismatches[key] = (figures[key], exact / 1000.0)
    for key, exact in (("min", ordered[0]), ("max", ordered[-1])):
        if not _close(figures[key], exact):
            mismatches[key] = (figures[key], exact / 1000.0)
    mean = sum(ordered) / SAMPLES
    if abs(figures["mean"] * 1000.0 - mean) > mean * PRECISION + 1:
        mismatches["mean"] = (figures["mean"], mean / 1000.0)
    assert mismatches == {}, f"(measured ms, exact ms): {mismatches}"

    timeline = aggregate.timeline()
    assert sum(point.requests for point in timeline) == SAMPLES
    assert len(timeline) == 25


def test_sub_millisecond_latencies_keep_their_resolution() -> None:
    """Locust's own stats round below 100 ms to whole milliseconds; the HDR figures must not."""
    recorder = Recorder(interval_s=1.0)
    values_us = [150 + (i % 500) for i in range(10_000)]  # 150..649 us
    for value in values_us:
        recorder.record(CheckOutcome("200"), value / 1_000_000, "c", at=1.0)
    aggregate = Aggregate(interval_s=1.0, generic_series=frozenset(), coupons_csv=None)
    aggregate.merge(recorder.take_delta())
    ordered = sorted(values_us)
    figures = aggregate.percentiles_ms()
    for key, permille in PERMILLE.items():
        assert _close(figures[key], _nearest_rank(ordered, permille)), (key, figures[key])
    assert _close(figures["min"], 150) and _close(figures["max"], 649)
