"""A differential run: every case of the contract passes sent to the base target (A), then to the other (B), and
the two answers compared (`diff_compare`); differences grouped, each with its smallest case.

The passes run unchanged through the one registry on a `PairClient`, a contract `Client` whose every request goes
to both targets, B's body mapped (`diff_mapping`). A's answers are still judged (the passes need it, and its
transport streak stops the run), but those findings are `coupon-harness contract`'s business.

The coupon cap (`DiffSettings.max_coupons`) holds for each target: a case the harness builds is sent only if its
most coupons fit on both. A generated case is known only once sent to A: B gets it if it fits, and the generated
passes stop when fewer than `PROPERTY_RESERVE` are left (A may pass the cap by one batch).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from coupon_harness import ENDPOINT, interrupts
from coupon_harness.contract.http_rules import Expect
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.contract.ledger import Ledger
from coupon_harness.coupon_log import CouponLog, CouponSink
from coupon_harness.errors import ConfigError, TargetUnreachable
from coupon_harness.results.diff import Difference, DiffRunResult, Reproducer
from coupon_harness.results.progress import Figures, FiguresSink, Part
from coupon_harness.runners.contract.client import Client, policy, request_headers
from coupon_harness.runners.contract.collector import Collector
from coupon_harness.runners.contract.diff_compare import Comparer, Delta, TargetAnswer
from coupon_harness.runners.contract.diff_mapping import BodyMap, coupon_bound
from coupon_harness.runners.contract.diff_settings import DiffSettings
from coupon_harness.runners.contract.encoding import dump_json
from coupon_harness.runners.contract.exchange import REFUSED, UNRESOLVED, Exchange, Outgoing, sample, send
from coupon_harness.runners.contract.judge import Judge, log_coupons
from coupon_harness.runners.contract.passes import run_guarded
from coupon_harness.runners.contract.property_pass import PropertyInterrupted
from coupon_harness.runners.contract.pulse import Pulse
from coupon_harness.runners.contract.runner import closing_run, run_shape
from coupon_harness.runners.contract.settings import token_source
from coupon_harness.safety import refuse_production
from coupon_harness.transport.auth import AuthError, Credentials, Redactor, auth_headers
from coupon_harness.transport.outbound import BoundedClient

__all__ = ["PROPERTY_RESERVE", "PairClient", "PairRedactor", "interrupted_diff", "run_diff"]

#: The generated passes stop when fewer coupons than this are left under the cap on either target.
PROPERTY_RESERVE = 100
_ReproducerFactory = Callable[[], Reproducer]


class PairRedactor(Redactor):
    """Both targets' secrets: every text of the run is redacted of A's and of B's (one pass over both)."""

    def __init__(self, first: Redactor, second: Redactor) -> None:
        super().__init__(Credentials(), also=(first, second))


