"""The load run's charts: latency percentiles and throughput per timeline interval, from the result to the
shared chart module's lines and bars."""

from __future__ import annotations

from coupon_harness.reporting.charts import Bar, ChartLine, ChartThreshold, axis_ticks, bar_chart_svg, line_chart_svg
from coupon_harness.reporting.load.common import TimelineRow, downsample, finite, fmt_count, slo_label, span_label
from coupon_harness.results.load import LoadRunResult

__all__ = ["CHART_POINTS", "TAIL_SPREAD", "latency_chart_svg", "tails_matter", "throughput_chart_svg"]

#: Charts merge consecutive intervals beyond this many points.
CHART_POINTS = 600
#: The log-scale chart opens first when the slowest interval's p99 is this many times its fastest p50.
TAIL_SPREAD = 20.0

_SERIES = (("p50", "#0969da"), ("p95", "#bf8700"), ("p99", "#cf222e"))
_OK_BAR = "#54aeff"
_ERROR_BAR = "#cf222e"
#: The earlier run's throughput (--compare), a dashed line over this run's bars.
_EARLIER_RPS = "#57606a"


def _timelines(result: LoadRunResult) -> tuple[list[TimelineRow], list[TimelineRow], float,
                                               list[tuple[float, str]]] | None:
    """This run's timeline and the earlier one's (--compare; else empty), downsampled, and their one time axis
    (both start at 0 s); None without timeline."""
    rows = downsample(result.timeline, CHART_POINTS)
    if not rows:
        return None
    before = downsample(result.comparison.earlier_timeline if result.comparison is not None else (), CHART_POINTS)
    return rows, before, *axis_ticks(max(rows[-1].t_to_s, before[-1].t_to_s if before else 0.0, 1e-9))


def latency_chart_svg(result: LoadRunResult, *, log: bool = False) -> str | None:
    """p50/p95/p99 of each interval over time (gaps where an interval had no answer), the y axis scaled to the
    data: an SLO line far above is named at the top instead of flattening the lines; the earlier run's
    percentiles dashed and lighter under them (--compare). None without timeline."""
    if (timelines := _timelines(result)) is None:
        return None
    rows, before, x_max, x_ticks = timelines
    colours = dict(_SERIES)
    lines = [ChartLine(name, colour, [(row.t_to_s, finite(getattr(row, f"{name}_ms"))) for row in rows])
             for name, colour in _SERIES]
    lines += [ChartLine(f"earlier {name}", colour, [(row.t_to_s, finite(getattr(row, f"{name}_ms")))
                                                    for row in before], dashed=True)
              for name, colour in _SERIES if before]
    thresholds = [ChartThreshold(f"SLO {slo_label(slo)}", slo.threshold, colours[slo.key], short=f"SLO {slo.key}",
                                 unit="ms")
                  for slo in result.slos if slo.unit == "ms" and slo.key in colours and finite(slo.threshold)]
    title = "Latency percentiles per interval (ms" + (", log scale)" if log else ")")
    return line_chart_svg(title, lines, x_range=(0.0, x_max), x_ticks=x_ticks, x_unit="time (s)", y_unit="ms",
                          thresholds=thresholds, log=log)


def tails_matter(result: LoadRunResult) -> bool:
    """Whether the latencies spread over more than an order of magnitude (a log scale shows them better)."""
    p50 = [v for v in (finite(point.p50_ms) for point in result.timeline) if v is not None and v > 0]
    p99 = [v for v in (finite(point.p99_ms) for point in result.timeline) if v is not None]
    return bool(p50 and p99) and max(p99) >= TAIL_SPREAD * min(p50)


def throughput_chart_svg(result: LoadRunResult) -> str | None:
    """Requests/s of each interval as bars, the share that erred in red; the y axis scaled to the busiest
    interval; the earlier run's requests/s as a dashed line over them (--compare). None without timeline."""
    if (timelines := _timelines(result)) is None:
        return None
    rows, before, x_max, x_ticks = timelines
    overlay = [ChartLine("earlier run requests/s", _EARLIER_RPS,
                         [(row.t_to_s, finite(row.rps)) for row in before], dashed=True)] if before else []
    bars = [Bar(row.t_from_s, row.t_to_s, finite(row.rps) or 0.0, row.errors / row.requests if row.requests else 0.0,
                f"t {span_label(row)} s: {finite(row.rps) or 0.0:,.1f} req/s, {fmt_count(row.requests)} requests, "
                f"{fmt_count(row.errors)} errors") for row in rows]
    return bar_chart_svg("Throughput per interval (requests/s)", bars, x_range=(0.0, x_max), x_ticks=x_ticks,
                         x_unit="time (s)", y_unit="requests/s",
                         colours=(("requests/s", _OK_BAR), ("errors/s", _ERROR_BAR)), overlay=overlay)
