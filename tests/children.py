"""Child processes of a test, ended however the test ends.

- `Children` (the `children` fixture of tests/conftest.py): `children.start(args, ...)` starts a process in a
  session (process group) of its own; when the test ends, passed or failed, every group still running is killed
  (SIGKILL to the group: a browser's renderers and a locust master's workers go with it), waited for, and its
  pipes closed, so no process and no ResourceWarning outlives the test.
- `reap_leftovers`: the safety net tests/conftest.py runs after every test: a child process that a test started
  and left running (an assert between Popen and wait) is killed with its group, and the Popen object that held it
  is waited for and its pipes closed, so its ResourceWarning does not fail the next test.
- `close_ended_pipes`: after a failed test, the pipes of every ended process it left open (a test that killed its
  processes in `finally` but failed before `communicate`): unclosed, their ResourceWarning failed a later test.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
from collections.abc import Sequence
from typing import Any

import psutil

__all__ = ["Children", "child_pids", "close_ended_pipes", "reap_leftovers"]

#: Children that a library keeps for the whole process (multiprocessing's helpers): never a test's leftovers.
_KEPT = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        pgid = os.getpgid(pid)
        if pgid != os.getpgid(0):  # its own group: end all of it (never ours)
            os.killpg(pgid, signal.SIGKILL)
            return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _close_pipes(process: subprocess.Popen[Any]) -> None:
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


class Children:
    """The processes a test starts, each in a group of its own, all killed when `close` runs."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[Any]] = []

    def start(self, args: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        process: subprocess.Popen[Any] = subprocess.Popen(args, start_new_session=True, **kwargs)
        self.started.append(process)
        return process

    def close(self) -> None:
        for process in self.started:
            if process.poll() is None:
                _kill_group(process.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            _close_pipes(process)


def child_pids() -> set[int]:
    """Every living descendant of this process."""
    try:
        return {child.pid for child in psutil.Process().children(recursive=True)}
    except psutil.Error:
        return set()


def _is_kept(pid: int) -> bool:
    try:
        command = " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return True
    return any(name in command for name in _KEPT)


def reap_leftovers(before: set[int]) -> list[int]:
    """Kill the descendants started since `before` (child_pids() taken then) and still running; return them."""
    left = sorted(pid for pid in child_pids() - before if not _is_kept(pid))
    if not left:
        return []
    for pid in left:
        _kill_group(pid)
    for process in (obj for obj in gc.get_objects() if isinstance(obj, subprocess.Popen)):
        if process.pid in left and process.returncode is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            _close_pipes(process)
    for pid in left:  # a grandchild: no Popen of ours holds it, its own parent (now killed) did
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
    return left


def close_ended_pipes() -> None:
    """Close the pipes of every Popen whose process has ended (a running one, a longer fixture's, is left alone)."""
    for process in (obj for obj in gc.get_objects() if isinstance(obj, subprocess.Popen)):
        if process.returncode is not None or process.poll() is not None:
            _close_pipes(process)
