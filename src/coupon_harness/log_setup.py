"""The one logging setup of the harness's processes: diagnostics of the `coupon_harness` loggers on stderr.

What a user reads is printed, not logged. The CLI calls `configure` once (`-v`, `-vv`, `-q`) and passes the
level to the load process. Only the package's loggers get the handler, and every message goes through the
redactors registered with `redact_with` before it is written. Standard library only.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Hashable
from typing import TextIO

__all__ = ["FORMAT", "LINE", "PACKAGE", "configure", "level_for", "redact_with"]

PACKAGE = "coupon_harness"
FORMAT = "coupon-harness: %(levelname)s %(name)s: %(message)s"
#: A line of FORMAT (the parent relays the load process's log lines from its stderr).
LINE = re.compile(r"coupon-harness: (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) coupon_harness[.\w]*: ")
#: Redactors kept at most (one per credentials a process used; in-process test suites build many).
_MAX_REDACTORS = 16
_redactors: dict[Hashable, Callable[[str], str]] = {}


def level_for(verbosity: int) -> int:
    """-1 (`-q`): ERROR; 0: WARNING; 1 (`-v`): INFO; 2 or more (`-vv`): DEBUG."""
    if verbosity < 0:
        return logging.ERROR
    return (logging.WARNING, logging.INFO)[verbosity] if verbosity < 2 else logging.DEBUG


def redact_with(key: Hashable, redact: Callable[[str], str]) -> None:
    """Apply `redact` to every message the handler writes from now on (`key`: one entry per credentials)."""
    _redactors.pop(key, None)
    _redactors[key] = redact
    while len(_redactors) > _MAX_REDACTORS:
        del _redactors[next(iter(_redactors))]


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """sys.stderr as it is when a line is written (pytest's capture, a redirection set later)."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self._fixed = stream

    @property
    def stream(self) -> TextIO:
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # StreamHandler.__init__ sets it


class _Redacting(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for redact in list(_redactors.values()):
            text = redact(text)
        return text


def configure(level: int, stream: TextIO | None = None) -> logging.Handler:
    """The `coupon_harness` logger at `level`, with one stderr handler (`stream`: a fixed one instead), replacing
    the one an earlier call set (a CLI run in the same process as another)."""
    logger = logging.getLogger(PACKAGE)
    for handler in [h for h in logger.handlers if isinstance(h, _Stderr)]:
        logger.removeHandler(handler)
    handler = _Stderr(stream)
    handler.setFormatter(_Redacting(FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
