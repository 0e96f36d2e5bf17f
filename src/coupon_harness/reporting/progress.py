"""The progress lines every run prints while it works."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressPrinter"]


class ProgressPrinter:
    """Prints progress lines like `[  3.2s] property/negative: 43 requests`, flushing each.

    Elapsed time counts from construction. The stream defaults to sys.stderr as it is when a line is
    printed (so redirecting or capturing stderr later still works). `redact` (the run's redactor) is applied
    to every message before it is printed: a line relayed from the load process, a URL, an error text.
    """

    def __init__(self, stream: TextIO | None = None, *, clock: Callable[[], float] = time.monotonic,
                 redact: Callable[[str], str] | None = None) -> None:
        self._stream = stream
        self._clock = clock
        self._start = clock()
        self._redact = redact

    def __call__(self, message: str) -> None:
        elapsed = self._clock() - self._start
        stream = self._stream if self._stream is not None else sys.stderr
        prefix = f"[{elapsed:5.1f}s] "
        if self._redact is not None:
            message = self._redact(message)
        text = message.rstrip("\n").replace("\n", "\n" + " " * len(prefix))
        stream.write(f"{prefix}{text}\n")
        stream.flush()
