"""Write every report file of a capacity search into its folder (beside the steps' own folders)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from coupon_harness.reporting.capacity.html import write_capacity_html
from coupon_harness.reporting.capacity.junit import write_capacity_junit
from coupon_harness.reporting.capacity.markdown import write_capacity_markdown
from coupon_harness.reporting.capacity.summary_json import write_capacity_summary_json
from coupon_harness.reporting.common import write_all
from coupon_harness.results.capacity import CapacityResult

__all__ = ["CAPACITY_REPORT_FILES", "redact_capacity_result", "write_capacity_reports"]

CAPACITY_REPORT_FILES: dict[str, Callable[[CapacityResult, Path], None]] = {
    "summary.json": write_capacity_summary_json,
    "junit.xml": write_capacity_junit,
    "report.md": write_capacity_markdown,
    "report.html": write_capacity_html,
}


def write_capacity_reports(result: CapacityResult, report_dir: Path) -> dict[str, Path]:
    return write_all(result, report_dir, CAPACITY_REPORT_FILES)


def redact_capacity_result(result: CapacityResult, redact: Callable[[str], str]) -> CapacityResult:
    """Every text that came from the target or the load processes, redacted once more."""
    return replace(
        result, target=redact(result.target),
        violation_examples={redact(rule): redact(text) for rule, text in result.violation_examples.items()},
        stopped_reason=redact(result.stopped_reason) if result.stopped_reason is not None else None,
        notes=[redact(note) for note in result.notes], harness_errors=[redact(e) for e in result.harness_errors],
        steps=[replace(step, stopped_reason=redact(step.stopped_reason) if step.stopped_reason else None)
               for step in result.steps])
