"""The console table of a capacity search: one line a step, the headline, a PASS/FAIL line."""

from __future__ import annotations

from coupon_harness.reporting.capacity.common import fmt_ms, fmt_rate, gate_text, holds, step_verdict
from coupon_harness.reporting.common import one_line
from coupon_harness.results.capacity import CapacityResult

__all__ = ["render_capacity_table"]

_GREEN, _RED, _BOLD, _RESET = "\033[32m", "\033[31m", "\033[1m", "\033[0m"


def render_capacity_table(result: CapacityResult, *, color: bool) -> str:
    header = f"{'step':>4}  {'phase':<6}  {'offered/s':>9}  {'answered/s':>10}  {'p50':>9}  {'p95':>9}  " \
             f"{'p99':>9}  {'errors':>7}  {'CPU':>4}  verdict"
    lines = [f"Capacity search against {result.target}: SLOs {', '.join(result.slos)}", header]
    for step in result.steps:
        cpu = f"{step.generator_cpu_max:.0f}%" + ("!" if step.generator_limited else "")
        lines.append(f"{step.index + 1:>4}  {step.phase:<6}  {fmt_rate(step.rate):>9}  "
                     f"{fmt_rate(step.achieved_rps):>10}  "
                     f"{fmt_ms(step.latency_ms.get('p50')):>9}  {fmt_ms(step.latency_ms.get('p95')):>9}  "
                     f"{fmt_ms(step.latency_ms.get('p99')):>9}  {step.error_rate:>7.2%}  {cpu:>4}  "
                     f"{step_verdict(step)}")
    if result.violation_counts:
        lines.append("Contract violations: " + ", ".join(f"{rule} x{count}" for rule, count
                                                          in sorted(result.violation_counts.items())))
    lines.append(f"Coupons issued: {result.coupons_issued:,} (duplicate codes: {result.duplicate_codes:,})")
    lines += [f"Note: {one_line(note)}" for note in result.notes]
    ok = holds(result)
    text = gate_text(result)
    mark = f"{'PASS' if ok else 'FAIL'}: {text}"
    if color:
        mark = f"{_BOLD}{_GREEN if ok else _RED}{mark}{_RESET}"
    return "\n".join([*lines, "", mark])
