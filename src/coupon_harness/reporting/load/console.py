"""What the terminal shows at the end of a load run: SLOs, latency, errors, violations and a verdict."""

from __future__ import annotations

from coupon_harness.reporting.common import one_line, shorten
from coupon_harness.reporting.load.common import (
    BEHIND_WARNING,
    FIGURE_LABELS,
    SATURATION_WARNING,
    causes,
    coupons_line,
    figure_label,
    fmt_count,
    fmt_cpu,
    fmt_measured,
    fmt_ms,
    fmt_ratio,
    fmt_threshold,
    load_shape,
    no_sample_text,
    sample_curl,
    shows_steps,
    slo_label,
    sorted_codes,
    sorted_statuses,
    sorted_violations,
    step_load,
    throughput_rps,
    verdict,
    violation_summary,
)
from coupon_harness.reporting.load.compare import comparison_console_lines, fmt_change, fmt_limit
from coupon_harness.results.load import LoadRunResult

__all__ = ["render_load_table"]

_RESET = "\033[0m"
_BOLD = "\033[1m"
_GREEN = "\033[32m"
_RED = "\033[1;31m"
_YELLOW = "\033[33m"
_EXAMPLE_LIMIT = 200
_CURL_LIMIT = 300
_CODES_SHOWN = 8


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _slo_lines(result: LoadRunResult, color: bool) -> list[str]:
    if not result.slos:
        return ["No SLO set (--slo): only the contract gates this run."]
    labels = [slo_label(slo) for slo in result.slos]
    width = max(len("SLO"), *(len(label) for label in labels))
    thresholds = [fmt_threshold(slo) for slo in result.slos]
    measured = [fmt_measured(slo) for slo in result.slos]
    t_width = max(len("THRESHOLD"), *(len(text) for text in thresholds))
    m_width = max(len("MEASURED"), *(len(text) for text in measured))
    lines = [_paint(f"{'SLO':<{width}}  {'THRESHOLD':>{t_width}}  {'MEASURED':>{m_width}}  RESULT  FIGURE", _BOLD,
                    color)]
    for slo, label, threshold, value in zip(result.slos, labels, thresholds, measured, strict=True):
        state = _paint("PASS", _GREEN, color) if slo.passed else _paint("FAIL", _RED, color)
        lines.append(f"{label:<{width}}  {threshold:>{t_width}}  {value:>{m_width}}  {state}    "
                     f"{figure_label(slo.key)}")
    return lines


def _latency_line(result: LoadRunResult) -> str:
    if not result.latency_ms:
        return "Latency: no request completed"
    keys = ("p50", "p90", "p95", "p99", "p99.9", "max")
    return "Latency: " + "  ".join(f"{key} {fmt_ms(result.latency_ms.get(key))}" for key in keys)


def _error_lines(result: LoadRunResult, color: bool) -> list[str]:
    statuses = ", ".join(f"{status} {fmt_count(count)}" for status, count in sorted_statuses(result)) or "none"
    lines = [
        f"Requests: {fmt_count(result.requests)} in {result.duration_s:.1f}s ({throughput_rps(result):,.1f} req/s; "
        f"{load_shape(result)})",
        f"Statuses: {statuses}; {FIGURE_LABELS['error-rate']} {fmt_ratio(result.error_rate)}",
        f"Entities: {FIGURE_LABELS['failure-ratio']} {fmt_ratio(result.failure_ratio)} "
        f"({fmt_count(result.unexpected_failures)} unexpected); {FIGURE_LABELS['failure-count-ratio']} "
        f"{fmt_ratio(result.failure_count_ratio)} ({fmt_count(result.entity_failures)} of "
        f"{fmt_count(result.entities)})",
    ]
    if result.entity_error_codes:
        codes = sorted_codes(result)
        text = ", ".join(f"{code} {fmt_count(count)}" for code, count in codes[:_CODES_SHOWN])
        if len(codes) > _CODES_SHOWN:
            text += f", +{len(codes) - _CODES_SHOWN} more (see report.md)"
        lines.append(f"Entity error codes: {text}")
    coupons, warn = coupons_line(result)
    duplicates = f"; {fmt_count(result.duplicate_codes)} duplicate codes" if result.duplicate_codes else ""
    lines.append(_paint(f"Coupons: {coupons}{duplicates}", _YELLOW, color and (warn or bool(duplicates))))
    if result.violation_counts:
        lines.append(_paint(f"Contract: {violation_summary(result)}", _RED, color))
        for rule, _count in sorted_violations(result):
            example = result.violation_examples.get(rule)
            if example:
                lines.append(f"  {rule}: {shorten(one_line(example), _EXAMPLE_LIMIT)}")
            curl = sample_curl(result, rule)
            shown = shorten(one_line(curl), _CURL_LIMIT) if curl is not None else f"none ({no_sample_text(rule)})"
            lines.append(f"    sample: {shown}")
    else:
        lines.append(_paint("Contract: held under load (no violation)", _GREEN, color))
    return lines


