"""report.html of a load run: one self-contained page (inline CSS and SVG charts, no script, no external asset)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from coupon_harness.reporting.common import (
    PLOT,
    ChartLine,
    ChartThreshold,
    atomic_write_text,
    chart_frame,
    html_mark,
    html_page,
    legend_svg,
    line_chart_svg,
    nice_ticks,
    scale_toggle,
    shorten,
    tick_label,
)
from coupon_harness.reporting.load.common import (
    BEHIND_WARNING,
    FIGURE_LABELS,
    LATENCY_ROWS,
    SATURATION_WARNING,
    TimelineRow,
    coupons_line,
    downsample,
    figure_label,
    finite,
    fmt_count,
    fmt_cpu,
    fmt_measured,
    fmt_ms,
    fmt_ratio,
    fmt_threshold,
    interval_s,
    load_shape,
    no_sample_text,
    sample_curl,
    shows_steps,
    slo_label,
    sorted_codes,
    sorted_statuses,
    sorted_violations,
    span_label,
    step_load,
    throughput_rps,
    verdict,
)
from coupon_harness.reporting.load.compare import comparison_html
from coupon_harness.results.load import LoadRunResult

__all__ = ["CHART_POINTS", "TAIL_SPREAD", "latency_chart_svg", "nice_ticks", "render_load_html", "tails_matter",
           "throughput_chart_svg", "write_load_html"]

#: Charts merge consecutive intervals beyond this many points.
CHART_POINTS = 600
_TABLE_ROWS = 20
_EXAMPLE_LIMIT = 600
_CURL_LIMIT = 4000

_PLOT_LEFT, _PLOT_TOP, _PLOT_W, _PLOT_H = PLOT
_SERIES = (("p50", "#0969da"), ("p95", "#bf8700"), ("p99", "#cf222e"))
_OK_BAR = "#54aeff"
_ERROR_BAR = "#cf222e"
_CSS = """
:root { color-scheme: light; --passed: #1a7f37; --passed-bg: #dafbe1; --failed: #cf222e; --failed-bg: #ffebe9;
  --warned: #9a6700; --warned-bg: #fff8c5; --muted: #59636e; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0 auto;
  max-width: 1200px; padding: 1.5rem; }
