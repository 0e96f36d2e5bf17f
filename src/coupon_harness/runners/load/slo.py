"""Service-level objectives: measured against the run's own figures, pass or fail."""

from __future__ import annotations

from collections.abc import Sequence

from coupon_harness.results.load import SloResult
from coupon_harness.runners.load.settings import Slo

__all__ = ["evaluate"]


def evaluate(slos: Sequence[Slo], latency_ms: dict[str, float], error_rate: float, failure_ratio: float,
             requests: int, answered: int | None = None) -> list[SloResult]:
    """Each SLO measured and judged; with no whole answer (`answered`, default all), every figure is "no data"
    and fails: no verdict rests on zero answers."""
    results = []
    evidence = requests > 0 and (answered is None or answered > 0)
    for slo in slos:
        measured: float | None
        if not evidence:
            measured = None
        elif slo.unit == "ms":
            measured = latency_ms.get(slo.key)
        elif slo.key == "error-rate":
            measured = error_rate
        else:
            measured = failure_ratio
        # No measurement (no answer completed) cannot meet an objective.
        passed = measured is not None and measured <= slo.threshold
        results.append(SloResult(slo.key, slo.threshold, slo.unit, measured, passed))
    return results
