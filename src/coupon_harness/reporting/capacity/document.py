"""A capacity search's report as one `Document` for the shared renderers, and every file of its folder."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from coupon_harness.reporting.capacity.common import fmt_ms, fmt_rate, gate_text, holds, rate_or_why, step_verdict
from coupon_harness.reporting.capacity.junit import render_capacity_junit
from coupon_harness.reporting.capacity.summary_json import write_capacity_summary_json
from coupon_harness.reporting.charts import ChartLine, ChartMarker, ChartThreshold, axis_ticks, line_chart_svg
from coupon_harness.reporting.document import (
    Chart,
    Code,
    Column,
    Document,
    Figure,
    Link,
    Paragraph,
    Row,
    Section,
    Status,
    Table,
    Text,
    Verdict,
)
from coupon_harness.reporting.load.rerun import capacity_rerun_command
from coupon_harness.reporting.render.console import render_console
from coupon_harness.reporting.writer import text_file, write_document_reports
from coupon_harness.results.capacity import CapacityResult, CapacityStep

__all__ = ["capacity_document", "latency_curve_svg", "redact_capacity_result",
           "render_capacity_table", "throughput_curve_svg", "write_capacity_reports"]

_COLOURS = {"p50": "#0969da", "p95": "#bf8700", "p99": "#cf222e"}
_FOOTER = ("coupon-harness capacity: open-model steps (each user sends on a fixed schedule; latency counts from the "
           "intended send time), doubling the rate while every SLO holds, then bisecting. Figures come from each "
           "step's measured window only.")


def _x_axis(result: CapacityResult) -> tuple[tuple[float, float], list[tuple[float, str]]]:
    end, ticks = axis_ticks(max((step.rate for step in result.steps), default=1.0))
    return (0.0, end), ticks


_CAPACITY = "#1a7f37"
_BREAKING = "#cf222e"
_GENERATOR = "#9a6700"


def _markers(result: CapacityResult) -> list[ChartMarker]:
    """The capacity, the breaking rate and (when it stopped the search) the generator's limit as vertical lines."""
    limit = result.generator_limit_rps if result.generator_limited else None
    marks = [(f"capacity {fmt_rate(result.capacity_rps)} req/s", result.capacity_rps, _CAPACITY),
             (f"breaking {fmt_rate(result.breaking_rps)} req/s", result.breaking_rps, _BREAKING),
             (f"generator limit {fmt_rate(limit)} req/s", limit, _GENERATOR)]
    return [ChartMarker(label, rate, colour) for label, rate, colour in marks if rate is not None]


def latency_curve_svg(result: CapacityResult, *, log: bool = False) -> str | None:
    """p50/p95/p99 of each step against its offered rate, with the latency SLOs and the markers."""
    steps = sorted((s for s in result.steps if s.latency_ms), key=lambda s: s.rate)
    if not steps:
        return None
    x_range, x_ticks = _x_axis(result)
    lines = [ChartLine(key, colour, [(s.rate, s.latency_ms.get(key)) for s in steps])
             for key, colour in _COLOURS.items()]
    thresholds = [ChartThreshold(f"SLO {text}", float(match.group(2)), "#57606a", short=f"SLO {match.group(1)}",
                                 unit="ms")
                  for text in result.slos if (match := re.fullmatch(r"(p\d+|max)<=([\d.]+)ms", text))]
    return line_chart_svg("Latency against the offered rate (measured window of each step)", lines,
                          x_range=x_range, x_ticks=x_ticks, x_unit="offered rate (req/s)", y_unit="latency (ms)",
                          thresholds=thresholds, log=log, dots=True, markers=_markers(result))


def throughput_curve_svg(result: CapacityResult) -> str | None:
    """Answered against offered requests per second: the line leaves the diagonal where the target saturates."""
    steps = sorted(result.steps, key=lambda s: s.rate)
    if not steps:
        return None
    x_range, x_ticks = _x_axis(result)
    lines = [ChartLine("offered (answered = offered)", "#8c959f", [(0.0, 0.0), (x_range[1], x_range[1])]),
             ChartLine("answered", "#0969da", [(s.rate, s.achieved_rps) for s in steps])]
    return line_chart_svg("Answered against offered requests per second", lines, x_range=x_range, x_ticks=x_ticks,
                          x_unit="offered rate (req/s)", y_unit="answered (req/s)", dots=True,
                          markers=_markers(result))


def _figures(result: CapacityResult) -> tuple[Figure, ...]:
    figures = [
        Figure("Capacity", f"{rate_or_why(result, result.capacity_rps)} (the highest rate that met every SLO)",
               Status.PASS if result.capacity_rps is not None else Status.FAIL),
        Figure("Breaking rate", f"{rate_or_why(result, result.breaking_rps)} (the lowest rate that broke one)"),
        Figure("SLOs", ", ".join(result.slos)),
        Figure("Steps", f"{len(result.steps)}: {result.warmup_s:g} s warm-up (not measured) + {result.step_time_s:g} s "
                        f"measured each; rates from {fmt_rate(result.start_rate)} up to at most "
                        f"{fmt_rate(result.max_rate)} req/s, bracketed to {result.precision:.0%}"),
        Figure("Started", f"{result.started_at}, {result.duration_s:.0f} s in all"),
        Figure("Coupons issued", f"{result.coupons_issued:,} (duplicate codes: {result.duplicate_codes:,})",
               Status.FAIL if result.duplicate_codes else None)]
    if (rerun := capacity_rerun_command(result)) is not None:
        figures.append(Figure("Rerun", (Code(rerun),)))
    if result.generator_limited:
        figures.append(Figure("Generator limit", f"{fmt_rate(result.generator_limit_rps)} req/s (the generator, not "
                                                 "the target, set the figures past it)", Status.WARN))
    return tuple(figures)


