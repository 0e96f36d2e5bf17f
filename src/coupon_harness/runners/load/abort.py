"""`--abort-on-fail`: does the run's aggregate already show that it cannot pass? (k6's abortOnFail, in spirit)

An SLO "can no longer be met" when its breach no longer depends on the rest of the run, given the requests
the run is heading for (P):
- `max<=T`: one answer slower than T (the HDR bucket's upper bound). Certain at once.
- `pX<=T`: more answers slower than T than N - rank(pX) at N = ceil(P), the projected total: even if every
  answer still to come were instant, pX stays above T.
- `error-rate<=R`: errors > R * P. `failure-ratio<=R`: valid-series entity failures > R * the entities projected
  the same way (entities so far * P / requests so far).
- contract violations: as many as `--abort-violations`. Certain at once.

P: closed model, the requests so far scaled by the shape's user-seconds; open model, rate * run time; never
fewer than the requests so far. The projected rules wait for `--abort-grace` of traffic and MIN_ANSWERS.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from coupon_harness.runners.load.settings import LoadSettings, Slo
from coupon_harness.runners.load.shapes import users_at

__all__ = ["MIN_ANSWERS", "Evidence", "abort_reason", "allowed_over", "evidence_of", "projected_total",
           "user_seconds"]

#: The projected rules (percentiles, error rate, failure ratio) wait for this many answers (and the grace).
MIN_ANSWERS = 100
PREFIX = "--abort-on-fail"


class _Histogram(Protocol):
    def get_total_count(self) -> int: ...
    def get_max_value(self) -> int: ...
    def get_recorded_iterator(self) -> Iterable[Any]: ...


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the aggregate holds so far (the figures the rules read)."""

    requests: int
    errors: int
    #: Entities of valid series (the failure ratio's denominator) and their failures (its numerator).
    other_entities: int
    unexpected_failures: int
    violations: int
    #: Seconds of traffic so far (first request sent to last answer received).
    elapsed_s: float
    #: The slowest answer, microseconds (the HDR bucket's upper bound); 0 before any answer.
    max_us: int
    #: Per latency SLO threshold (milliseconds): answers slower than it, as the report counts them.
    over_ms: dict[float, int]
    #: A rule id among the violations, to name.
    first_rule: str | None = None


def count_over(histogram: _Histogram, threshold_ms: float) -> int:
    """Answers in buckets whose upper bound (what the report's percentiles show) is above `threshold_ms`."""
    limit = threshold_ms * 1000.0
    return sum(int(item.count_added_in_this_iter_step) for item in histogram.get_recorded_iterator()
               if item.value_iterated_to > limit)


def evidence_of(aggregate: Any, slos: Iterable[Slo]) -> Evidence:
    """The figures of an `Aggregate` (recorder.py) the rules need: one histogram pass per latency SLO."""
    counters = aggregate.counters
    total: _Histogram = aggregate.total
    thresholds = {slo.threshold for slo in slos if slo.unit == "ms" and slo.key != "max"}
    counted = total.get_total_count() > 0
    violations = aggregate.violations
    return Evidence(
        requests=int(counters["requests"]), errors=int(counters["errors"]),
        other_entities=int(counters["other_entities"]), unexpected_failures=int(counters["unexpected_failures"]),
        violations=int(sum(violations.values())), elapsed_s=float(aggregate.traffic_s() or 0.0),
        max_us=int(total.get_max_value()) if counted else 0,
        over_ms={t: count_over(total, t) if counted else 0 for t in thresholds},
        first_rule=max(violations, key=violations.__getitem__) if violations else None)


def user_seconds(settings: LoadSettings, until_s: float) -> float:
    """The integral of the shape's user count from 0 to `until_s` (steps of at most a hundredth of the run)."""
    run = settings.run_time_s
    until = min(max(until_s, 0.0), run)
    if until <= 0:
        return 0.0
    steps = max(1, math.ceil(until / max(run / 100.0, 1e-9)))
    width = until / steps
    return sum(users_at(settings.shape, (i + 0.5) * width, run, settings.users) * width for i in range(steps))


def projected_total(settings: LoadSettings, requests: int, elapsed_s: float) -> float:
    """The requests the run is heading for (the module's P); never fewer than `requests`."""
    if requests <= 0:
        return 0.0
    if settings.arrival_rate:
        return max(float(requests), settings.arrival_rate * settings.run_time_s)
    done = user_seconds(settings, elapsed_s)
    if done <= 0:
        return float(requests)
    return max(float(requests), requests * user_seconds(settings, settings.run_time_s) / done)


def allowed_over(percentile: float, total: float) -> int:
    """How many of `total` answers (rounded up) may be slower than a percentile SLO's threshold (hdrh's rank)."""
    n = math.ceil(total)
    if n <= 0:
        return 0
    rank = max(1, int(percentile / 100.0 * n + 0.5))
    return n - rank


def abort_reason(settings: LoadSettings, evidence: Evidence) -> str | None:
    """Why the run cannot pass any more, or None: violations first, then max, then the SLOs as given."""
    if evidence.violations >= settings.abort_violations > 0:
        rule = f" ({evidence.first_rule})" if evidence.first_rule else ""
        return (f"{PREFIX}: {evidence.violations} contract violation(s){rule} reached --abort-violations "
                f"{settings.abort_violations}")
    for slo in settings.slos:
        if slo.key == "max" and evidence.max_us > slo.threshold * 1000.0:
            return (f"{PREFIX}: {slo} can no longer be met (an answer took {evidence.max_us / 1000.0:,.0f} ms, "
                    f"over {slo.threshold:g} ms)")
    if evidence.requests < MIN_ANSWERS or evidence.elapsed_s < settings.abort_grace_s:
        return None
    total = projected_total(settings, evidence.requests, evidence.elapsed_s)
    heading = f"of the ~{math.ceil(total):,} requests the run is heading for"
    for slo in settings.slos:
        if slo.unit == "ms" and slo.key != "max":
            over = evidence.over_ms.get(slo.threshold, 0)
            allowed = allowed_over(float(slo.key[1:]), total)
            if over > allowed:
                return (f"{PREFIX}: {slo} can no longer be met ({over:,} of at most {allowed:,} answers allowed "
                        f"over {slo.threshold:g} ms, {heading})")
        elif slo.key == "error-rate" and evidence.errors > slo.threshold * total:
            return (f"{PREFIX}: {slo} can no longer be met ({evidence.errors:,} errors, at most "
                    f"{math.floor(slo.threshold * total):,} allowed {heading})")
        elif slo.key == "failure-ratio" and evidence.other_entities:
            entities = evidence.other_entities * total / evidence.requests
            if evidence.unexpected_failures > slo.threshold * entities:
                return (f"{PREFIX}: {slo} can no longer be met ({evidence.unexpected_failures:,} entity failures, "
                        f"at most {math.floor(slo.threshold * entities):,} allowed of the ~{math.ceil(entities):,} "
                        "valid-series entities the run is heading for)")
    return None
