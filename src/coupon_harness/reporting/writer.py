"""Write every report file of a contract run into one directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from coupon_harness.reporting._common import atomic_write_text
from coupon_harness.reporting.html import write_html
from coupon_harness.reporting.junit import write_junit
from coupon_harness.reporting.markdown import write_markdown
from coupon_harness.reporting.summary_json import write_summary_json
from coupon_harness.results import ContractRunResult

__all__ = ["REPORT_FILES", "write_all", "write_contract_reports"]

R = TypeVar("R")

#: File name -> writer, the CI gate's file (junit.xml) first.
REPORT_FILES: dict[str, Callable[[ContractRunResult, Path], None]] = {
    "junit.xml": write_junit,
    "summary.json": write_summary_json,
    "report.md": write_markdown,
    "report.html": write_html,
}


def write_contract_reports(result: ContractRunResult, report_dir: Path) -> dict[str, Path]:
    """Create `report_dir` and write junit.xml, summary.json, report.md and report.html into it, and for each
    harness fault its traceback into harness-error-<stage>.txt (the returned mapping names those too)."""
    writers = dict(REPORT_FILES)
    tracebacks: dict[str, list[str]] = {}
    for fault in result.faults:
        tracebacks.setdefault(fault.file_name, []).append(fault.traceback)
    for name, texts in tracebacks.items():
        writers[name] = _text_writer("\n".join(texts))
    return write_all(result, report_dir, writers)


def _text_writer(text: str) -> Callable[[ContractRunResult, Path], None]:
    def write(result: ContractRunResult, path: Path) -> None:
        atomic_write_text(path, text)

    return write


def write_all(result: R, report_dir: Path, writers: dict[str, Callable[[R, Path], None]]) -> dict[str, Path]:
    """Create `report_dir` and write one file per writer into it.

    Each file is written to a temporary file and renamed, so an interrupted run leaves whole files.
    Should one writer fail, the others are still written before the first error is raised.
    """
    report_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    errors: list[Exception] = []
    for name, write in writers.items():
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