class _Book:
    """The run's tally: cases, coupons per side, the grouped differences, the transport streak. Thread-safe."""

    def __init__(self, comparer: Comparer[_ReproducerFactory], collector: Collector, redactor: Redactor,
                 max_transport_failures: int, cap: int | None, coupon_log: CouponSink | None = None) -> None:
        self.comparer = comparer
        self.redactor = redactor
        self.collector = collector
        #: Where every coupon either target issued is listed as it arrives (sources "base:..." and "against:...").
        self.coupon_log = coupon_log
        self.cases = 0
        self.coupons = [0, 0]
        #: Cases each side answered whole (a target that answers none leaves no evidence either way).
        self.answered = [0, 0]
        self.groups: dict[tuple[str, str, str, str], Difference] = {}
        self.cap = cap
        self._max_failures = max_transport_failures
        self._streak = 0
        self._lock = threading.Lock()

    def fits(self, body: bytes | None, *, sides: tuple[int, ...] = (0, 1)) -> bool:
        """Whether a case with this body can be sent without passing the cap on `sides`; stops the run if not."""
        if self.cap is None:
            return True
        bound = coupon_bound(body)
        with self._lock:
            if all(self.coupons[side] + bound <= self.cap for side in sides):
                return True
        self.stop(f"the coupon cap ({self.cap:,} a target) is reached: cases after it were not sent "
                  "(raise --max-coupons to send them)")
        return False

    def left(self) -> int | None:
        if self.cap is None:
            return None
        with self._lock:
            return self.cap - max(self.coupons)

    def stop(self, reason: str) -> None:
        if self.collector.stopped is None:
            self.collector.stopped = reason

    def record(self, source: str, a: Exchange, sent_a: float, b: Exchange, sent_b: float) -> None:
        def reproducer() -> Reproducer:
            redactor = self.redactor
            return Reproducer(source, a.request, b.request, a.status, b.status, _excerpt(a, redactor),
                              _excerpt(b, redactor))

        answer_a, answer_b = _answer(a, sent_a), _answer(b, sent_b)
        with self._lock:
            if self.coupon_log is not None:
                log_coupons(self.coupon_log, a, None, f"base:{source}", self.redactor.text)
                log_coupons(self.coupon_log, b, None, f"against:{source}", self.redactor.text)
            self.cases += 1
            self.coupons[0] += _coupons(a)
            self.coupons[1] += _coupons(b)
            self.answered[0] += a.error is None
            self.answered[1] += b.error is None
            for delta in self.comparer.compare(answer_a, answer_b, reproducer):
                self._add(delta, reproducer, len(a.request.body or ""))
            failed = a.error is not None or b.error is not None
            self._streak = self._streak + 1 if failed else 0
            if self._streak >= self._max_failures:
                self.stop(f"the targets failed {self._streak} cases in a row at the transport level")

    def _add(self, delta: Delta, reproducer: _ReproducerFactory, size: int) -> None:
        # What each target answered, shown in every report: redacted of both targets' secrets (and keyed so).
        redact = self.redactor.text
        delta = Delta(delta.category, redact(delta.where), redact(delta.base), redact(delta.against))
        key = (delta.category, delta.where, delta.base, delta.against)
        known = self.groups.get(key)
        if known is None:
            self.groups[key] = Difference(delta.category, delta.where, delta.base, delta.against, reproducer())
            return
        known.occurrences += 1
        if size < len(known.reproducer.base_request.body or ""):
            known.reproducer = reproducer()

    def finish(self) -> list[Difference]:
        with self._lock:
            for delta, reproducer in self.comparer.codes.deltas():
                self._add(delta, reproducer, 0)
            return list(self.groups.values())


def _excerpt(exchange: Exchange, redactor: Redactor) -> str:
    if exchange.error is not None:
        return f"no answer: {exchange.error_detail or exchange.error}"
    return exchange.excerpt(redactor)


def _answer(exchange: Exchange, sent_at: float) -> TargetAnswer:
    return TargetAnswer(exchange.status, exchange.error, exchange.headers.get("content-type", ""), exchange.body,
                        sent_at)


def _coupons(exchange: Exchange) -> int:
    entities = exchange.entities() or []
    return sum(1 for e in entities if isinstance(e, dict) and isinstance(e.get("result"), dict) and not e.get("errors"))


