"""What every load report format shares: SLO labels, number formats, the verdict and its causes, downsampling."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from coupon_harness.reporting.charts import finite
from coupon_harness.reporting.text import plural
from coupon_harness.results.load import LoadRunResult, SampleData, SloResult, TimelinePoint
from coupon_harness.results.request import RequestSample

__all__ = ["ACROSS_ANSWERS", "FIGURE_LABELS", "TimelineRow", "causes", "downsample", "figure_label", "finite",
           "fmt_count", "fmt_cpu", "fmt_measured", "fmt_ms", "fmt_ratio", "fmt_threshold", "generator_warning",
           "interval_s", "load_shape", "no_sample_text", "sample_curl", "slo_label", "sorted_violations", "span_label",
           "throughput_rps", "verdict"]

_BEHIND_WARNING = ("Load generator behind its schedule ({share} of its sends left late): latencies include the "
                   "generator's own delay. Add workers or give it a machine of its own, then rerun before trusting "
                   "these figures.")
_SATURATION_WARNING = ("Load generator saturated (CPU max {cpu}): latencies measure the generator, not the target. "
                       "Add workers or lower the load, then rerun before trusting these figures.")


#: The one name of each ratio, in every format and in the SLO table: `failure-ratio` is what the SLO of that key
#: reads (LoadRunResult.failure_ratio); the failureCount ratio counts every failure, expected ones included.
FIGURE_LABELS = {
    "error-rate": "error-rate (requests not 200 or breaking the contract / all requests)",
    "failure-ratio": "failure-ratio (unexpected failed entities / entities of valid series)",
    "failure-count-ratio": "failureCount ratio, all (Σ failureCount / Σ totalCount, expected failures included)",
}
#: What a violation of a rule decided across answers shows instead of a request (no single request replays it).
ACROSS_ANSWERS = "decided across answers (the whole run): no single request replays it"
_ACROSS_RULES = frozenset({"unique-codes", "series-attributes-stable"})


def figure_label(key: str) -> str:
    """The name of the figure an SLO (or a comparison row) of `key` reads: 'p95 latency', FIGURE_LABELS[key]."""
    return FIGURE_LABELS.get(key, f"{key} latency")


def sample_curl(result: LoadRunResult, rule: str) -> str | None:
    """The curl command of the rule's sample request (redacted when recorded), or None when it has none."""
    sample: SampleData | None = result.violation_samples.get(rule)
    if sample is None:
        return None
    try:
        return RequestSample.from_dict(sample).curl
    except (KeyError, TypeError, ValueError):
        return None


def no_sample_text(rule: str) -> str:
    """Why a rule's violation has no sample request."""
    return ACROSS_ANSWERS if rule in _ACROSS_RULES else "no request recorded"


def fmt_ms(value: float | None) -> str:
    if (value := finite(value)) is None:
        return "—"
    return f"{value:,.2f} ms" if value < 10 else f"{value:,.1f} ms"


def fmt_ratio(value: float | None) -> str:
    """'0.0123 (1.23%)'; '0 (0%)'."""
    if (value := finite(value)) is None:
        return "—"
    return f"{value:.4g} ({value * 100:.3g}%)"


def fmt_count(value: int) -> str:
    return f"{value:,}"


def fmt_cpu(value: float) -> str:
    return f"{value:.0f}%" if finite(value) is not None else "—"


def slo_label(slo: SloResult) -> str:
    """'p95<=300ms', 'error-rate<=0.01' (the way --slo gates are written back)."""
    return f"{slo.key}<={slo.threshold:g}{'ms' if slo.unit == 'ms' else ''}"


def fmt_threshold(slo: SloResult) -> str:
    return fmt_ms(slo.threshold) if slo.unit == "ms" else fmt_ratio(slo.threshold)


#: What an SLO over a figure without samples (no answer completed) reads as: it fails.
NO_DATA = "no data"


def fmt_measured(slo: SloResult) -> str:
    if finite(slo.measured) is None:
        return NO_DATA
    return fmt_ms(slo.measured) if slo.unit == "ms" else fmt_ratio(slo.measured)


def sorted_violations(result: LoadRunResult) -> list[tuple[str, int]]:
    """Rule id -> count, most frequent first, then by id."""
    return sorted(result.violation_counts.items(), key=lambda item: (-item[1], item[0]))