def _step_lines(result: LoadRunResult) -> list[str]:
    lines = [f"Steps ({result.shape}):"]
    for step in result.steps:
        lines.append(f"  {step.index + 1}. {step_load(step)}, t {step.start_s:g}-{step.end_s:g}s: "
                     f"{fmt_count(step.requests)} requests ({step.rps:,.1f} req/s), error rate "
                     f"{fmt_ratio(step.error_rate)}, p50 {fmt_ms(step.p50_ms)} p95 {fmt_ms(step.p95_ms)} "
                     f"p99 {fmt_ms(step.p99_ms)}")
    return lines


def _warnings(result: LoadRunResult, color: bool) -> list[str]:
    lines = []
    if result.generator_saturated:
        lines.append("WARNING: " + SATURATION_WARNING.format(cpu=fmt_cpu(result.generator_cpu_max)))
    elif result.generator_behind:
        lines.append("WARNING: " + BEHIND_WARNING.format(share=f"{result.generator_late_share or 0:.0%}"))
    if result.interrupted:
        lines.append("Interrupted: these results cover only what ran.")
    if result.stopped_reason:
        lines.append(f"Stopped before its time: {one_line(result.stopped_reason)}")
    return [_paint(line, _YELLOW, color) for line in lines]


def render_load_table(result: LoadRunResult, *, color: bool) -> str:
    """The SLO table, a latency line, errors and violations, and a `PASS:`/`FAIL:` verdict line (no final newline)."""
    lines = [*_slo_lines(result, color), "", _latency_line(result), *_error_lines(result, color)]
    if shows_steps(result):
        lines += _step_lines(result)
    lines.append(f"Generator CPU: max {fmt_cpu(result.generator_cpu_max)}, mean {fmt_cpu(result.generator_cpu_mean)}")
    lines += [f"Note: {one_line(note)}" for note in result.notes]
    if result.comparison is not None:
        lines += ["", *_comparison_lines(result, color)]
    warnings = _warnings(result, color)
    if warnings:
        lines += ["", *warnings]
    ok = result.holds and not result.regressed
    text = verdict(result)
    if result.regressed:
        assert result.comparison is not None
        regressions = "; ".join(f"{row.key} {fmt_change(row, row.change)} beyond {fmt_limit(row.limit)}"
                                for row in result.comparison.regressions if row.limit is not None)
        others = [cause for cause in causes(result) if not cause.startswith("regression against the earlier run")]
        text = f"regression against the earlier run ({regressions})" + "".join(f"; {cause}" for cause in others)
        if result.interrupted:
            text += " (interrupted: partial results)"
    lines += ["", _paint(f"{'PASS' if ok else 'FAIL'}: {text}", _BOLD + (_GREEN if ok else _RED), color)]
    return "\n".join(lines)


def _comparison_lines(result: LoadRunResult, color: bool) -> list[str]:
    comparison = result.comparison
    assert comparison is not None
    lines = comparison_console_lines(comparison)
    paint = _RED if comparison.regressed else _GREEN if comparison.noise_judged else _YELLOW
    return [*lines[:-1], _paint(lines[-1], paint, color)]