h1 { margin: 0; font-size: 1.5rem; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
.verdict { padding: 1rem 1.25rem; border-radius: 8px; border-left: 8px solid; margin-bottom: 1rem; }
.verdict.holds { background: var(--passed-bg); border-color: var(--passed); }
.verdict.violated { background: var(--failed-bg); border-color: var(--failed); }
.verdict ul { margin: .4rem 0 0; }
.banner { padding: .6rem 1rem; border-radius: 6px; margin: .5rem 0; background: var(--warned-bg);
  border-left: 6px solid var(--warned); }
.banner.saturated { font-size: 1.1rem; background: var(--failed-bg); border-left-color: var(--failed); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 1rem 0; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; } th, td { text-align: left; padding: .3rem .6rem;
  border-bottom: 1px solid #d0d7de; vertical-align: top; } td.num, th.num { text-align: right; }
tr.pass td:first-child { border-left: 4px solid var(--passed); }
tr.fail td:first-child { border-left: 4px solid var(--failed); } tr.fail { background: var(--failed-bg); }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-weight: 600; white-space: nowrap; }
.badge.pass { color: var(--passed); background: var(--passed-bg); }
.badge.fail { color: #fff; background: var(--failed); }
.chart { margin: .5rem 0 1.5rem; } .chart svg { width: 100%; height: auto; max-width: 960px; display: block; }
.muted { color: var(--muted); }
details { margin: .5rem 0; border: 1px solid #d0d7de; border-radius: 6px; padding: .3rem .8rem; }
summary { cursor: pointer; font-weight: 600; }
pre.curl { white-space: pre-wrap; margin: .3rem 0; background: #f6f8fa; padding: .4rem .6rem; border-radius: 6px; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, monospace; word-break: break-all; }
footer { margin-top: 2rem; color: var(--muted); font-size: 12px; }
"""

#: The log-scale chart opens first when the slowest interval's p99 is this many times its fastest p50.
TAIL_SPREAD = 20.0


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _f(value: float) -> str:
    """An SVG coordinate."""
    return f"{value:.1f}"


def _x_axis(rows: Sequence[TimelineRow]) -> tuple[float, list[tuple[float, str]]]:
    """The end of the time axis and its ticks (value, label)."""
    end = max(rows[-1].t_to_s, 1e-9)
    ticks = nice_ticks(end, 8)
    return ticks[-1], [(tick, tick_label(tick)) for tick in ticks]


def latency_chart_svg(result: LoadRunResult, *, log: bool = False) -> str | None:
    """p50/p95/p99 of each interval over time (gaps where an interval had no answer), the y axis scaled to the
    data: an SLO line far above is named at the top instead of flattening the lines. None without timeline."""
    rows = downsample(result.timeline, CHART_POINTS)
    if not rows:
        return None
    x_max, x_ticks = _x_axis(rows)
    colours = dict(_SERIES)
    lines = [ChartLine(name, colour, [(row.t_to_s, finite(getattr(row, f"{name}_ms"))) for row in rows])
             for name, colour in _SERIES]
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
    interval. None without timeline."""
    rows = downsample(result.timeline, CHART_POINTS)
    if not rows:
        return None
    x_max, x_ticks = _x_axis(rows)
    y_ticks = nice_ticks(max((finite(row.rps) or 0.0 for row in rows), default=1.0))
    y_max = y_ticks[-1]
    bottom = _PLOT_TOP + _PLOT_H

    def x_of(t_s: float) -> float:
        return _PLOT_LEFT + t_s / x_max * _PLOT_W

    parts = chart_frame("Throughput per interval (requests/s)",
                        [(bottom - tick / y_max * _PLOT_H, tick_label(tick)) for tick in y_ticks],
                        [(x_of(tick), label) for tick, label in x_ticks], x_unit="time (s)", y_unit="requests/s",
                        scale="linear")
    for row in rows:
        rps = finite(row.rps) or 0.0
        if rps <= 0:
            continue
        x0 = x_of(row.t_from_s)
        slot = (row.t_to_s - row.t_from_s) / x_max * _PLOT_W
        width = max(slot * 0.85 if slot > 4 else slot, 0.8)  # an even gap only where bars are wide
        height = rps / y_max * _PLOT_H
        error_share = min(row.errors / row.requests, 1.0) if row.requests else 0.0
        error_height = height * error_share
        tip = (f"t {span_label(row)} s: {rps:,.1f} req/s, {fmt_count(row.requests)} requests, "
               f"{fmt_count(row.errors)} errors")
        parts.append(f'<g><title>{_e(tip)}</title>'
                     f'<rect x="{_f(x0)}" y="{_f(bottom - height)}" width="{_f(width)}" '
                     f'height="{_f(height - error_height)}" fill="{_OK_BAR}"/>')
        if error_height > 0:
            parts.append(f'<rect x="{_f(x0)}" y="{_f(bottom - error_height)}" width="{_f(width)}" '
                         f'height="{_f(max(error_height, 1.0))}" fill="{_ERROR_BAR}"/>')
        parts.append("</g>")
    parts.append(legend_svg((("requests/s", _OK_BAR), ("errors/s", _ERROR_BAR))))
    parts.append("</svg>")
    return "".join(parts)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Sequence[int] = (),
           row_classes: Sequence[str] | None = None) -> str:
    """A table; `head` is plain text (escaped here), cells are HTML already."""
    cells = "".join(f'<th class="num">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
                    for i, h in enumerate(head))
    body = []
    for index, row in enumerate(rows):
        css = f' class="{row_classes[index]}"' if row_classes else ""
        body.append(f"<tr{css}>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                           for i, c in enumerate(row)) + "</tr>")
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _badge(passed: bool) -> str:
    return '<span class="badge pass">PASS</span>' if passed else '<span class="badge fail">FAIL</span>'


def _header(result: LoadRunResult) -> str:
    passed = result.holds and not result.regressed
    state = "holds" if passed else "violated"
    mark = html_mark("pass" if passed else "fail")
    parts = [f'<header class="verdict {state}"><h1>{mark} {_e(verdict(result))}</h1>'
             f"<p>coupon-harness load · {_e(load_shape(result))}</p></header>"]
    if result.generator_saturated or result.generator_behind:
        warning = (SATURATION_WARNING.format(cpu=fmt_cpu(result.generator_cpu_max)) if result.generator_saturated
                   else BEHIND_WARNING.format(share=f"{result.generator_late_share or 0:.0%}"))
        parts.append(f'<p class="banner saturated">{html_mark("warn")} <strong>{_e(warning)}</strong></p>')
    if result.interrupted:
        parts.append(f'<p class="banner">{html_mark("warn")} <strong>The run was interrupted</strong>: '
                     "these figures cover only what ran before it stopped.</p>")
    if result.stopped_reason:
        parts.append(f'<p class="banner">{html_mark("stop")} <strong>Stopped before its time:</strong> '
                     f"{_e(result.stopped_reason)}</p>")
    coupons, warn = coupons_line(result)
    if warn:
        parts.append(f'<p class="banner">{html_mark("warn")} {_e(coupons)}</p>')
    meta = [("Target", f"<code>{_e(result.target)}</code>"), ("Started", _e(result.started_at)),
            ("Duration", f"{result.duration_s:.1f} s"), ("Load", _e(load_shape(result))),
            ("Requests", f"{_e(fmt_count(result.requests))} ({throughput_rps(result):,.1f} req/s)")]
    parts.append('<dl class="meta">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta) + "</dl>")
    return "".join(parts)


def _key_figures(result: LoadRunResult) -> str:
    latency = result.latency_ms
    coupons, _ = coupons_line(result)
    cpu = f"max {fmt_cpu(result.generator_cpu_max)}, mean {fmt_cpu(result.generator_cpu_mean)}"
    rows = [
        ("Latency p50 / p95 / p99", " / ".join(fmt_ms(latency.get(key)) for key in ("p50", "p95", "p99")), True),
        (FIGURE_LABELS["error-rate"], fmt_ratio(result.error_rate), True),
        ("Contract violations", fmt_count(result.violations), not result.violations),
        ("Duplicate coupon codes", fmt_count(result.duplicate_codes), not result.duplicate_codes),
        (FIGURE_LABELS["failure-ratio"],
         f"{fmt_ratio(result.failure_ratio)}: {fmt_count(result.unexpected_failures)} unexpected; "
         f"{fmt_count(result.expected_failures)} expected (invalid series)", True),
        (FIGURE_LABELS["failure-count-ratio"],
         f"{fmt_ratio(result.failure_count_ratio)}: {fmt_count(result.entity_failures)} of "
         f"{fmt_count(result.entities)} entities", True),
        ("Coupons issued", coupons, True),
        ("Generator CPU", cpu + (" (saturated)" if result.generator_saturated else ""),
         not result.generator_saturated),
    ]
    return _table(("Figure", "Value"), [(_e(name), _e(value)) for name, value, _ in rows],
                  row_classes=["pass" if ok else "fail" for _, _, ok in rows])


def _slos(result: LoadRunResult) -> str:
    if not result.slos:
        return '<p class="muted">No SLO set (<code>--slo</code>): only the contract gates this run.</p>'
    rows = [(f"<code>{_e(slo_label(slo))}</code>", _e(figure_label(slo.key)), _e(fmt_threshold(slo)),
             _e(fmt_measured(slo)), _badge(slo.passed)) for slo in result.slos]
    return _table(("SLO", "Figure", "Threshold", "Measured", "Result"), rows, numeric=(2, 3),
                  row_classes=["pass" if slo.passed else "fail" for slo in result.slos])


def _latency(result: LoadRunResult) -> str:
    if not result.latency_ms:
        return '<p class="muted">No request completed: no latency to show.</p>'
    keys = [key for key in LATENCY_ROWS if key in result.latency_ms]
    keys += sorted(key for key in result.latency_ms if key not in LATENCY_ROWS)
    return _table(keys, [[_e(fmt_ms(result.latency_ms[key])) for key in keys]], numeric=range(len(keys)))


def _statuses(result: LoadRunResult) -> str:
    if not result.status_counts:
        return '<p class="muted">No answer recorded.</p>'
    statuses = sorted_statuses(result)
    rows = [(f"<code>{_e(status)}</code>", _e(fmt_count(count)),
             _e(f"{count / result.requests * 100:.3g}%" if result.requests else "—")) for status, count in statuses]
    return _table(("Status", "Requests", "Share"), rows, numeric=(1, 2),
                  row_classes=["pass" if status == "200" else "fail" for status, _ in statuses])


def _violations(result: LoadRunResult) -> str:
    if not result.violation_counts:
        return f"<p>{html_mark('pass')} No contract violation under load.</p>"
    rows = []
    for rule, count in sorted_violations(result):
        example = result.violation_examples.get(rule)
        cell = f"<code>{_e(shorten(example, _EXAMPLE_LIMIT))}</code>" if example else "<em>no example recorded</em>"
        curl = sample_curl(result, rule)
        sample = (f'<pre class="curl"><code>{_e(shorten(curl, _CURL_LIMIT))}</code></pre>' if curl is not None
                  else f'<em class="muted">{_e(no_sample_text(rule))}</em>')
        rows.append((f"<code>{_e(rule)}</code>", _e(fmt_count(count)), cell, sample))
    return _table(("Rule", "Responses", "Example", "Sample request (curl, redacted)"), rows, numeric=(1,),
                  row_classes=["fail"] * len(rows))


def _steps(result: LoadRunResult) -> str:
    rows = [(_e(step.index + 1), _e(step_load(step)), _e(f"{step.start_s:g}-{step.end_s:g}"),
             _e(fmt_count(step.requests)), _e(f"{step.rps:,.1f}"), _e(fmt_count(step.errors)),
             _e(fmt_ratio(step.error_rate)), _e(fmt_ms(step.p50_ms)), _e(fmt_ms(step.p95_ms)), _e(fmt_ms(step.p99_ms)))
            for step in result.steps]
    return _table(("Step", "Load", "t (s)", "Requests", "req/s", "Errors", "Error rate", "p50", "p95", "p99"), rows,
                  numeric=(0, 2, 3, 4, 5, 6, 7, 8, 9), row_classes=["fail" if s.errors else "" for s in result.steps])


def _codes(result: LoadRunResult) -> str:
    if not result.entity_error_codes:
        return '<p class="muted">No entity error code.</p>'
    rows = [(f"<code>{_e(code)}</code>", _e(fmt_count(count))) for code, count in sorted_codes(result)]
    return _table(("Code", "Entities"), rows, numeric=(1,))


def _timeline_table(rows: Sequence[TimelineRow]) -> str:
    cells = []
    for row in rows:
        when = span_label(row)
        cells.append((_e(when), _e(fmt_count(row.requests)), _e(f"{finite(row.rps) or 0.0:,.1f}"),
                      _e(fmt_count(row.errors)), _e(fmt_ms(row.p50_ms)), _e(fmt_ms(row.p95_ms)),
                      _e(fmt_ms(row.p99_ms))))
    return _table(("t (s)", "Requests", "req/s", "Errors", "p50", "p95", "p99"), cells, numeric=range(7),
                  row_classes=["fail" if row.errors else "" for row in rows])


def _timeline(result: LoadRunResult) -> str:
    latency = latency_chart_svg(result)
    throughput = throughput_chart_svg(result)
    if latency is None or throughput is None:
        return '<p class="muted">No timeline recorded.</p>'
    log = latency_chart_svg(result, log=True) or ""
    toggle = scale_toggle("latency-scale", latency, log)
    if tails_matter(result):  # the log scale opens first
        toggle = toggle.replace(' class="linear" checked>', ' class="linear">').replace(' class="log">',
                                                                                          ' class="log" checked>')
    parts = ['<h3>Latency percentiles over time</h3>', toggle,
             '<h3>Throughput over time</h3>', f'<div class="chart">{throughput}</div>']
    rows = downsample(result.timeline, _TABLE_ROWS)
    if len(rows) < len(result.timeline):
        parts.append(f'<p class="muted">{len(result.timeline)} intervals of {interval_s(result.timeline):g} s, '
                     f"merged {rows[0].intervals} to a row: counts summed, req/s averaged, latencies of the worst "
                     "interval.</p>")
        parts.append(_timeline_table(rows))
        full = downsample(result.timeline, CHART_POINTS)  # bounded: a long soak keeps the page small
        what = (f"All {len(result.timeline)} intervals" if len(full) == len(result.timeline)
                else f"{len(full)} rows of {full[0].intervals} intervals (all {len(result.timeline)})")
        parts.append(f"<details><summary>{what}</summary>{_timeline_table(full)}</details>")
    else:
        parts.append(_timeline_table(rows))
    return "".join(parts)


def render_load_html(result: LoadRunResult) -> str:
    """The report as one HTML document."""
    body = [
        _header(result),
        "<h2>Key figures</h2>", _key_figures(result),
        *([comparison_html(result.comparison)] if result.comparison is not None else []),
        "<h2>SLOs</h2>", _slos(result),
        "<h2>Latency (HDR histogram)</h2>", _latency(result),
        *([f"<h2>Steps ({_e(result.shape)})</h2>", _steps(result)] if shows_steps(result) else []),
        "<h2>Timeline</h2>", _timeline(result),
        "<h2>HTTP status</h2>", _statuses(result),
        f"<h2>Contract violations ({_e(fmt_count(result.violations))})</h2>", _violations(result),
        "<h2>Entity error codes</h2>", _codes(result),
    ]
    if result.notes:
        body.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(note)}</li>" for note in result.notes) + "</ul>")
    if result.files:
        items = "".join(f"<li><code>{_e(name)}</code>: <code>{_e(path)}</code></li>"
                        for name, path in result.files.items())
        body.append(f"<h2>Files</h2><ul>{items}</ul>")
    body.append("<footer>Generated by coupon-harness.</footer>")
    title = _e(f"coupon-harness load: {verdict(result)}")
    return html_page(title, _CSS, body)


def write_load_html(result: LoadRunResult, path: Path) -> None:
    """Write report.html to `path` (atomically)."""
    atomic_write_text(path, render_load_html(result))
