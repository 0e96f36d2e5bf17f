"""SIGINT and SIGTERM end a command the same way: the run stops, the partial report is written.

SIGTERM is raised as `Terminated`, a KeyboardInterrupt. Only the first signal interrupts; later ones cannot
cut the writing of the partial report. Standard library only.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["Terminated", "armed", "deferred", "disarm", "exit_code_for", "handled", "held", "listen_early", "received",
           "signal_name"]

_received: list[int] = []
#: Until armed, a signal is only noted: raised inside an import, it can break a native module (pyo3 panics).
_armed: list[bool] = [False]
#: Set by `listen_early`: the next `handled()` keeps what was noted before it.
_early: list[bool] = [False]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C."""


def received() -> int | None:
    """The first signal that interrupted this process, if any."""
    return _received[0] if _received else None


def signal_name(signum: int | None) -> str:
    if signum == signal.SIGINT:
        return "Ctrl-C (SIGINT)"
    return "SIGTERM" if signum == signal.SIGTERM else "a signal"


def exit_code_for(signum: int | None) -> int:
    """130 for SIGINT, 143 for SIGTERM (128 + the signal number, as shells report them)."""
    return 143 if signum == signal.SIGTERM else 130


def _handler(signum: int, frame: FrameType | None) -> None:
    if _received:
        with contextlib.suppress(OSError):
            print(f"coupon-harness: {signal_name(signum)} again: already stopping, writing the partial report",
                  file=sys.stderr, flush=True)
        return
    _received.append(signum)
    if _armed[0]:
        _raise(signum)


def _raise(signum: int) -> None:
    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


def armed() -> None:
    """From here on a signal raises at once; one noted before raises now."""
    _armed[0] = True
    if _received:
        _raise(_received[0])


def disarm() -> None:
    """From here on a first signal is only noted, until `armed()` (which raises one noted meanwhile)."""
    _armed[0] = False


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Within, a first signal is only noted (`received()` tells): for writing the reports of a finished run."""
    was = _armed[0]
    _armed[0] = False
    try:
        yield
    finally:
        _armed[0] = was


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within, a first signal is only noted; on leaving, it is raised: a request in flight keeps the answer its
    coupons came in. Off the main thread it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    was, before = _armed[0], len(_received)
    with held():
        yield
    if was and len(_received) > before:
        _raise(_received[0])


def listen_early() -> None:
    """Note SIGINT and SIGTERM from the console script's first line, before its imports: Python's own handler raises
    inside whatever import runs then, where a library may swallow the KeyboardInterrupt (a run then went on to the
    end and exited 0, seen under load) or a native module break. `handled()` keeps what was noted; `armed()`
    raises it."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _handler)
        _early[0] = True


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Within: the first SIGINT/SIGTERM raises once `armed()` was called (noted until then), later ones are
    ignored; the previous handlers come back on leaving. No-op off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if not _early[0]:  # a signal the console script noted while it imported is this command's
        _received.clear()
    _early[0] = False
    _armed[0] = False
    previous = {signum: signal.signal(signum, _handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        _armed[0] = False
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _received.clear()  # a library call after this command (the same process) is not interrupted by its signal
