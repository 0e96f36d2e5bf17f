"""Write every report file of a load run into one directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from coupon_harness.load_results import LoadRunResult
from coupon_harness.reporting.load_html import write_load_html
from coupon_harness.reporting.load_markdown import write_load_markdown
from coupon_harness.reporting.load_summary_json import write_load_summary_json
from coupon_harness.reporting.writer import write_all

__all__ = ["LOAD_REPORT_FILES", "write_load_reports"]

#: File name -> writer, the machine-readable gate file (summary.json) first.
LOAD_REPORT_FILES: dict[str, Callable[[LoadRunResult, Path], None]] = {
    "summary.json": write_load_summary_json,
    "report.md": write_load_markdown,
    "report.html": write_load_html,
}


def write_load_reports(result: LoadRunResult, report_dir: Path) -> dict[str, Path]:
    """Create `report_dir` and write summary.json, report.md and report.html into it (atomically)."""
    return write_all(result, report_dir, LOAD_REPORT_FILES)
