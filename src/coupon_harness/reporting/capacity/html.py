"""report.html of a capacity search: the headline, the latency-vs-rate curve, answered-vs-offered, the steps."""

from __future__ import annotations

import html
import re
from pathlib import Path

from coupon_harness.reporting.capacity.common import fmt_ms, fmt_rate, gate_text, holds, rate_or_why, step_verdict
from coupon_harness.reporting.common import (
    ChartLine,
    ChartThreshold,
    atomic_write_text,
    html_mark,
    html_page,
    line_chart_svg,
    nice_ticks,
    scale_toggle,
    tick_label,
)
from coupon_harness.results.capacity import CapacityResult, CapacityStep

__all__ = ["latency_curve_svg", "render_capacity_html", "throughput_curve_svg", "write_capacity_html"]

_CSS = """
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0 auto;
  max-width: 1200px; padding: 1.5rem; }
h1 { margin: 0 0 .5rem; font-size: 1.5rem; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
.verdict { padding: 1rem 1.25rem; border-radius: 8px; border-left: 8px solid; margin-bottom: 1rem;
  font-size: 1.1rem; display: flex; gap: .6rem; align-items: center; }
.verdict.holds { background: #dafbe1; border-color: #1a7f37; }
.verdict.violated { background: #ffebe9; border-color: #cf222e; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 1rem 0; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; } th, td { text-align: left; padding: .3rem .6rem;
  border-bottom: 1px solid #d0d7de; vertical-align: top; } td.num, th.num { text-align: right; white-space: nowrap; }
tr.met td:first-child { border-left: 4px solid #1a7f37; }
tr.broke td:first-child { border-left: 4px solid #cf222e; } tr.broke { background: #fff5f5; }
tr.saturated { background: #fff8c5; }
.chart { margin: .5rem 0 1.5rem; } .chart svg { width: 100%; height: auto; max-width: 960px; display: block; }
.muted { color: #59636e; } code { font: 12px/1.4 ui-monospace, SFMono-Regular, monospace; }
footer { margin-top: 2rem; color: #59636e; font-size: 12px; }
"""
_COLOURS = {"p50": "#0969da", "p95": "#bf8700", "p99": "#cf222e"}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _x_axis(result: CapacityResult) -> tuple[tuple[float, float], list[tuple[float, str]]]:
    top = max((step.rate for step in result.steps), default=1.0)
    ticks = nice_ticks(top, 8)
    return (0.0, ticks[-1]), [(tick, tick_label(tick)) for tick in ticks]


def latency_curve_svg(result: CapacityResult, *, log: bool = False) -> str | None:
    """p50/p95/p99 of each step's measured window against its offered rate, the latency SLOs as lines."""
    steps = sorted((s for s in result.steps if s.latency_ms), key=lambda s: s.rate)
    if not steps:
        return None
    x_range, x_ticks = _x_axis(result)
    lines = [ChartLine(key, colour, [(s.rate, s.latency_ms.get(key)) for s in steps])
             for key, colour in _COLOURS.items()]
    thresholds = []
    for text in result.slos:
        match = re.fullmatch(r"(p\d+|max)<=([\d.]+)ms", text)
        if match:
            thresholds.append(ChartThreshold(f"SLO {text}", float(match.group(2)), "#57606a",
                                             short=f"SLO {match.group(1)}", unit="ms"))
    return line_chart_svg("Latency against the offered rate (measured window of each step)", lines,
                          x_range=x_range, x_ticks=x_ticks, x_unit="offered rate (req/s)", y_unit="latency (ms)",
                          thresholds=thresholds, log=log, dots=True)


def throughput_curve_svg(result: CapacityResult) -> str | None:
    """Answered against offered requests per second: the line leaves the diagonal where the target saturates."""
    steps = sorted(result.steps, key=lambda s: s.rate)
    if not steps:
        return None
    x_range, x_ticks = _x_axis(result)
    lines = [ChartLine("offered (answered = offered)", "#8c959f", [(0.0, 0.0), (x_range[1], x_range[1])]),
             ChartLine("answered", "#0969da", [(s.rate, s.achieved_rps) for s in steps])]
    return line_chart_svg("Answered against offered requests per second", lines, x_range=x_range, x_ticks=x_ticks,
                          x_unit="offered rate (req/s)", y_unit="answered (req/s)", dots=True)


def _limit(step: CapacityStep) -> str:
    if step.generator_saturated:
        return " (saturated)"
    return " (behind schedule)" if step.generator_behind else ""


