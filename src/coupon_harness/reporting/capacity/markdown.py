"""report.md of a capacity search."""

from __future__ import annotations

from pathlib import Path

from coupon_harness.reporting.capacity.common import fmt_ms, fmt_rate, gate_text, holds, rate_or_why, step_verdict
from coupon_harness.reporting.common import atomic_write_text, md_code, md_text
from coupon_harness.results.capacity import CapacityResult

__all__ = ["render_capacity_markdown", "write_capacity_markdown"]


def render_capacity_markdown(result: CapacityResult) -> str:
    verdict = f"**{'PASS' if holds(result) else 'FAIL'}: {md_text(gate_text(result))}**"
    lines = [f"# Capacity search: {md_text(result.target)}", "", verdict, "",
             "| figure | value |", "|---|---|",
             f"| capacity (highest rate that met every SLO) | {rate_or_why(result, result.capacity_rps)} |",
             f"| breaking rate (lowest rate that broke one) | {rate_or_why(result, result.breaking_rps)} |",
             f"| SLOs | {md_text(', '.join(result.slos))} |",
             f"| steps | {len(result.steps)} ({result.warmup_s:g} s warm-up, not measured, + {result.step_time_s:g} s "
             "measured each) |",
             f"| started | {md_text(result.started_at)}, {result.duration_s:.0f} s in all |",
             f"| coupons issued | {result.coupons_issued:,} (duplicate codes: {result.duplicate_codes:,}) |"]
    if result.generator_limited:
        lines.append(f"| generator limit | {fmt_rate(result.generator_limit_rps)} req/s (the generator, not the "
                     "target, set the figures past it) |")
    lines += ["", "## Steps", "",
              "| step | phase | offered req/s | answered req/s | users | p50 | p95 | p99 | max | error rate | "
              "generator CPU max | verdict |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for step in result.steps:
        latency = step.latency_ms
        cpu = f"{step.generator_cpu_max:.0f}%" + (" (saturated)" if step.generator_saturated else
                                                  " (behind schedule)" if step.generator_behind else "")
        lines.append(f"| {step.index + 1} | {step.phase} | {fmt_rate(step.rate)} | {fmt_rate(step.achieved_rps)} | "
                     f"{step.users} | {fmt_ms(latency.get('p50'))} | {fmt_ms(latency.get('p95'))} | "
                     f"{fmt_ms(latency.get('p99'))} | {fmt_ms(latency.get('max'))} | {step.error_rate:.2%} | {cpu} | "
                     f"{md_text(step_verdict(step))} |")
    if result.violation_counts:
        lines += ["", "## Contract violations", "", "| rule | responses | example |", "|---|---:|---|"]
        for rule, count in sorted(result.violation_counts.items()):
            example = result.violation_examples.get(rule, "")
            lines.append(f"| {md_code(rule, in_table=True)} | {count:,} | {md_text(example)} |")
        lines += ["", "Each step's own report (step-NN/report.md) has the sample requests."]
    if result.notes or result.stopped_reason:
        lines += ["", "## Notes", ""]
        if result.stopped_reason:
            lines.append(f"- stopped: {md_text(result.stopped_reason)}")
        lines += [f"- {md_text(note)}" for note in result.notes]
    return "\n".join(lines) + "\n"


def write_capacity_markdown(result: CapacityResult, path: Path) -> None:
    atomic_write_text(path, render_capacity_markdown(result))
