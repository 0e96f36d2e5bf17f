"""An exclusive lock on a lock file, between threads and processes: a report folder's (one run writes there) and a
baseline's (one update at a time).

`flock` on the file, which the holder removes before it lets go; a taker that locked a removed file sees its inode
is not the path's any more and takes the new one. Standard library only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

__all__ = ["FileLock", "holder_of"]


class FileLock:
    """`acquire` it, `release` it; `holder_of` reads who holds one (the pid it wrote)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, timeout: float = 0.0) -> bool:
        """Take the lock, waiting at most `timeout` seconds (0: not at all); False when another holder kept it.
        OSError when the lock file cannot be made."""
        deadline = time.monotonic() + timeout
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.005)
                continue
            try:
                current = self.path.stat()
            except FileNotFoundError:
                current = None
            mine = os.fstat(fd)
            if current is None or (current.st_dev, current.st_ino) != (mine.st_dev, mine.st_ino):
                os.close(fd)  # released and removed by its holder between our open and our lock: take the new one
                continue
            with contextlib.suppress(OSError):  # who holds it: a courtesy to a run that is refused
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
            self._fd = fd
            return True

    def release(self) -> None:
        """Remove the lock file while still holding it (no other taker can hold this file now), then let go."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = None


def holder_of(path: Path) -> str | None:
    """The pid that holds the lock file at `path` (as it wrote it), "" when held by an unknown holder, None when
    nobody holds it (or there is none). Never takes it for longer than it takes to try."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        text = ""
        with contextlib.suppress(OSError):
            text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        return text if text.isdigit() else ""
    finally:
        os.close(fd)
    return None
