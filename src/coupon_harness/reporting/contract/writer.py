"""Write every report file of a contract run into one directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from coupon_harness.reporting.common import atomic_write_text, write_all
from coupon_harness.reporting.contract.html import write_html
from coupon_harness.reporting.contract.junit import write_junit
from coupon_harness.reporting.contract.markdown import write_markdown
from coupon_harness.reporting.contract.summary_json import write_summary_json
from coupon_harness.results.contract import ContractRunResult

__all__ = ["REPORT_FILES", "write_contract_reports"]

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


