"""report.md of a load run: fits a CI job summary (GitHub step summary, a PR comment)."""

from __future__ import annotations

import re
from pathlib import Path

from coupon_harness.reporting.common import atomic_write_text, md_code, md_text, shorten
from coupon_harness.reporting.load.common import (
    BEHIND_WARNING,
    FIGURE_LABELS,
    LATENCY_ROWS,
    SATURATION_WARNING,
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
from coupon_harness.reporting.load.compare import comparison_markdown_lines
from coupon_harness.results.load import LoadRunResult

__all__ = ["TIMELINE_ROWS", "render_load_markdown", "sparkline", "write_load_markdown"]

#: At most this many rows in the timeline table; longer runs merge consecutive intervals.
TIMELINE_ROWS = 20
_SPARK_WIDTH = 60
_SPARKS = "▁▂▃▄▅▆▇█"
_EXAMPLE_LIMIT = 240
_CURL_LIMIT = 4000


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def sparkline(values: list[float]) -> str:
    """Block characters scaled to the largest value ('▁' for 0)."""
    top = max(values, default=0.0)
    if top <= 0:
        return _SPARKS[0] * len(values)
    return "".join(_SPARKS[min(len(_SPARKS) - 1, round(value / top * (len(_SPARKS) - 1)))] for value in values)


def _share(count: int, total: int) -> str:
    return f"{count / total * 100:.3g}%" if total else "—"


def _banners(result: LoadRunResult) -> list[str]:
    lines = []
    if result.generator_saturated:
        warning = SATURATION_WARNING.format(cpu=fmt_cpu(result.generator_cpu_max))
        lines.append(f"> [!WARNING]\n> ⚠️ **{md_text(warning)}**")
    elif result.generator_behind:
        warning = BEHIND_WARNING.format(share=f"{result.generator_late_share or 0:.0%}")
        lines.append(f"> [!WARNING]\n> ⚠️ **{md_text(warning)}**")
    if result.interrupted:
        lines.append("> ⚠️ **The run was interrupted**: these figures cover only what ran before it stopped.")
    if result.stopped_reason:
        lines.append(f"> ⏹️ **Stopped before its time:** {md_text(result.stopped_reason)}")
    coupons, warn = coupons_line(result)
    if warn:
        lines.append(f"> ⚠️ {md_text(coupons)}")
    return lines


def _key_figures(result: LoadRunResult) -> list[str]:
    latency = result.latency_ms
    coupons, warn = coupons_line(result)
    failures = (f"{fmt_ratio(result.failure_count_ratio)}: {fmt_count(result.entity_failures)} of "
                f"{fmt_count(result.entities)} entities")
    unexpected = (f"{fmt_ratio(result.failure_ratio)}: {fmt_count(result.unexpected_failures)} unexpected; "
                  f"{fmt_count(result.expected_failures)} expected (invalid series)")
    cpu = f"max {fmt_cpu(result.generator_cpu_max)}, mean {fmt_cpu(result.generator_cpu_mean)}"
    if result.generator_saturated:
        cpu += " ⚠️ **saturated**"
    rows = [
        ("Requests", f"{fmt_count(result.requests)} ({throughput_rps(result):,.1f} req/s)"),
        ("Latency p50 / p95 / p99",
         " / ".join(fmt_ms(latency.get(key)) for key in ("p50", "p95", "p99"))),
        (FIGURE_LABELS["error-rate"], fmt_ratio(result.error_rate)),
        ("Contract violations", f"{_mark(not result.violations)} {fmt_count(result.violations)}"),
        ("Duplicate coupon codes", f"{_mark(not result.duplicate_codes)} {fmt_count(result.duplicate_codes)}"),
        (FIGURE_LABELS["failure-ratio"], unexpected),
        (FIGURE_LABELS["failure-count-ratio"], failures),
        ("Coupons issued", ("⚠️ " if warn else "") + md_text(coupons)),
        ("Generator CPU", cpu),
    ]
    return ["| Figure | Value |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]


def _slo_table(result: LoadRunResult) -> list[str]:
    if not result.slos:
        return ["_No SLO set (`--slo`): only the contract gates this run._"]
    lines = ["| | SLO | Figure | Threshold | Measured | Result |", "|---|---|---|--:|--:|---|"]
    for slo in result.slos:
        state = "pass" if slo.passed else "**FAIL**"
        lines.append(f"| {_mark(slo.passed)} | {md_code(slo_label(slo), in_table=True)} | "
                     f"{md_text(figure_label(slo.key))} | {fmt_threshold(slo)} | {fmt_measured(slo)} | {state} |")
    return lines


def _latency_table(result: LoadRunResult) -> list[str]:
    if not result.latency_ms:
        return ["_No request completed: no latency to show._"]
    keys = [key for key in LATENCY_ROWS if key in result.latency_ms]
    keys += sorted(key for key in result.latency_ms if key not in LATENCY_ROWS)
    return ["| " + " | ".join(md_text(key) for key in keys) + " |",
            "|" + "--:|" * len(keys),
            "| " + " | ".join(fmt_ms(result.latency_ms[key]) for key in keys) + " |"]


def _status_table(result: LoadRunResult) -> list[str]:
    if not result.status_counts:
        return ["_No answer recorded._"]
    lines = ["| Status | Requests | Share |", "|---|--:|--:|"]
    for status, count in sorted_statuses(result):
        mark = "✅" if status == "200" else "❌"
        lines.append(f"| {mark} {md_code(status, in_table=True)} | {fmt_count(count)} "
                     f"| {_share(count, result.requests)} |")
    return lines


def _violations_table(result: LoadRunResult) -> list[str]:
    if not result.violation_counts:
        return ["✅ No contract violation under load."]
    lines = ["| Rule | Responses | Example |", "|---|--:|---|"]
    for rule, count in sorted_violations(result):
        example = result.violation_examples.get(rule)
        cell = md_code(shorten(example, _EXAMPLE_LIMIT), in_table=True) if example else "_no example recorded_"
        lines.append(f"| ❌ {md_code(rule, in_table=True)} | {fmt_count(count)} | {cell} |")
    lines += ["", "Sample requests (redacted, as sent; the first the run saw):"]
    for rule, _count in sorted_violations(result):
        curl = sample_curl(result, rule)
        if curl is None:
            lines += ["", f"- {md_code(rule)}: _{md_text(no_sample_text(rule))}_"]
        else:
            lines += ["", f"- {md_code(rule)}:", "", _fenced(shorten(curl, _CURL_LIMIT), "sh", indent="  ")]
    return lines


def _fenced(text: str, language: str, indent: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    body = "\n".join(indent + line for line in text.splitlines() or [""])
    return f"{indent}{fence}{language}\n{body}\n{indent}{fence}"


def _steps(result: LoadRunResult) -> list[str]:
    lines = ["| Step | Load | t (s) | Requests | req/s | Errors | Error rate | p50 | p95 | p99 |",
             "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for step in result.steps:
        errors = f"**{fmt_count(step.errors)}**" if step.errors else "0"
        lines.append(f"| {step.index + 1} | {step_load(step)} | {step.start_s:g}-{step.end_s:g} "
                     f"| {fmt_count(step.requests)} | {step.rps:,.1f} | {errors} | {fmt_ratio(step.error_rate)} "
                     f"| {fmt_ms(step.p50_ms)} | {fmt_ms(step.p95_ms)} | {fmt_ms(step.p99_ms)} |")
    return lines


def _codes_table(result: LoadRunResult) -> list[str]:
    if not result.entity_error_codes:
        return ["_No entity error code._"]
    lines = ["| Code | Entities |", "|---|--:|"]
    lines += [f"| {md_code(code, in_table=True)} | {fmt_count(count)} |" for code, count in sorted_codes(result)]
    return lines


def _timeline(result: LoadRunResult) -> list[str]:
    if not result.timeline:
        return ["_No timeline recorded._"]
    spark = sparkline([row.rps for row in downsample(result.timeline, _SPARK_WIDTH)])
    rows = downsample(result.timeline, TIMELINE_ROWS)
    lines = [f"Throughput {spark}", ""]
    if len(rows) < len(result.timeline):
        lines += [f"_{len(result.timeline)} intervals of {interval_s(result.timeline):g} s, merged "
                  f"{rows[0].intervals} to a row: counts summed, req/s averaged, latencies of the worst "
                  "interval._", ""]
    lines += ["| t (s) | Requests | req/s | Errors | p50 | p95 | p99 |", "|--:|--:|--:|--:|--:|--:|--:|"]
    for row in rows:
        when = span_label(row)
        errors = f"**{fmt_count(row.errors)}**" if row.errors else "0"
        rps = finite(row.rps) or 0.0
        lines.append(f"| {when} | {fmt_count(row.requests)} | {rps:,.1f} | {errors} | {fmt_ms(row.p50_ms)} "
                     f"| {fmt_ms(row.p95_ms)} | {fmt_ms(row.p99_ms)} |")
    return lines


def render_load_markdown(result: LoadRunResult) -> str:
    """The report as Markdown."""
    lines = [
        f"## coupon-harness load: {_mark(result.holds and not result.regressed)} {md_text(verdict(result))}"
        + (" · regression against the earlier run" if result.regressed else ""),
        "",
        f"**Target** {md_code(result.target)} · **Started** {md_code(result.started_at)} · "
        f"**Duration** {result.duration_s:.1f} s · **Load** {md_text(load_shape(result))} · "
        f"**Requests** {fmt_count(result.requests)}",
    ]
    for banner in _banners(result):
        lines += ["", banner]
    sections = [
        ("Key figures", _key_figures(result)),
        *([("Compared with an earlier run", comparison_markdown_lines(result.comparison))]
          if result.comparison is not None else []),
        ("SLOs", _slo_table(result)),
        ("Latency (HDR histogram)", _latency_table(result)),
        *([(f"Steps ({result.shape})", _steps(result))] if shows_steps(result) else []),
        ("HTTP status", _status_table(result)),
        (f"Contract violations ({fmt_count(result.violations)})", _violations_table(result)),
        ("Entity error codes", _codes_table(result)),
        ("Timeline", _timeline(result)),
    ]
    if result.notes:
        sections.append(("Notes", [f"- {md_text(note)}" for note in result.notes]))
    if result.files:
        sections.append(("Files", [f"- {md_code(name)}: {md_code(path)}" for name, path in result.files.items()]))
    for title, body in sections:
        lines += ["", f"### {title}", "", *body]
    return "\n".join(lines) + "\n"


def write_load_markdown(result: LoadRunResult, path: Path) -> None:
    """Write report.md to `path` (atomically)."""
    atomic_write_text(path, render_load_markdown(result))