def _cpu(step: CapacityStep) -> str:
    limit = " (saturated)" if step.generator_saturated else " (behind schedule)" if step.generator_behind else ""
    return f"{step.generator_cpu_max:.0f}%{limit}"


def _ms(value: float | None) -> str:
    """A latency in a column that names its unit."""
    return fmt_ms(value).removesuffix(" ms")


def _steps(result: CapacityResult) -> Section:
    """A row per step; its number links to the step's own report."""
    rows = []
    for step in result.steps:
        latency = step.latency_ms
        folder = Path(step.report_dir).name
        number: Text = (Link(str(step.index + 1), f"{folder}/report.html"),) if folder else str(step.index + 1)
        status = Status.WARN if step.generator_limited else Status.PASS if step.met else Status.FAIL
        rows.append(Row((number, step.phase, fmt_rate(step.rate), fmt_rate(step.achieved_rps), str(step.users),
                         *(_ms(latency.get(key)) for key in ("p50", "p95", "p99", "max")), f"{step.error_rate:.2%}",
                         _cpu(step), step_verdict(step)), status))
    columns = (Column("step", numeric=True), Column("phase"),
               *(Column(name, numeric=True) for name in ("offered/s", "answered/s", "users", "p50 ms", "p95 ms",
                                                         "p99 ms", "max ms", "error rate", "generator CPU")),
               Column("verdict"))
    return Section("Steps", (Table(columns, tuple(rows)),))


def _violations(result: CapacityResult) -> Section:
    rows = tuple(Row(((Code(rule),), f"{count:,}", result.violation_examples.get(rule, "")), Status.FAIL)
                 for rule, count in sorted(result.violation_counts.items()))
    return Section("Contract violations", (
        Table((Column("rule"), Column("responses", numeric=True), Column("example")), rows),
        Paragraph("Each step's own report (step-NN/report.md) has the sample requests.", muted=True)),
        status=Status.FAIL)


def _curve(result: CapacityResult, what: str, value: Callable[[CapacityStep], str]) -> str:
    """A curve in words, for report.md: 'p95 (ms) at each offered rate (req/s): 100: 105, 200: 247'."""
    steps = sorted(result.steps, key=lambda step: step.rate)
    return f"{what} at each offered rate (req/s): " + ", ".join(f"{fmt_rate(s.rate)}: {value(s)}" for s in steps)


def _charts(result: CapacityResult) -> list[Section]:
    sections = []
    linear, log = latency_curve_svg(result), latency_curve_svg(result, log=True)
    if linear is not None and log is not None:
        text = _curve(result, "p95 (ms)", lambda step: _ms(step.latency_ms.get("p95")))
        sections.append(Section("Latency against the offered rate",
                                (Chart("capacity-latency", linear, log, text=text),), console=False))
    throughput = throughput_curve_svg(result)
    if throughput is not None:
        text = _curve(result, "answered (req/s)", lambda step: fmt_rate(step.achieved_rps))
        sections.append(Section("Answered against offered", (Chart("capacity-throughput", throughput, text=text),),
                                console=False))
    return sections


def capacity_document(result: CapacityResult) -> Document:
    blocks: list[Section] = [*_charts(result), _steps(result)]
    if result.violation_counts:
        blocks.append(_violations(result))
    notes = (*(f"stopped: {reason}" for reason in [result.stopped_reason] if reason), *result.notes)
    return Document("capacity", Verdict(Status.PASS if holds(result) else Status.FAIL, gate_text(result)),
                    tally=("target ", Code(result.target), f" · SLOs {', '.join(result.slos)}"),
                    figures=_figures(result), sections=tuple(blocks), notes=notes, footer=_FOOTER)


def render_capacity_table(result: CapacityResult, *, color: bool, width: int = 150) -> str:
    """What the terminal shows at the end of a search (150 columns: the steps' table has 12)."""
    return render_console(capacity_document(result), color=color, width=width)


def write_capacity_reports(result: CapacityResult, report_dir: Path) -> dict[str, Path]:
    """Every file of a capacity report (beside the steps' own folders), the gate files first."""
    return write_document_reports(report_dir, capacity_document(result), {
        "summary.json": lambda path: write_capacity_summary_json(result, path),
        "junit.xml": text_file(lambda: render_capacity_junit(result))})


def redact_capacity_result(result: CapacityResult, redact: Callable[[str], str]) -> CapacityResult:
    """Every text that came from the target or the load processes, redacted once more."""
    return replace(
        result, target=redact(result.target),
        violation_examples={redact(rule): redact(text) for rule, text in result.violation_examples.items()},
        stopped_reason=redact(result.stopped_reason) if result.stopped_reason is not None else None,
        notes=[redact(note) for note in result.notes], harness_errors=[redact(e) for e in result.harness_errors],
        steps=[replace(step, stopped_reason=redact(step.stopped_reason) if step.stopped_reason else None)
               for step in result.steps])