class PairClient(Client):
    """A contract Client whose every request goes to A, then (mapped) to B, the pair to the book; `raw` returns
    A's exchange, so the contract passes run on it unchanged."""

    def __init__(self, settings: DiffSettings, judge: Judge, headers_a: Callable[[], dict[str, str]],
                 headers_b: Callable[[], dict[str, str]], body_map: BodyMap, book: _Book) -> None:
        super().__init__(settings.base, judge, headers_a)
        self.against = settings.against_url.rstrip("/") + ENDPOINT
        self.headers_b = headers_b
        self.body_map = body_map
        self.book = book
        self.source = ""
        #: B's own client, bound to B's origin: A's credentials never reach B, nor B's A.
        self._b_http = BoundedClient(settings.against_url, policy(settings.base, "--against-url"))

    def raw(self, method: str, body: bytes | None, *, headers: Mapping[str, str | None] | None = None,
            auth: bool = True, url: str | None = None, source: str = "", exact: bool = False,
            lower_scheme: bool = False) -> Exchange:
        if exact:  # B's URL is mapped from the endpoint's: a route variant has no mapping (routes is no diff pass)
            raise ValueError("a differential run sends no route variant")
        if source:  # every case the passes send comes through here (Client.issue and Client.probe too)
            self.source = source
        return self.pair(method, body, headers=headers, auth=auth, url=url, lower_scheme=lower_scheme)[0]

    def pair(self, method: str, body: bytes | None, *, headers: Mapping[str, str | None] | None = None,
             auth: bool = True, url: str | None = None, lower_scheme: bool = False) -> tuple[Exchange, Exchange]:
        target = url or self.url
        if not self.book.fits(body if method == "POST" else None):
            unsent = Exchange(sample(method, target, {}, body, self.judge.redactor), method, None, {}, b"",
                              "connection", "not sent: the coupon cap is reached")
            return unsent, unsent
        with interrupts.deferred():  # both answers and their coupons are booked before a Ctrl-C ends the run
            sent_a = time.time()
            a = super().raw(method, body, headers=headers, auth=auth, url=url, lower_scheme=lower_scheme)
            b, sent_b = self.send_b(method, self.against + target[len(self.url):], body, headers, auth,
                                    lower_scheme=lower_scheme)
            self.book.record(self.source, a, sent_a, b, sent_b)
        return a, b

    def send_b(self, method: str, url: str, body: bytes | None, headers: Mapping[str, str | None] | None,
               auth: bool, *, lower_scheme: bool = False) -> tuple[Exchange, float]:
        sent = request_headers(self.headers_b, headers, auth=auth, lower_scheme=lower_scheme,
                               extra=self.settings.credentials.headers)
        sent_at = time.time()
        exchange = send(self._b_http, method, url, headers=sent, body=self.body_map.body(body),
                        redactor=self.judge.redactor)
        return exchange, sent_at

    def may_generate(self, source: str, what: str = "did not run") -> bool:
        """False, and the run stopped, when fewer than `PROPERTY_RESERVE` coupons are left under the cap."""
        left = self.book.left()
        if left is not None and left < PROPERTY_RESERVE:
            self.book.stop(f"fewer than {PROPERTY_RESERVE} coupons are left under the cap ({self.book.cap:,}): the "
                           f"generated passes {what} (raise --max-coupons)")
            return False
        return True

    def generated(self, exchange: Exchange, expect: Expect, call: IssueCall | None, source: str,
                  sent: Outgoing) -> None:
        """A generated case: judged on A as a contract run judges it, then sent to B as A got it (but for A's
        credentials) if it fits under B's cap, and the pair booked. In Schemathesis' worker thread."""
        super().generated(exchange, expect, call, source, sent)
        book = self.book
        body = sent.body.encode() if isinstance(sent.body, str) else sent.body
        if not book.fits(body if sent.method == "POST" else None, sides=(1,)):
            return
        skip = {name.lower() for name in self.auth_headers()} | {"content-length", "host"}
        headers = {k: v for k, v in sent.headers.items() if k.lower() not in skip}
        url = self.against + sent.url[len(self.url):] if sent.url.startswith(self.url) else self.against
        b, sent_b = self.send_b(sent.method, url, body, headers, auth=True)
        book.record(source, exchange, sent.sent_at, b, sent_b)
        self.may_generate(source, "stopped")

    def close(self) -> None:
        super().close()
        self._b_http.close()


def run_diff(settings: DiffSettings, progress: Callable[[str], None] = lambda _: None, *,
             figures: FiguresSink | None = None) -> DiffRunResult:
    """Raises TargetUnreachable and ConfigError (exit 2) before the first case; a harness bug inside a pass is a
    fault of the result, and the other passes still run."""
    base = settings.base
    refuse_production(base.base_url, allow=base.allow_production)
    refuse_production(settings.against_url, allow=base.allow_production, url_flag="--against-url")
    redactor_a, headers_a = base.auth()
    tokens_b = token_source(settings.against_url, settings.against_credentials, base.request_timeout,
                            allow_production=base.allow_production, url_flag="--against-url")
    redactor = PairRedactor(redactor_a, Redactor(settings.against_credentials, tokens_b))

    def headers_b() -> dict[str, str]:
        return auth_headers(settings.against_credentials, tokens_b)

    collector = Collector(base.seed, base.max_transport_failures, redactor, left_out=dict(base.left_out))
    judge = Judge(collector, base.expectations, Ledger(base.expectations), redactor)
    body_map = BodyMap(settings.series_map, settings.customer_map)
    expectations = base.expectations
    known = expectations.valid_series | expectations.invalid_series | expectations.generic_series | set(
        settings.series_map)

    def label(series: Any) -> str:
        if isinstance(series, int) and not isinstance(series, bool) and series in known:
            mapped = settings.series_map.get(series)
            return f"series {series}" + (f" (B: {mapped})" if mapped is not None and mapped != series else "")
        return "an unknown series"

    coupons = CouponLog(base.coupons_csv, redact=redactor.text) if base.coupons_csv is not None else None
    book = _Book(Comparer(label, body_map.series_id), collector, redactor, base.max_transport_failures,
                 settings.max_coupons, coupons)
    client = PairClient(settings, judge, headers_a, headers_b, body_map, book)

    def measure(part: Part | None) -> Figures:
        return Figures(stage="diff", requests=book.cases, unit="cases", part=part, differences=len(book.groups),
                       coupons=sum(book.coupons))

    pulse = Pulse(figures, collector, len(settings.passes), measure)
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    passes: list[tuple[str, int]] = []
    notes: list[str] = []
    faults = []
    interrupted = False
    with closing_run(pulse, client, coupons):
        try:
            try:
                _first_case(client, settings)
            except AuthError as exc:
                raise TargetUnreachable(redactor.text(str(exc))) from None
            passes.append(("preflight", book.cases))
            for index, name in enumerate(settings.passes, start=1):
                if collector.stopped:
                    break
                before = book.cases
                progress(f"{name}: started")
                pulse.enter(name, index)
                try:
                    fault = run_guarded(name, client, headers_a, progress, diff=True)
                except AuthError as exc:
                    book.stop(redactor.text(str(exc)))
                else:
                    faults += [fault] if fault is not None else []  # a harness bug: the other passes still run
                passes.append((name, book.cases - before))
                progress(f"{name}: {book.cases - before} cases")
        except (KeyboardInterrupt, PropertyInterrupted):
            interrupted = True
            notes.append("interrupted: the differences cover only the cases sent before the signal")
    if coupons is not None:
        notes.append(f"coupons issued on both targets: {coupons.count}, listed in {coupons.path.name} (sources "
                     "base:... and against:...)")
    if not expectations.valid_series:
        notes.append("no --series-ids given: no case issues coupons on purpose, so coupon attributes are barely "
                     "compared")
    return DiffRunResult(
        started_at=started_at, duration_s=round(time.monotonic() - started, 3), cases=book.cases,
        differences=book.finish(), passes=passes, interrupted=interrupted,
        stopped=collector.stopped if not interrupted else None, notes=notes + collector.notes,
        faults=faults + list(collector.faults), base_coupons=book.coupons[0], against_coupons=book.coupons[1],
        base_answered=book.answered[0], against_answered=book.answered[1], request_timeout_s=base.request_timeout,
        **_fields(settings, redactor))


