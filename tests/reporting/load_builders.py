"""Builders of hand-made load run results (a uniquely named module, imported by the load report tests)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from coupon_harness.results.load import LoadRunResult, MaxRegression, SampleData, SloResult, TimelinePoint

SCRIPT_EXAMPLE = 'expected a JSON body; received <script>alert("x")</script> & more'
LATENCY = {"min": 3.2, "p50": 41.27, "p90": 120.5, "p95": 180.04, "p99": 260.4, "p99.9": 410.0, "max": 512.9,
           "mean": 55.123456}


def timeline(points: int, *, interval: float = 1.0, errors_every: int = 0, gap_at: int | None = None) -> list[
        TimelinePoint]:
    """`points` intervals of `interval` seconds: 200 requests each (errors on every `errors_every`-th)."""
    result = []
    for index in range(points):
        t_s = (index + 1) * interval
        if gap_at is not None and index == gap_at:
            result.append(TimelinePoint(t_s, 0, 0, 0.0, None, None, None))
            continue
        errors = 5 if errors_every and index % errors_every == 0 else 0
        wave = 1 + 0.5 * math.sin(index / 5)
        result.append(TimelinePoint(t_s=t_s, requests=200, errors=errors, rps=200 / interval,
                                    p50_ms=40.0 * wave, p95_ms=170.0 * wave, p99_ms=250.0 * wave + index % 7))
    return result


def load_result(**overrides: Any) -> LoadRunResult:
    """A passing run: SLOs met, no violation, 30 one-second intervals."""
    fields: dict[str, Any] = {
        "target": "http://127.0.0.1:8080",
        "started_at": "2026-11-26T07:18:36+00:00",
        "duration_s": 30.0,
        "shape": "steady",
        "users": 50,
        "arrival_rate": None,
        "workers": 2,
        "requests": 6000,
        "status_counts": {"200": 5990, "500": 6, "transport": 4},
        "violation_counts": {},
        "violation_examples": {},
        "latency_ms": dict(LATENCY),
        "error_rate": 10 / 6000,
        "entities": 24000,
        "entity_failures": 1200,
        "expected_failures": 1190,
        "unexpected_failures": 10,
        "failure_ratio": 10 / 22800,
        "entity_error_codes": {"8015": 1190, "8001": 10},
        "coupons_issued": 22800,
        "duplicate_codes": 0,
        "timeline": timeline(30),
        "slos": [SloResult("p95", 300.0, "ms", 180.04, True),
                 SloResult("error-rate", 0.01, "ratio", 10 / 6000, True)],
        "generator_cpu_max": 61.0,
        "generator_cpu_mean": 42.5,
        "notes": ["coupons.csv lists every code issued"],
        "files": {"coupons.csv": "reports/load/coupons.csv", "locust_stats.json": "reports/load/locust_stats.json"},
    }
    fields.update(overrides)
    return LoadRunResult(**fields)


def failing_result() -> LoadRunResult:
    """p95 SLO breached, 12 unique-codes violations and 3 others, the generator saturated."""
    return load_result(
        latency_ms={**LATENCY, "p95": 812.4, "p99": 1400.25},
        violation_counts={"unique-codes": 12, "entity-order": 3},
        violation_examples={"unique-codes": "expected a code never issued before; received series 101 code "
                                            "'ABC' a second time",
                            "entity-order": SCRIPT_EXAMPLE},
        duplicate_codes=12,
        slos=[SloResult("p95", 300.0, "ms", 812.4, False),
              SloResult("error-rate", 0.01, "ratio", 10 / 6000, True)],
        generator_cpu_max=97.0, generator_cpu_mean=91.2, generator_saturated=True,
        timeline=timeline(30, errors_every=4, gap_at=10),
    )


def interrupted_result() -> LoadRunResult:
    """Stopped by Ctrl-C before its first interval: no timeline, no latency, nothing issued."""
    return load_result(
        duration_s=0.4, requests=0, status_counts={}, latency_ms={}, error_rate=0.0, entities=0, entity_failures=0,
        expected_failures=0, unexpected_failures=0, failure_ratio=0.0, entity_error_codes={}, coupons_issued=0,
        timeline=[], slos=[SloResult("p95", 300.0, "ms", None, False)], interrupted=True,
        stopped_reason="--max-coupons reached (10000)", notes=[], files={},
    )


def long_result(points: int = 500) -> LoadRunResult:
    return load_result(duration_s=float(points) * 2, requests=200 * points, timeline=timeline(points, interval=2.0,
                                                                                           errors_every=50))


def _synthesized(seed: int, slowdown: float) -> LoadRunResult:
    """A ramp of five steps over 50 one-second intervals (a recorder's deltas merged by the aggregate, as a run
    does), with a response-schema violation and its sample request."""
    import random

    from coupon_harness.runners.load.checker import CheckOutcome
    from coupon_harness.runners.load.recorder import Aggregate, Recorder, step_figures

    @dataclass
    class Step:
        index: int
        users: int
        start_s: float
        end_s: float | None

    start = 1_700_000_000.0
    rng = random.Random(seed)
    recorder = Recorder(1.0)
    aggregate = Aggregate(1.0, frozenset(), None)
    steps = [Step(index, 4 * (index + 1), start + 10 * index, start + 10 * (index + 1)) for index in range(5)]
    requests = errors = 0
    for second in range(50):
        users = 4 * (second // 10 + 1)
        count = users * 10
        for number in range(count):
            failed = rng.random() < 0.002 * users
            latency = rng.lognormvariate(math.log(0.004 * users * slowdown), 0.4)
            # Answers spread over the second, as a run's are (the timeline's rate counts the traffic time each
            # interval covers: answers all at mid-second read the first and last intervals at double the rate).
            recorder.record(CheckOutcome("500" if failed else "200"), latency, "c",
                            at=start + second + (number + 0.5) / count)
            requests += 1
            errors += failed
        aggregate.merge(recorder.take_delta())
    return load_result(
        shape="ramp", users=20, duration_s=50.0, requests=requests, status_counts={"200": requests - errors,
                                                                                   "500": errors},
        error_rate=errors / requests, latency_ms=aggregate.percentiles_ms(), timeline=aggregate.timeline(),
        histograms=aggregate.export_histograms(), steps=step_figures(aggregate, steps, 20, None),
        violation_counts={"no-server-error": errors, "unique-codes": 2},
        violation_examples={"no-server-error": "expected a status below 500; received status 500",
                            "unique-codes": "expected a code never issued before; received series 101 code 'ABC' "
                                            "a second time"},
        violation_samples={"no-server-error": SampleData(
            method="POST", url="http://127.0.0.1:8080/v2/coupon/bulk/issue",
            headers=[["Authorization", "Basic <redacted>"]],
            body='{"seriesIds":[101,105],"customer":{"id":"lh-1a2b3c4d-0-17"}}')},
        slos=[SloResult("p95", 300.0, "ms", aggregate.percentiles_ms().get("p95"), True),
              SloResult("failure-ratio", 0.02, "ratio", 10 / 22800, True)])


def ramp_compared_result() -> LoadRunResult:
    """A ramp run with per-step figures, violation samples and a comparison with an earlier, faster run."""
    from coupon_harness.reporting.load.compare import compare_runs

    current = _synthesized(2, 1.25)
    current.comparison = compare_runs(_synthesized(1, 1.0), current,
                                      [MaxRegression("p95", 0.10, relative=True)], source="reports/load-earlier",
                                      resamples=200)
    return current
