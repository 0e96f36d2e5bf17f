"""The console table of a differential run: one line per difference, grouped."""

from __future__ import annotations

from coupon_harness.reporting.common import shorten
from coupon_harness.reporting.diff.common import replay_command, verdict
from coupon_harness.results.diff import DiffRunResult

__all__ = ["render_diff_table"]

_RED, _GREEN, _RESET = "\033[31m", "\033[32m", "\033[0m"


def render_diff_table(result: DiffRunResult, *, color: bool = False) -> str:
    lines = [f"base:    {result.base_target}", f"against: {result.against_target}"]
    for category, differences in result.by_category():
        lines.append(f"{category}:")
        for difference in differences:
            lines.append(f"  {shorten(difference.where, 60)}: {shorten(difference.base, 40)} (base) vs "
                         f"{shorten(difference.against, 40)} (against), {difference.occurrences}x; first in "
                         f"{shorten(difference.reproducer.source, 60)}")
    for note in result.notes:
        lines.append(f"note: {note}")
    text = verdict(result)
    if color:
        text = f"{_GREEN if result.holds and not result.faults else _RED}{text}{_RESET}"
    lines.append(text)
    lines.append(f"replay: {replay_command(result)}")
    return "\n".join(lines)