def interrupted_diff(settings: DiffSettings, reason: str) -> DiffRunResult:
    """A run stopped before its first case."""
    return DiffRunResult(started_at=datetime.now(UTC).isoformat(timespec="seconds"), duration_s=0.0, cases=0,
                         interrupted=True, notes=[reason], **_fields(settings))


def _fields(settings: DiffSettings, redactor: Redactor | None = None) -> dict[str, Any]:
    """What every result of the run names: the targets, the seed, the maps, and what the Replay line needs (the
    base run's shape, the other target's credentials by kind, the coupon cap). Never a credential."""
    plain = PairRedactor(Redactor(settings.base.credentials), Redactor(settings.against_credentials))
    clean = (redactor or plain).text
    return {"base_target": clean(settings.base.base_url), "against_target": clean(settings.against_url),
            "seed": settings.base.seed, "series_map": dict(settings.series_map),
            "customer_map": {clean(k): clean(v) for k, v in settings.customer_map.items()},
            "shape": run_shape(settings.base, plain), "against_credentials": settings.against_credentials.kind,
            "max_coupons": settings.max_coupons}


def _first_case(client: PairClient, settings: DiffSettings) -> None:
    """One well-formed issue to both: nothing listening, or credentials refused, is a harness error (exit 2)."""
    base = settings.base
    series = sorted(base.expectations.valid_series)[:2] or sorted(base.expectations.invalid_series)[:1] or [1]
    customer = client.customer()
    client.source = "preflight"
    a, b = client.pair("POST", dump_json({"seriesIds": series, "customer": {"id": customer}}))
    for exchange, url, flag, creds in ((a, base.base_url, "--base-url", "--user/--token/--oauth-key"),
                                       (b, settings.against_url, "--against-url",
                                        "--against-user/--against-token/--against-oauth-key")):
        where = f"{flag} {client.judge.redactor.text(url)}"
        if exchange.error is not None and exchange.error_detail in (REFUSED, UNRESOLVED):
            raise TargetUnreachable(f"{where}: {exchange.error_detail}; is the target running and the URL right?")
        if exchange.error == "timeout":  # as the contract preflight: a run of timeouts would compare nothing
            raise TargetUnreachable(f"{where}: no answer completed within --request-timeout {base.request_timeout:g} s "
                                    "to the first case: raise --request-timeout, or check the target")
        if exchange.status == 401:
            raise ConfigError(f"{where} answered 401 to the first case: give its credentials ({creds})")
        if exchange.status == 404:  # as the contract preflight: a wrong path prefix is a setup error, not findings
            raise ConfigError(f"{where} answers 404 Not Found on the endpoint: check {flag} (its path prefix)")
