"""What the reports of every run share: atomic writes, one-line and shortened texts, Markdown escaping, the
HTML page frame, writing every format of a run."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["atomic_write_text", "html_page", "md_code", "md_text", "one_line", "plural", "shorten", "write_all"]

R = TypeVar("R")
#: Characters Markdown (or HTML inside it) would read as syntax.
_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&!])")


def plural(count: int, word: str) -> str:
    """'1 finding', '2 findings'."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def one_line(text: str) -> str:
    """Collapse whitespace (newlines included) to single spaces."""
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    cut = max(limit - 30, 1)
    return f"{text[:cut]}… ({len(text) - cut} more chars)"


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to a temporary file beside `path`, then rename it over `path`.

    A run interrupted mid-write leaves the previous file (or none), never half a file.
    """
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


def html_page(title: str, css: str, body: list[str]) -> str:
    """A self-contained page: `title` already escaped, `body` HTML fragments joined by newlines."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
            f"<style>{css}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def md_text(text: str) -> str:
    """Free text on one line with Markdown (and HTML) syntax escaped; safe in a table cell."""
    return _SPECIAL.sub(r"\\\1", one_line(text))


def md_code(text: str, *, in_table: bool = False) -> str:
    """An inline code span holding `text` on one line, whatever backticks it contains."""
    text = one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") or not text else text
    span = f"{fence}{padded}{fence}"
    # GFM splits table cells on "|" even inside code spans; "\|" keeps it a literal pipe.
    return span.replace("|", "\\|") if in_table else span


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
