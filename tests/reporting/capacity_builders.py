"""Capacity search results built by hand, for the report tests and the browser test."""

from __future__ import annotations

from coupon_harness.results.capacity import CapacityResult, CapacityStep
from coupon_harness.results.load import SloResult

#: (phase, offered rate, answered rate, p50, p95, p99, max) of a target whose knee is ~200 req/s.
_KNEE_STEPS = (("grow", 100.0, 100.0, 102.0, 105.0, 110.0, 138.0),
               ("grow", 200.0, 198.0, 183.0, 247.0, 264.0, 276.0),
               ("grow", 400.0, 197.0, 2031.0, 3432.0, 3545.0, 3566.0),
               ("bisect", 300.0, 196.0, 1352.0, 2210.0, 2310.0, 2333.0),
               ("bisect", 250.0, 187.0, 1035.0, 1639.0, 1744.0, 1767.0),
               ("bisect", 225.0, 194.0, 596.0, 921.0, 943.0, 963.0),
               ("bisect", 212.0, 196.0, 357.0, 571.0, 600.0, 611.0))


def _step(index: int, phase: str, rate: float, answered: float, p50: float, p95: float, p99: float, top: float,
          *, cpu: float = 15.0, behind: bool = False, slo_ms: float = 300.0) -> CapacityStep:
    return CapacityStep(
        index=index, phase=phase, rate=rate, users=int(rate), measured_s=4.0, requests=int(answered * 4),
        achieved_rps=answered, errors=0, error_rate=0.0, failure_ratio=0.0,
        latency_ms={"p50": p50, "p90": (p50 + p95) / 2, "p95": p95, "p99": p99, "max": top},
        slos=[SloResult("p95", slo_ms, "ms", p95, p95 <= slo_ms)], generator_cpu_max=cpu, generator_cpu_mean=cpu * 0.8,
        generator_saturated=cpu >= 90, coupons_issued=int(answered * 4 * 1.5), report_dir=f"/r/step-{index + 1:02d}",
        generator_late_share=0.2 if behind else 0.001, generator_behind=behind)


def knee_result() -> CapacityResult:
    result = CapacityResult(
        target="http://127.0.0.1:8080", started_at="2026-12-01T04:53:22+00:00", duration_s=54.0,
        slos=["p95<=300ms", "error-rate<=0.01"], start_rate=100.0, max_rate=5000.0, step_time_s=4.0, warmup_s=1.0,
        precision=0.1, workers=0, coupons_issued=11901)
    result.steps = [_step(i, *row) for i, row in enumerate(_KNEE_STEPS)]
    result.capacity_rps, result.breaking_rps = 200.0, 212.0
    return result


def generator_limited_result() -> CapacityResult:
    result = CapacityResult(
        target="http://127.0.0.1:8080", started_at="2026-12-01T05:12:05+00:00", duration_s=20.0,
        slos=["p95<=500ms"], start_rate=1000.0, max_rate=64000.0, step_time_s=3.0, warmup_s=1.0, precision=0.05,
        workers=0, coupons_issued=30000)
    result.steps = [_step(0, "grow", 1000.0, 1000.0, 1.2, 2.0, 3.1, 9.0, cpu=49.0, slo_ms=500.0),
                    _step(1, "grow", 2000.0, 1992.9, 2.5, 11.3, 30.0, 61.0, cpu=84.0, slo_ms=500.0),
                    _step(2, "grow", 4000.0, 3972.0, 120.0, 519.2, 700.0, 900.0, cpu=99.8, behind=True,
                          slo_ms=500.0)]
    result.generator_limited, result.generator_limit_rps = True, 3972.0
    result.notes.append("the generator was the limit at 4000 req/s (its CPU saturated (up to 100%); it sent "
                        "3972 req/s) before the target broke an SLO: run the search with --workers N")
    return result
