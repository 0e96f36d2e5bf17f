"""What a user reads on the console, and how much of it: `-q` keeps the errors and the verdict line only.

Progress, notes and "reports: DIR" are informational (`say`, `progress_display`); the results table ends with
the verdict line (`show_result`). Diagnostics go through logging (`log_setup`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TextIO

from coupon_harness.log_setup import configure, level_for

if TYPE_CHECKING:
    from coupon_harness.reporting.progress import ProgressDisplay

__all__ = ["apply_verbosity", "is_quiet", "live_wanted", "progress_display", "say", "show_result"]

_state = {"quiet": False}


def apply_verbosity(verbosity: int) -> None:
    """-1 quiet, 0 default, 1 INFO, 2 DEBUG: the console and the logging setup of this command."""
    _state["quiet"] = verbosity < 0
    configure(level_for(verbosity))


def is_quiet() -> bool:
    return _state["quiet"]


def say(line: str) -> None:
    """An informational line on stderr (`reports: DIR`, a note), left out under -q."""
    if not _state["quiet"]:
        print(line, file=sys.stderr)


def live_wanted(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """A live display on a terminal that can move its cursor: not in a pipe, a file or CI's log, nor with
    TERM=dumb."""
    isatty = getattr(stream, "isatty", None)
    try:
        terminal = bool(isatty is not None and isatty())
    except ValueError:  # a closed stream
        terminal = False
    return terminal and environ.get("TERM", "") != "dumb"


def progress_display(redact: Callable[[str], str] | None = None, *, color: bool = True) -> ProgressDisplay:
    """What the run shows while it works (a context manager): a live line on a terminal, plain lines with one
    clock otherwise, nothing under -q."""
    from coupon_harness.reporting.progress import LiveProgress, PlainProgress, SilentProgress

    if _state["quiet"]:
        return SilentProgress()
    if live_wanted(sys.stderr, os.environ):
        from rich.console import Console

        # soft_wrap: a long line others write (a log line of -v) stays one line, wrapped by the terminal alone.
        return LiveProgress(Console(stderr=True, soft_wrap=True, no_color=not color), redact=redact)
    return PlainProgress(redact=redact)


def show_result(table: str, verdict: str | None = None) -> None:
    """The results table on stdout; under -q only the verdict: `verdict`, else the table's last line."""
    if not _state["quiet"]:
        print(table)
    else:
        print(verdict if verdict is not None else table.rstrip("\n").rpartition("\n")[2])
