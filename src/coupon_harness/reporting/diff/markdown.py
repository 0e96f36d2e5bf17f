"""report.md of a differential run: the verdict, a table per group of differences, and each one's reproducer."""

from __future__ import annotations

from pathlib import Path

from coupon_harness.reporting.common import atomic_write_text, md_code, md_text, shorten
from coupon_harness.reporting.diff.common import against_curl, replay_command, verdict
from coupon_harness.results.diff import Difference, DiffRunResult

__all__ = ["render_diff_markdown", "write_diff_markdown"]


def render_diff_markdown(result: DiffRunResult) -> str:
    lines = ["# Differential run", "", f"**{md_text(verdict(result))}**", "",
             f"- base: {md_code(result.base_target)} ({result.base_coupons:,} coupons issued)",
             f"- against: {md_code(result.against_target)} ({result.against_coupons:,} coupons issued)",
             f"- seed {result.seed}, {result.cases:,} cases in {result.duration_s:.1f} s, started {result.started_at}",
             f"- passes: {md_text(', '.join(f'{name} ({count})' for name, count in result.passes)) or 'none'}",
             f"- replay: {md_code(replay_command(result))}"]
    if result.series_map:
        lines.append(f"- series map: {md_code(', '.join(f'{a}={b}' for a, b in result.series_map.items()))}")
    for note in result.notes:
        lines.append(f"- note: {md_text(note)}")
    for fault in result.faults:
        lines.append(f"- harness error in {md_text(fault.stage)}: {md_text(fault.error)} (traceback in "
                     f"{md_code(fault.file_name)})")
    for category, differences in result.by_category():
        lines += ["", f"## {category.capitalize()} ({len(differences)})", "",
                  "| where | base | against | cases | first seen in |", "|---|---|---|---|---|"]
        for d in differences:
            lines.append(f"| {md_text(d.where)} | {md_code(d.base, in_table=True)} | "
                         f"{md_code(d.against, in_table=True)} | {d.occurrences} | {md_text(d.reproducer.source)} |")
        for index, d in enumerate(differences, 1):
            lines += ["", *_reproducer(category, index, d)]
    return "\n".join(lines) + "\n"


def _reproducer(category: str, index: int, d: Difference) -> list[str]:
    r = d.reproducer
    return [f"### {category} {index}: {md_text(d.where)}", "",
            f"Base answered {r.base_status if r.base_status is not None else 'nothing'}, against "
            f"{r.against_status if r.against_status is not None else 'nothing'} ({md_text(r.source)}).", "",
            "```sh", f"# base\n{r.base_request.curl}", f"# against\n{against_curl(r.against_request)}", "```", "",
            f"- base answer: {md_code(shorten(r.base_excerpt, 300))}",
            f"- against answer: {md_code(shorten(r.against_excerpt, 300))}"]


def write_diff_markdown(result: DiffRunResult, path: Path) -> None:
    atomic_write_text(path, render_diff_markdown(result))
