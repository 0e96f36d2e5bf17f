"""Reading a file a user names (a config, a baseline, a report's summary.json): bounded, whatever the path is.

Each refusal is an `UnreadableFile` whose `reason` follows the path, so each caller names its own flag and
fix. Standard library only: every layer may import it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["BAD_PATH", "CONFIG_LIMIT", "DATA_LIMIT", "NESTED_TOO_DEEPLY", "NOT_A_FILE", "NOT_TEXT", "TOO_LARGE",
           "UnreadableFile", "read_text", "size_text"]

#: A config file (a TOML file of targets, the sandbox's YAML or JSON): hand-written, a few kilobytes.
CONFIG_LIMIT = 1024 * 1024
#: A file the harness wrote (a baseline, a report's summary.json): a long soak's is ~200 kB.
DATA_LIMIT = 16 * 1024 * 1024
#: What a parser's RecursionError means for the file it parsed.
NESTED_TOO_DEEPLY = "is nested too deeply to read (thousands of levels of lists or tables)"


#: UnreadableFile.kind: a path the system cannot take, not a regular file, too large, not UTF-8.
BAD_PATH, NOT_A_FILE, TOO_LARGE, NOT_TEXT = "path", "special", "large", "encoding"


class UnreadableFile(ValueError):
    """A file that is not read: `reason` says why, to follow the file's name ("is not a regular file (a
    character device)"), `kind` which of the four refusals it is; str() is the path and the reason."""

    def __init__(self, path: str | Path, reason: str, kind: str) -> None:
        super().__init__(f"{path} {reason}")
        self.path = str(path)
        self.reason = reason
        self.kind = kind


def size_text(limit: int) -> str:
    """1048576 -> "1 MiB"."""
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit:,} bytes"


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a pipe"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def read_text(path: str | Path, *, limit: int) -> str:
    """The text of the regular file at `path`, at most `limit` bytes of UTF-8; OSError as `open` raises it,
    UnreadableFile otherwise. The open never blocks and a device is never read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        descriptor = os.open(path, flags)
    except ValueError as exc:  # a NUL byte, a lone surrogate the file system encoding cannot take
        raise UnreadableFile(repr(str(path))[:80], f"is not a path the system can open ({exc})",
                             BAD_PATH) from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(path, f"is not a regular file ({_kind(info.st_mode)})", NOT_A_FILE)
        if info.st_size > limit:
            raise UnreadableFile(path, f"is larger than {size_text(limit)} ({info.st_size:,} bytes)", TOO_LARGE)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(descriptor, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while read
            raise UnreadableFile(path, f"is larger than {size_text(limit)}", TOO_LARGE)
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(path, f"is not UTF-8 text (byte {exc.start})", NOT_TEXT) from None
