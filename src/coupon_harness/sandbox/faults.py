"""Fault injection at run time: draws the added latency and whether a request fails with a 5xx."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any

from coupon_harness.sandbox.config import Faults

__all__ = ["FaultInjector"]


class FaultInjector:
    def __init__(self, faults: Faults, rng: random.Random) -> None:
        self._low, self._high = faults.latency_range_s
        self._rate = faults.error_rate
        self._statuses = faults.error_statuses
        self.error_after_issue = faults.error_after_issue
        self._rng = rng
        #: The service capacity: requests beyond it wait here (FIFO) before their latency starts; none: no limit.
        self._semaphore = asyncio.Semaphore(faults.concurrency) if faults.concurrency is not None else None
        self.slots: contextlib.AbstractAsyncContextManager[Any] = (
            self._semaphore if self._semaphore is not None else contextlib.nullcontext())
        #: Requests held now (served or waiting), the most held at once, and how many waited for a slot.
        self.held = 0
        self.peak_held = 0
        self.waited = 0

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """Hold one request for its whole service: counted, then in a slot (waiting in line if none is free)."""
        self.held += 1
        self.peak_held = max(self.peak_held, self.held)
        if self._semaphore is not None and self._semaphore.locked():
            self.waited += 1
        try:
            async with self.slots:
                yield
        finally:
            self.held -= 1

    def delay_s(self) -> float:
        """Seconds to hold this request (0 when no latency is configured)."""
        return self._low if self._high <= self._low else self._rng.uniform(self._low, self._high)

    def error_status(self) -> int | None:
        """The 5xx status to answer this request with, or None to answer it normally."""
        failed = self._rate > 0 and self._rng.random() < self._rate
        return self._rng.choice(self._statuses) if failed else None
