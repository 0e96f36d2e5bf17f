"""Sends the harness's own requests (scenarios, probes) and hands each exchange to the Judge."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from coupon_harness import ENDPOINT
from coupon_harness.contract.http_rules import WELL_FORMED, Expect
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.interrupts import deferred
from coupon_harness.runners.contract.encoding import dump_json
from coupon_harness.runners.contract.exchange import Exchange, Outgoing, send
from coupon_harness.runners.contract.fanout import Gauge, Lane, Pacer
from coupon_harness.runners.contract.judge import Judge
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.transport.outbound import BoundedClient, OutboundPolicy

__all__ = ["Client", "policy", "request_headers"]


def request_headers(credentials: Callable[[], dict[str, str]], headers: Mapping[str, str | None] | None, *,
                    auth: bool, lower_scheme: bool = False,
                    extra: Sequence[tuple[str, str]] = ()) -> dict[str, str | None]:
    """JSON in and out, the user's headers (-H, `extra`), the credentials' headers when `auth`, then `headers`.
    `lower_scheme`: the Authorization scheme in lower case (RFC 9110 §11.1: a scheme is case-insensitive)."""
    sent: dict[str, str | None] = {"Content-Type": "application/json", "Accept": "application/json", **dict(extra)}
    if auth:
        sent.update(credentials())
        value = sent.get("Authorization")
        if lower_scheme and value is not None:
            scheme, sep, rest = value.partition(" ")
            sent["Authorization"] = scheme.lower() + sep + rest
    sent.update(headers or {})
    return sent


def policy(settings: ContractSettings, url_flag: str = "--base-url") -> OutboundPolicy:
    """The outbound policy of a contract-side run: its deadline, body cap and production guard."""
    return OutboundPolicy(timeout=settings.request_timeout, max_body_bytes=settings.max_body_bytes,
                          allow_production=settings.allow_production, url_flag=url_flag, tls=settings.credentials.tls)


class Client:
    """Every request of a contract run goes through `raw` (the generated passes' through Schemathesis), paced by
    `pacer` (--max-rps) and counted by `gauge`; each thread has its own HTTP session, all bound to one origin."""

    def __init__(self, settings: ContractSettings, judge: Judge, headers: Callable[[], dict[str, str]]) -> None:
        self.settings = settings
        self.judge = judge
        self.auth_headers = headers
        self.url = settings.base_url.rstrip("/") + ENDPOINT
        #: Bound to the base URL's origin (guarded by the production check when built): see transport.outbound.
        self._http = BoundedClient(settings.base_url, policy(settings))
        self._run = uuid.uuid4().hex[:10]
        self._counter = 0
        self._lock = threading.Lock()
        self.pacer = Pacer(settings.max_rps)
        self.gauge = Gauge()
        self._sessions: list[BoundedClient] = [self._http]
        self._owner = threading.get_ident()
        self._local = threading.local()
        self._executor: ThreadPoolExecutor | None = None

    def _session(self) -> BoundedClient:
        """This thread's HTTP client (a requests session is not meant to be shared between threads)."""
        if threading.get_ident() == self._owner:
            return self._http
        http: BoundedClient | None = getattr(self._local, "http", None)
        if http is None:
            http = BoundedClient(self.settings.base_url, policy(self.settings))
            self._local.http = http
            with self._lock:
                self._sessions.append(http)
        return http

    def lane(self) -> Lane:
        """A deterministic pass's way to send: through `settings.workers` threads, judged back here in order."""
        workers = self.settings.workers
        if workers <= 1:
            return Lane(None, 1, self._stopped)
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(workers, thread_name_prefix="coupon-harness-send")
        return Lane(self._executor, 2 * workers, self._stopped)

    def beside(self, judge: Judge, workers: int | None = None) -> Client:
        """A client for a pass that runs beside others: this run's settings, pacer and gauge, judged by `judge`, its
        lanes sending through `workers` threads (None: the run's --workers), its own HTTP sessions (`close` it)."""
        settings = self.settings if workers is None else replace(self.settings, workers=workers)
        other = Client(settings, judge, self.auth_headers)
        other.pacer, other.gauge = self.pacer, self.gauge
        return other

    def _stopped(self) -> bool:
        return self.judge.collector.stopped is not None

    def fresh_customer(self) -> str:
        """A customer id no earlier run can have used, so it holds no coupon yet."""
        with self._lock:
            self._counter += 1
            return f"ch-{self._run}-{self._counter}"

    def customer(self) -> str:
        """The first of --customer-ids (the target may know no other), else a fresh customer."""
        pool = self.settings.customer_ids
        return pool[0] if pool else self.fresh_customer()

    def raw(self, method: str, body: bytes | None, *, headers: Mapping[str, str | None] | None = None,
            auth: bool = True, url: str | None = None, source: str = "", exact: bool = False,
            lower_scheme: bool = False) -> Exchange:
        """Send as is; a header given as None is not sent at all. The answer's coupons are listed (under `source`)
        before a Ctrl-C that came meanwhile ends the run. `exact`: `url`'s path and query go out byte for byte."""
        sent = request_headers(self.auth_headers, headers, auth=auth, lower_scheme=lower_scheme,
                               extra=self.settings.credentials.headers)
        http = self._session()
        self.pacer.wait()
        with deferred():
            with self.gauge:
                exchange = send(http, method, url or self.url, headers=sent, body=body,
                                redactor=self.judge.redactor, exact=exact)
            if source:
                self.judge.log_coupons(exchange, None, source)
        return exchange

    def issue(self, series_ids: Sequence[int], customer_id: str, fresh: bool, *, source: str,
              extra: dict[str, Any] | None = None, query: str = "") -> Exchange:
        """A well-formed bulk issue, judged against every rule."""
        issued = self.send_issue(series_ids, customer_id, fresh, source=source, extra=extra, query=query)
        self.judge_issue(issued, source)
        return issued[0]

    def send_issue(self, series_ids: Sequence[int], customer_id: str, fresh: bool, *, source: str,
                   extra: dict[str, Any] | None = None, query: str = "") -> tuple[Exchange, IssueCall]:
        """`issue`'s sending half (in a lane's sending thread): the exchange and the call to judge it by."""
        body: dict[str, Any] = {"seriesIds": list(series_ids), "customer": {"id": customer_id}}
        body.update(extra or {})
        issued_at = datetime.now(UTC)
        exchange = self.raw("POST", dump_json(body), url=self.url + query if query else None, source=source)
        return exchange, IssueCall(list(series_ids), customer_id, issued_at, fresh)

    def judge_issue(self, issued: tuple[Exchange, IssueCall], source: str) -> None:
        """`issue`'s judging half."""
        self.judge.judge(issued[0], WELL_FORMED, issued[1], source)

    def probe(self, method: str, body: bytes | None, expect: Expect, source: str, *, auth: bool = True,
              headers: dict[str, str] | None = None) -> Exchange:
        exchange = self.raw(method, body, headers=headers, auth=auth, source=source)
        self.judge.judge(exchange, expect, None, source)
        return exchange

    def may_generate(self, source: str) -> bool:
        """Whether a generated (Schemathesis) pass may start."""
        return True

    def generated(self, exchange: Exchange, expect: Expect, call: IssueCall | None, source: str,
                  sent: Outgoing) -> None:
        """A generated case as Schemathesis sent it (`sent`), with its answer or transport failure: judged."""
        self.judge.judge(exchange, expect, call, source)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            sessions = list(self._sessions)
        for http in sessions:
            http.close()
