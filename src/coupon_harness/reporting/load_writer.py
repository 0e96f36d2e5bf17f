"""Write every report file of a load run into one directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from coupon_harness.load_results import LoadRunResult
from coupon_harness.reporting.load_html import write_load_html
from coupon_harness.reporting.load_markdown import write_load_markdown
from coupon_harness.reporting.load_summary_json import write_load_summary_json

__all__ = ["LOAD_REPORT_FILES", "write_load_reports"]

#: File name -> writer, the machine-readable gate file (summary.json) first.
LOAD_REPORT_FILES: dict[str, Callable[[LoadRunResult, Path], None]] = {
    "summary.json": write_load_summary_json,
    "report.md": write_load_markdown,
    "report.html": write_load_html,
}


def write_load_reports(result: LoadRunResult, report_dir: Path) -> dict[str, Path]:
    """Create `report_dir` and write summary.json, report.md and report.html into it.

    Each file is written to a temporary file and renamed, so an interrupted run leaves whole files.
    Should one writer fail, the others are still written before the first error is raised.
    """
    report_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    errors: list[Exception] = []
    for name, write in LOAD_REPORT_FILES.items():
        path = report_dir / name
        try:
            write(result, path)
        except Exception as error:
            error.add_note(f"while writing {path}")
            errors.append(error)
        else:
            written[name] = path
    if errors:
        raise errors[0]
    return written
