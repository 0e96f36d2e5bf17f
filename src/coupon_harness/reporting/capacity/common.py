"""What every format of a capacity report says the same way: the headline, the step rows, number formats."""

from __future__ import annotations

from coupon_harness.reporting.load.common import slo_label
from coupon_harness.results.capacity import CapacityResult, CapacityStep

__all__ = ["fmt_ms", "fmt_rate", "gate_text", "headline", "holds", "rate_or_why", "step_verdict"]


def fmt_rate(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.3g}"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.3g} ms"


def step_verdict(step: CapacityStep) -> str:
    """"met", or the SLOs it broke ("broke p95<=300ms (412 ms)")."""
    if step.requests == 0:
        return "nothing answered"
    if step.generator_limited:
        return "the generator was the limit (" + ("its CPU saturated" if step.generator_saturated
                                                   else "behind its schedule") + "): not the target's figures"
    if step.met:
        return "met"
    broken = []
    for slo in step.slos:
        if slo.passed:
            continue
        measured = "-" if slo.measured is None else (fmt_ms(slo.measured) if slo.unit == "ms"
                                                      else f"{slo.measured:.2%}")
        broken.append(f"{slo_label(slo)} ({measured})")
    return "broke " + ", ".join(broken)


def holds(result: CapacityResult) -> bool:
    """The search's gate: a capacity was measured (not the generator's), no contract violation, and at least
    --min-capacity when one is required."""
    if result.generator_limited or result.violation_counts or result.harness_errors or result.interrupted:
        return False
    return result.capacity_rps is not None and (result.min_capacity is None
                                                or result.capacity_rps >= result.min_capacity)


def headline(result: CapacityResult) -> str:
    """One sentence: what the search found."""
    best, broke = result.capacity_rps, result.breaking_rps
    if result.generator_limited:
        return (f"no capacity measured: the load generator was the limit at {fmt_rate(result.generator_limit_rps)} "
                "req/s, before the target broke an SLO (run with --workers N)")
    if result.reached_max_rate:
        return f"capacity at least {fmt_rate(result.max_rate)} req/s: every SLO held up to --max-rate"
    if best is not None and broke is not None:
        return (f"capacity {fmt_rate(best)} req/s: every SLO held there, and broke at {fmt_rate(broke)} req/s")
    if best is None and broke is not None and not result.stopped_reason and not result.interrupted:
        lowest = min(step.rate for step in result.steps)
        return f"no rate met the SLOs: even {fmt_rate(lowest)} req/s broke them"
    reason = result.stopped_reason or "the search ended early"
    if best is not None:
        return f"capacity at least {fmt_rate(best)} req/s (the search stopped: {reason})"
    return f"no capacity measured (the search stopped: {reason})"


def gate_text(result: CapacityResult) -> str:
    """The headline and what else fails the gate (--min-capacity, violations)."""
    text = headline(result)
    minimum = result.min_capacity
    if minimum is not None and result.capacity_rps is not None and result.capacity_rps < minimum:
        text += f"; below --min-capacity {fmt_rate(minimum)} req/s"
    if result.violation_counts:
        text += "; the contract was violated (" + ", ".join(sorted(result.violation_counts)) + ")"
    return text


def rate_or_why(result: CapacityResult, value: float | None) -> str:
    """A rate of the result, or why there is none."""
    if value is not None:
        return f"{fmt_rate(value)} req/s"
    if result.generator_limited:
        return "not measured (the generator was the limit)"
    return "none" if result.steps else "not measured"
