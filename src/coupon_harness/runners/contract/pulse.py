"""A contract-like run's figures while it runs (requests or cases, findings or differences, coupons, the pass it is
in), sent as its requests are counted."""

from __future__ import annotations

import time
from collections.abc import Callable

from coupon_harness.results.progress import Figures, FiguresSink, Part
from coupon_harness.runners.contract.collector import Collector

__all__ = ["Pulse"]


class Pulse:
    """Sends `measure(part)` to `sink` (if any) at each pass's start, as the collector counts requests (from any
    thread) at most every `every_s` seconds, and at the end."""

    def __init__(self, sink: FiguresSink | None, collector: Collector, passes: int,
                 measure: Callable[[Part | None], Figures], *, every_s: float = 0.2,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sink = sink
        self._passes = passes
        self._measure = measure
        self._every_s = every_s
        self._clock = clock
        self._last = clock()
        self._part: Part | None = None
        if sink is not None:
            collector.on_sent = self.beat

    def enter(self, name: str, index: int) -> None:
        """The run is at its `index`-th pass (from 1), `name`."""
        self._part = Part("pass", name, index, self._passes)
        self.beat(force=True)

    def beat(self, *, force: bool = False) -> None:
        now = self._clock()
        if self._sink is None or (not force and now - self._last < self._every_s):
            return
        self._last = now
        self._sink(self._measure(self._part))
