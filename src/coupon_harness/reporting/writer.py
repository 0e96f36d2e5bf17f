"""The one writer of report files: each kind names its files (name -> a function that writes that path), and
`write_reports` writes them all into the run's folder, each atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path

from coupon_harness.reporting.document import Document
from coupon_harness.reporting.render.html import render_html
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.results.contract import HarnessFault

__all__ = ["FileWriter", "atomic_write_text", "text_file", "traceback_files", "write_document_reports",
           "write_reports"]

#: Writes one report file at the path it is given.
FileWriter = Callable[[Path], None]


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to a temporary file beside `path`, then rename it over `path`: an interrupted run leaves
    the previous file (or none), never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        # backslashreplace: a lone surrogate from a badly decoded answer must not cost the report.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.chmod(0o644)
        temporary.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def text_file(render: Callable[[], str]) -> FileWriter:
    """A file whose text `render` makes (called when the file is written)."""
    return lambda path: atomic_write_text(path, render())


def traceback_files(faults: Iterable[HarnessFault]) -> dict[str, FileWriter]:
    """harness-error-<stage>.txt for each harness fault: its traceback (several faults of one stage share it)."""
    tracebacks: dict[str, list[str]] = {}
    for fault in faults:
        tracebacks.setdefault(fault.file_name, []).append(fault.traceback)
    return {name: text_file(partial("\n".join, texts)) for name, texts in tracebacks.items()}


def write_reports(report_dir: Path, files: Mapping[str, FileWriter]) -> dict[str, Path]:
    """Create `report_dir` and write each file into it, atomically (name -> path written). Should one fail, the
    others are still written before the first error is raised."""
    report_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    errors: list[Exception] = []
    for name, write in files.items():
        path = report_dir / name
        try:
            write(path)
        except Exception as error:
            error.add_note(f"while writing {path}")
            errors.append(error)
        else:
            written[name] = path
    if errors:
        raise errors[0]
    return written


def write_document_reports(report_dir: Path, document: Document, files: Mapping[str, FileWriter]) -> dict[str, Path]:
    """A kind's report folder: its own `files` first (the gate files, tracebacks), then report.md and report.html."""
    return write_reports(report_dir, {**files, "report.md": text_file(partial(render_markdown, document)),
                                      "report.html": text_file(partial(render_html, document))})
