"""Write every report file of a differential run into one directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from coupon_harness.reporting.common import atomic_write_text, write_all
from coupon_harness.reporting.diff.html import write_diff_html
from coupon_harness.reporting.diff.junit import write_diff_junit
from coupon_harness.reporting.diff.markdown import write_diff_markdown
from coupon_harness.reporting.diff.summary_json import write_diff_summary_json
from coupon_harness.results.diff import DiffRunResult

__all__ = ["DIFF_REPORT_FILES", "write_diff_reports"]

DIFF_REPORT_FILES: dict[str, Callable[[DiffRunResult, Path], None]] = {
    "junit.xml": write_diff_junit,
    "summary.json": write_diff_summary_json,
    "report.md": write_diff_markdown,
    "report.html": write_diff_html,
}


def write_diff_reports(result: DiffRunResult, report_dir: Path) -> dict[str, Path]:
    """Every format, and each harness fault's traceback in harness-error-<stage>.txt."""
    writers = dict(DIFF_REPORT_FILES)
    tracebacks: dict[str, list[str]] = {}
    for fault in result.faults:
        tracebacks.setdefault(fault.file_name, []).append(fault.traceback)
    for name, texts in tracebacks.items():
        writers[name] = _text_writer("\n".join(texts))
    return write_all(result, report_dir, writers)


def _text_writer(text: str) -> Callable[[DiffRunResult, Path], None]:
    def write(result: DiffRunResult, path: Path) -> None:
        atomic_write_text(path, text)

    return write