def render_capacity_html(result: CapacityResult) -> str:
    ok = holds(result)
    body = [f"<h1>Capacity search: {_e(result.target)}</h1>",
            f'<div class="verdict {"holds" if ok else "violated"}">{html_mark("pass" if ok else "fail")}'
            f"<span>{_e(gate_text(result))}</span></div>",
            '<dl class="meta">',
            f"<dt>capacity</dt><dd>{rate_or_why(result, result.capacity_rps)} (the highest rate that met every "
            "SLO)</dd>",
            f"<dt>breaking rate</dt><dd>{rate_or_why(result, result.breaking_rps)} (the lowest rate that broke "
            "one)</dd>",
            f"<dt>SLOs</dt><dd>{_e(', '.join(result.slos))}</dd>",
            f"<dt>steps</dt><dd>{len(result.steps)}: {result.warmup_s:g} s warm-up (not measured) + "
            f"{result.step_time_s:g} s measured each; rates from {fmt_rate(result.start_rate)} up to at most "
            f"{fmt_rate(result.max_rate)} req/s, bracketed to {result.precision:.0%}</dd>",
            f"<dt>started</dt><dd>{_e(result.started_at)}, {result.duration_s:.0f} s in all</dd>",
            f"<dt>coupons issued</dt><dd>{result.coupons_issued:,} (duplicate codes: {result.duplicate_codes:,})</dd>"]
    if result.generator_limited:
        body.append(f"<dt>generator limit</dt><dd>{fmt_rate(result.generator_limit_rps)} req/s (the generator, "
                    "not the target, set the figures past it)</dd>")
    body.append("</dl>")
    linear, log = latency_curve_svg(result), latency_curve_svg(result, log=True)
    if linear is not None and log is not None:
        body += ["<h2>Latency against the offered rate</h2>", scale_toggle("capacity-latency", linear, log)]
    throughput = throughput_curve_svg(result)
    if throughput is not None:
        body += ["<h2>Answered against offered</h2>", f'<div class="chart">{throughput}</div>']
    body += ["<h2>Steps</h2>", "<table><thead><tr><th>step</th><th>phase</th><th class=num>offered req/s</th>"
             "<th class=num>answered req/s</th><th class=num>users</th><th class=num>p50</th><th class=num>p95</th>"
             "<th class=num>p99</th><th class=num>max</th><th class=num>error rate</th>"
             "<th class=num>generator CPU max</th><th>verdict</th><th>report</th></tr></thead><tbody>"]
    for step in result.steps:
        latency = step.latency_ms
        css = "saturated" if step.generator_limited else "met" if step.met else "broke"
        folder = Path(step.report_dir).name
        link = f'<a href="{_e(folder)}/report.html">{_e(folder)}</a>' if folder else ""
        body.append(f'<tr class="{css}"><td>{step.index + 1}</td><td>{_e(step.phase)}</td>'
                    f"<td class=num>{fmt_rate(step.rate)}</td><td class=num>{fmt_rate(step.achieved_rps)}</td>"
                    f"<td class=num>{step.users}</td><td class=num>{fmt_ms(latency.get('p50'))}</td>"
                    f"<td class=num>{fmt_ms(latency.get('p95'))}</td><td class=num>{fmt_ms(latency.get('p99'))}</td>"
                    f"<td class=num>{fmt_ms(latency.get('max'))}</td><td class=num>{step.error_rate:.2%}</td>"
                    f"<td class=num>{step.generator_cpu_max:.0f}%{_limit(step)}"
                    f"</td><td>{_e(step_verdict(step))}</td><td>{link}</td></tr>")
    body.append("</tbody></table>")
    if result.violation_counts:
        body += ["<h2>Contract violations</h2>", "<table><thead><tr><th>rule</th><th class=num>responses</th>"
                 "<th>example</th></tr></thead><tbody>"]
        for rule, count in sorted(result.violation_counts.items()):
            body.append(f"<tr><td><code>{_e(rule)}</code></td><td class=num>{count:,}</td>"
                        f"<td>{_e(result.violation_examples.get(rule, ''))}</td></tr>")
        body += ["</tbody></table>", '<p class="muted">Each step\'s own report has the sample requests.</p>']
    if result.notes or result.stopped_reason:
        body.append("<h2>Notes</h2><ul>")
        if result.stopped_reason:
            body.append(f"<li>stopped: {_e(result.stopped_reason)}</li>")
        body += [f"<li>{_e(note)}</li>" for note in result.notes]
        body.append("</ul>")
    body.append('<footer>coupon-harness capacity: open-model steps (each user sends on a fixed schedule; latency '
                "counts from the intended send time), doubling the rate while every SLO holds, then bisecting. "
                "Figures come from each step's measured window only.</footer>")
    return html_page(f"Capacity search: {_e(result.target)}", _CSS, body)


def write_capacity_html(result: CapacityResult, path: Path) -> None:
    atomic_write_text(path, render_capacity_html(result))
