"""What every progress line a test reads must be: one clock, no terminal codes (off a terminal)."""

from __future__ import annotations

import re

__all__ = ["ANSI", "CLOCKS", "assert_plain_progress", "clocks"]

#: A clock a line may carry: the display's `[  3.2s]`, or a stage's own elapsed time as the load process once
#: wrote it (`5s: 5 users ...`). "7s left" and "1s warm-up" are lengths, not clocks.
CLOCKS = re.compile(r"\[\s*\d+(?:\.\d+)?s\]|(?<![\w.])\d+(?:\.\d+)?s:")
ANSI = re.compile(r"\x1b\[")


def clocks(line: str) -> int:
    return len(CLOCKS.findall(line))


def assert_plain_progress(stderr: str) -> list[str]:
    """The progress lines of a command's stderr (those that start with the clock), each with one clock, and no
    terminal code anywhere; returns them."""
    assert not ANSI.search(stderr), stderr
    lines = [line for line in stderr.splitlines() if line.startswith("[")]
    assert lines, stderr
    assert all(clocks(line) == 1 for line in lines), [line for line in lines if clocks(line) != 1]
    return lines