def generator_warning(result: LoadRunResult) -> str | None:
    """Why the figures may measure the load generator, not the target (saturated, behind its schedule); None when
    they do not."""
    if result.generator_saturated:
        return _SATURATION_WARNING.format(cpu=fmt_cpu(result.generator_cpu_max))
    if result.generator_behind:
        return _BEHIND_WARNING.format(share=f"{result.generator_late_share or 0:.0%}")
    return None


def causes(result: LoadRunResult) -> list[str]:
    """Why the gate fails, in order (no answer, breached SLOs, violations, regression); empty when it holds."""
    found = []
    if result.no_answer is not None:
        found.append(result.no_answer)
    for slo in result.slos:
        if not slo.passed:
            measured = NO_DATA if finite(slo.measured) is None else f"measured {fmt_measured(slo)}"
            found.append(f"SLO {slo_label(slo)} breached ({measured})")
    if result.violation_counts:  # '12 contract violations (unique-codes 12)'
        rules = ", ".join(f"{rule} {count}" for rule, count in sorted_violations(result))
        found.append(f"{plural(result.violations, 'contract violation')} ({rules})")
    if result.regressed and result.comparison is not None:
        keys = ", ".join(row.key for row in result.comparison.regressions)
        found.append(f"regression against the earlier run ({keys}, beyond --max-regression)")
    return found


def verdict(result: LoadRunResult) -> str:
    """The headline without decoration: 'SLOs met, contract held' or the causes joined by '; '."""
    if result.holds and not result.regressed:
        text = "SLOs met, contract held" if result.slos else "contract held (no SLO set)"
    else:
        text = "; ".join(causes(result))
    if result.interrupted:
        text += " (interrupted: partial results)"
    return text


def throughput_rps(result: LoadRunResult) -> float:
    return result.requests / result.duration_s if result.duration_s > 0 else 0.0


def load_shape(result: LoadRunResult) -> str:
    """'steady, 50 users, 4 workers', 'ramp, 200 req/s arrival, 1 worker'."""
    parts = [result.shape]
    if result.users is not None:
        parts.append(plural(result.users, "user"))
    if result.arrival_rate is not None:
        parts.append(f"{result.arrival_rate:g} req/s arrival")
    parts.append(plural(result.workers, "worker"))
    return ", ".join(parts)


def interval_s(timeline: Sequence[TimelinePoint]) -> float:
    """The length of one interval (t_s is an interval's end)."""
    if len(timeline) > 1:
        step = (timeline[-1].t_s - timeline[0].t_s) / (len(timeline) - 1)
        if step > 0:
            return step
    if timeline and timeline[0].t_s > 0:
        return timeline[0].t_s
    return 1.0


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One or more consecutive intervals merged: counts summed, rate averaged, latencies the worst interval's."""

    t_from_s: float
    t_to_s: float
    intervals: int
    requests: int
    errors: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


def span_label(row: TimelineRow) -> str:
    """'12' for one interval (its end, in seconds), '10-20' for merged intervals."""
    return f"{row.t_to_s:g}" if row.intervals == 1 else f"{row.t_from_s:g}-{row.t_to_s:g}"


def _worst(values: list[float | None]) -> float | None:
    return max((v for v in map(finite, values) if v is not None), default=None)


def downsample(timeline: Sequence[TimelinePoint], max_rows: int) -> list[TimelineRow]:
    """At most `max_rows` rows of equal numbers of consecutive intervals (the last row may hold fewer)."""
    if not timeline:
        return []
    step = interval_s(timeline)
    size = max(1, math.ceil(len(timeline) / max(1, max_rows)))
    rows = []
    for start in range(0, len(timeline), size):
        group = timeline[start:start + size]
        rates = [finite(point.rps) or 0.0 for point in group]
        rows.append(TimelineRow(
            t_from_s=max(group[0].t_s - step, 0.0), t_to_s=group[-1].t_s, intervals=len(group),
            requests=sum(point.requests for point in group), errors=sum(point.errors for point in group),
            rps=sum(rates) / len(rates),
            p50_ms=_worst([point.p50_ms for point in group]),
            p95_ms=_worst([point.p95_ms for point in group]),
            p99_ms=_worst([point.p99_ms for point in group])))
    return rows
