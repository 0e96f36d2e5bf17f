"""The Locust user: bulk issues with every response checked against the contract.

Imported only inside a load process (importing locust monkey-patches the process with gevent).
Settings reach the class through `BulkIssueUser.state`, set by `plugin.install` before users spawn.
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from typing import Any, ClassVar, cast

import gevent
import orjson
from locust import task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from coupon_harness import ENDPOINT
from coupon_harness.runners.load.checker import now

__all__ = ["BulkIssueUser"]

_user_numbers = itertools.count()


class BulkIssueUser(FastHttpUser):
    """Sends the next request as soon as the answer arrives (or after --wait, or on an arrival schedule)."""

    abstract = False
    state: ClassVar[Any] = None  # plugin.LoadState

    def wait_time(self) -> float:
        state = self.state
        return 0.0 if state is None or state.arrival_interval else state.settings.wait_s

    def on_start(self) -> None:
        state = self.state
        self._number = next(_user_numbers)
        self._customers = itertools.count()
        self._prefix = f"lh-{uuid.uuid4().hex[:8]}-{self._number}"
        self._rng = random.Random()
        self._next_send = time.time() + (self._rng.random() * state.arrival_interval if state.arrival_interval else 0)

    def _batch(self) -> list[int]:
        state = self.state
        settings = state.settings
        size = self._rng.randint(state.batch_min, state.batch_max)
        batch = self._rng.sample(state.valid, min(size, len(state.valid))) if state.valid else []
        if state.invalid and settings.invalid_share > 0:
            batch = [self._rng.choice(state.invalid) if self._rng.random() < settings.invalid_share else s
                     for s in batch]
        return batch or [self._rng.choice(state.invalid)]

    def _customer(self) -> str:
        pool = self.state.settings.customer_ids
        if pool:
            return str(self._rng.choice(pool))
        return f"{self._prefix}-{next(self._customers)}"

    @task
    def issue(self) -> None:
        state = self.state
        if state.stopping:
            raise StopUser
        intended = None
        if state.arrival_interval:
            # Open model: send at the scheduled time and measure from it, so that a slow target cannot
            # hide behind fewer requests (coordinated omission).
            delay = self._next_send - time.time()
            if delay > 0:
                gevent.sleep(delay)
            intended = self._next_send
            self._next_send += state.arrival_interval
        batch = self._batch()
        customer = self._customer()
        body = orjson.dumps({"seriesIds": batch, "customer": {"id": customer}})
        issued_at = now()
        started = time.time()
        with self.client.post(ENDPOINT, data=cast(Any, body), headers=state.headers(), name="bulk-issue",
                              catch_response=True) as response:
            finished = time.time()
            status = response.status_code or None
            outcome = state.checker.check(status, response.headers.get("Content-Type", "") if status else "",
                                          response.content or b"" if status else b"", batch, customer, issued_at)
            if outcome.violations:
                response.failure(outcome.violations[0].rule_id)
            elif status is None:
                response.failure("transport")
            else:
                response.success()
        latency = finished - (intended if intended is not None else started)
        state.record(outcome, latency, customer, finished)
