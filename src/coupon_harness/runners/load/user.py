"""The Locust user: bulk issues with every response checked against the contract.

Imported only inside a load process (importing locust monkey-patches the process with gevent).
Settings reach the class through `BulkIssueUser.state`, set by `plugin.install` before users spawn.
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import gevent
import orjson
from locust import task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from coupon_harness import ENDPOINT
from coupon_harness.errors import HarnessError
from coupon_harness.transport.outbound import OutboundPolicy
from coupon_harness.transport.outbound_gevent import LoadClient

__all__ = ["BulkIssueUser"]

_user_numbers = itertools.count()


class BulkIssueUser(FastHttpUser):
    """Sends the next request as soon as the answer arrives (or after --wait, or on an arrival schedule).

    Bulk issues go through the policy's `LoadClient`, are judged, then booked once with Locust's request event
    as `POST bulk-issue`, failed as `HTTP <status>`, with the transport's exception, or as
    `ContractViolation(<rule id>)`: Locust's requests and failures are the harness's requests and errors.
    """

    abstract = False
    state: ClassVar[Any] = None  # plugin.LoadState

    def wait_time(self) -> float:
        state = self.state
        return 0.0 if state is None or state.arrival_interval else state.settings.wait_s

    def on_start(self) -> None:
        state = self.state
        while state is None:  # a plain-locust worker's users may spawn while the plugin is installed (preflight)
            gevent.sleep(0.05)
            state = self.state
        self._number = next(_user_numbers)
        self._customers = itertools.count()
        self._prefix = f"lh-{uuid.uuid4().hex[:8]}-{self._number}"
        self._rng = random.Random()
        self._batches = itertools.cycle(state.batches[self._rng.randrange(len(state.batches)):] + state.batches)
        settings = state.settings
        # The host the production guard and the coupon cap were settled for (the web UI may change self.host).
        host = settings.base_url
        self._url = host.rstrip("/") + ENDPOINT
        self._path = urlsplit(host).path.rstrip("/") + ENDPOINT
        self._http = LoadClient(host, OutboundPolicy(timeout=settings.request_timeout,
                                                     max_body_bytes=settings.max_body_bytes,
                                                     allow_production=settings.allow_production,
                                                     tls=settings.credentials.tls))
        self._next_send = time.time() + (self._rng.random() * state.arrival_interval if state.arrival_interval else 0)
        #: When this user's last answer arrived (open model: a send due before it was held up by the target).
        self._answered = 0.0

    def on_stop(self) -> None:
        self._http.close()

    def _customer(self) -> str:
        pool = self.state.settings.customer_ids
        if pool:
            return str(self._rng.choice(pool))
        return f"{self._prefix}-{next(self._customers)}"

    @task
    # Complexity allowed: the load user's hot path: one request sent, timed and recorded inline.
    def issue(self) -> None:  # noqa: PLR0915
        state = self.state
        if state.stopping:
            raise StopUser
        intended = None
        if state.arrival_interval:
            # Open model: send at the scheduled time and measure from it (no coordinated omission); the
            # generator's own delay is recorded (`woke`), the target's slowness never counted in it.
            started_at = time.time()
            delay = self._next_send - started_at
            if delay > 0:
                gevent.sleep(delay)
                state.recorder.woke(time.time() - self._next_send)
            else:
                state.recorder.woke(started_at - max(self._next_send, self._answered))
            intended = self._next_send
            self._next_send += state.arrival_interval
        batch: list[int] = next(self._batches)
        reserved = 0
        if state.coupon_cap is not None:
            # Reserve the batch's coupons before sending; with nothing left, wait for answers in flight.
            reserved = state.reserve(len(batch))
            if reserved == 0:
                if state.stopping:
                    raise StopUser
                gevent.sleep(0.01)
                return
            if reserved < len(batch):
                batch = batch[:reserved]
        customer = self._customer()
        body = orjson.dumps({"seriesIds": batch, "customer": {"id": customer}})
        issued_at = datetime.now(UTC)
        headers: dict[str, str] = {}
        started = time.time()
        content = b""
        content_type = ""
        status: int | None = None
        exception: Exception | None = None
        transport: tuple[str, str] | None = None
        try:
            headers = state.headers()
        except HarnessError as exc:  # the token endpoint redirected: a setup error, the run stops (exit 2)
            state.setup_failed(state.redactor.text(str(exc)))
            raise StopUser from None
        except Exception as exc:  # the token could not be fetched: this request fails with it
            exception = _redacted(exc, state.redactor)
            transport = ("connection", f"no token: {exception}")
        else:
            reply = self._http.post(self._path, body, headers)
            status, content_type, content = reply.status, reply.content_type, reply.body
            if reply.exception is not None:  # no whole answer in time, a body over the cap, a dropped connection
                exception = _redacted(reply.exception, state.redactor)
                transport = (reply.error or "connection", str(exception))
            elif status is not None and status >= 400:
                exception = HttpStatusError(status)
        finished = time.time()
        # Judged first, then booked once, failed exactly when the harness counts an error.
        outcome = state.checker.check(status, content_type, content, batch, customer, issued_at, transport)
        if exception is None and (outcome.violations or status != 200):
            exception = (ContractViolation(outcome.violations[0].rule_id) if status == 200 and outcome.violations
                         else HttpStatusError(status or 0))
        self.environment.events.request.fire(
            request_type="POST", name="bulk-issue", response_time=(finished - started) * 1000,
            response_length=len(content), exception=exception, context={}, response=None, url=self._url)
        self._answered = finished
        latency = finished - (intended if intended is not None else started)
        state.record(outcome, latency, customer, finished, reserved)
        if outcome.violations and state.recorder.wants_sample(outcome):
            state.recorder.add_sample(outcome, "POST", self._url, headers, body)


def _redacted(exc: Exception, redactor: Any) -> Exception:
    """`exc`, or a TransportError with its message redacted when it quotes a secret."""
    text = str(exc)
    if redactor.text(text) != text:
        return TransportError(redactor.text(f"{type(exc).__name__}: {text}"))
    return exc


class HttpStatusError(Exception):
    """A status other than 200, named by the status alone (one Locust error row per status)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")


class TransportError(Exception):
    """A transport failure whose message quoted a secret the target sent back: the redacted message."""


class ContractViolation(Exception):
    """A 200 that broke a rule: the request's Locust failure, its message the rule id (one error row per rule)."""
