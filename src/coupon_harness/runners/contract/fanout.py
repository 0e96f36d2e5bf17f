"""A contract run's concurrency (`--workers N`) and its courtesy to the target (`--max-rps R`).

A deterministic pass builds its requests in order in its own thread; a `Lane` sends them through the client's N
threads and judges the answers back in that thread in the order built (a reorder buffer), so the Judge sees the
same exchanges in the same order whatever N is: the same findings, reproducers and Ledger decisions. An answer that
arrives after the run stopped is not judged (a serial run would not have sent it); its coupons are still listed.

`Pacer`: requests spaced by 1/R seconds, shared by every sending thread. `Gauge`: requests open now and at most.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import Any, Self, TypeVar

__all__ = ["Gauge", "Lane", "Pacer"]

_T = TypeVar("_T")


class Pacer:
    """At most `rate` requests a second, spaced evenly (None: no limit). Thread-safe: each `wait` books the next
    free slot under a lock and sleeps outside it."""

    def __init__(self, rate: float | None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate is not None and rate <= 0:
            raise ValueError(f"a rate must be above 0, got {rate}")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Return when the next request may go."""
        if self.rate is None:
            return
        with self._lock:
            now = self._clock()
            at = max(now, self._next)
            self._next = at + 1.0 / self.rate
        if at > now:
            self._sleep(at - now)


class Gauge:
    """Requests open now (`open`) and the most open at once (`peak`); a context manager around each request."""

    def __init__(self) -> None:
        self.open = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        with self._lock:
            self.open += 1
            self.peak = max(self.peak, self.open)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        with self._lock:
            self.open -= 1


class Lane:
    """Sends jobs through `executor` (None: in the calling thread) and hands each result to its `then` in the
    calling thread, in submission order, unless `skip()`. Leaving it judges what is left; leaving it on an exception
    cancels what has not started, waits for what is being sent and judges nothing more."""

    def __init__(self, executor: ThreadPoolExecutor | None, window: int, skip: Callable[[], bool]) -> None:
        self._executor = executor
        self._window = max(1, window)
        self._skip = skip
        self._pending: deque[tuple[Future[Any], Callable[[Any], None]]] = deque()

    def submit(self, send: Callable[[], _T], then: Callable[[_T], None]) -> None:
        """Send (`send`, in a sending thread) and judge (`then`, here, in order)."""
        if self._executor is None:
            result = send()
            if not self._skip():
                then(result)
            return
        while len(self._pending) >= self._window:
            self._judge_head()
        self._pending.append((self._executor.submit(send), then))
        while self._pending and self._pending[0][0].done():  # judge what already came back, in order
            self._judge_head()

    def drain(self) -> None:
        """Judge every job submitted so far (waiting for their answers)."""
        while self._pending:
            self._judge_head()

    def _judge_head(self) -> None:
        future, then = self._pending.popleft()
        result = future.result()
        if not self._skip():
            then(result)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if kind is None:
            try:
                self.drain()
            except BaseException:
                self._abandon()
                raise
        else:
            self._abandon()

    def _abandon(self) -> None:
        futures = [future for future, _ in self._pending]
        self._pending.clear()
        for future in futures:
            future.cancel()
        wait(futures)
