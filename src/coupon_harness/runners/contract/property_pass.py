"""Schemathesis property tests from the spec, positive and negative generation as separate passes.

Schemathesis itself is behind `schemathesis_adapter`; this is the harness's side of a pass and the one loop that
drives Schemathesis (a differential run's too): what each generated case should get (`_classify`), every case as
sent with its answer to `Client.generated` (the Judge; a `PairClient` also sends it to the other target),
progress, and when to stop. A request that got no answer is judged as a transport failure. Findings are recorded,
not raised, so generation goes on and every distinct violation is collected (no shrinking).

Answers are read as the harness's own client reads them (`exchange.send`): at most `max_body_bytes`, within the
request timeout in all; a cut answer is judged as the client path judges it (`transport`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from coupon_harness import interrupts
from coupon_harness.contract.catalog import RuleId
from coupon_harness.contract.http_rules import INTEGRAL_FLOATS, LENIENT, MALFORMED, WELL_FORMED, Expect, other_method
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.contract.schemas import request_validator
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.exchange import Exchange, Outgoing, sample
from coupon_harness.runners.contract.schemathesis_adapter import (
    CaseAnswer,
    Errored,
    Fatal,
    Generated,
    Interrupted,
    Mode,
    PassSettings,
    ScenarioFinished,
    SchemathesisPass,
)
from coupon_harness.runners.contract.spec_loader import generation_spec

__all__ = ["PropertyInterrupted", "run_property_pass"]

MALFORMED_ANY = Expect(frozenset({400, 401, 415}), RuleId.REJECTS_MALFORMED)


class PropertyInterrupted(Exception):
    """Schemathesis reported the run as interrupted (Ctrl-C)."""


@dataclass(slots=True)
class _Answers:
    """Hands each generated case, with its answer or transport failure, to the client's `generated`."""

    client: Client
    source: str
    timeout: float
    max_bytes: int
    run: SchemathesisPass | None = None

    def answered(self, answer: CaseAnswer) -> None:
        """An answer, a cut one worded as `exchange.send` words it (so both paths make one finding)."""
        exchange = self._exchange(answer.request)
        exchange.status, exchange.headers, exchange.body = answer.status, answer.headers, answer.body
        if answer.cut == "too-large":
            exchange.error = "too-large"
            exchange.error_detail = f"body larger than {self.max_bytes} bytes"
        elif answer.cut == "timeout" or answer.took > self.timeout:
            # Schemathesis' timeout bounds each socket read, not the whole answer: a body that trickles in
            # is a hung request all the same.
            exchange.error = "timeout"
            exchange.error_detail = f"answer took {answer.took:.1f} s (timeout {self.timeout:g} s)"
        self._hand(exchange, answer.case, answer.elapsed, answer.request)

    def lost(self, event: Errored) -> None:
        """A request with no answer (hung, dropped): a transport failure, judged as the client path judges one."""
        error, request = event.error, event.request or Outgoing("POST", self.client.url, {}, None, time.time())
        text = str(error)
        kind = "timeout" if "timed out" in text.lower() or "timeout" in type(error).__name__.lower() else "connection"
        exchange = self._exchange(request)
        detail = self.client.judge.redactor.text(text.splitlines()[0] if text else type(error).__name__)[:200]
        exchange.error, exchange.error_detail = kind, detail
        self._hand(exchange, _sent_case(request.method, request.body), 0.0, request)

    def _exchange(self, request: Outgoing) -> Exchange:
        return Exchange(sample(request.method, request.url, request.headers, request.body, self.client.judge.redactor),
                        request.method, None, {}, b"")

    def _hand(self, exchange: Exchange, case: Generated, elapsed: float, sent: Outgoing) -> None:
        judge = self.client.judge
        try:
            expect, call = _classify(case, elapsed)
        except Exception as exc:  # a case the classifier cannot read is the harness's problem, not the target's
            judge.collector.note(f"{self.source}: case not judged ({type(exc).__name__}: {exc})")
            return
        # Raising here (a harness bug, coupons.csv) ends the pass: the adapter stops and `events()` raises it.
        self.client.generated(exchange, expect, call, self.source, sent)
        if judge.collector.stopped and self.run is not None:
            self.run.stop()


def _sent_case(method: str, body: bytes | str | None) -> Generated:
    """How a lost request was generated, read back from what was sent (Schemathesis does not say)."""
    parsed: object = body
    if body is not None:
        with contextlib.suppress(orjson.JSONDecodeError):
            parsed = orjson.loads(body)
    return Generated(method, has_body=body is not None, body=parsed, negative=False, negated=frozenset())


def _classify(case: Generated, elapsed: float) -> tuple[Expect, IssueCall | None]:
    if case.method != "POST":
        return other_method(case.method), None
    body = case.body
    if not case.has_body or isinstance(body, bytes | str):
        return MALFORMED, None
    valid = request_validator().is_valid(body)
    others = case.negated - {"body"}
    if valid and isinstance(body, dict):
        # A "negative" case that the request schema still accepts is judged as what it is: well-formed.
        if others:
            return LENIENT, None
        issued_at = datetime.now(UTC) - timedelta(seconds=elapsed)
        series = body["seriesIds"]
        call = IssueCall([int(s) for s in series], body["customer"]["id"], issued_at)
        if any(isinstance(s, float) for s in series):
            # JSON Schema counts 48.0 as an integer, but many correct servers refuse it: either answer is fine.
            return INTEGRAL_FLOATS, call
        return WELL_FORMED, call
    if others:
        return MALFORMED_ANY, None
    return MALFORMED, None


def run_property_pass(client: Client, mode: Mode, *, headers: Callable[[], dict[str, str]],
                      progress: Callable[[str], None]) -> int:
    """One Schemathesis pass through `client`; returns the number of cases generated. It stops when the collector
    says so (its transport streak counts lost requests too); a Ctrl-C is `PropertyInterrupted`."""
    settings = client.settings
    source = f"property/{mode}"
    collector = client.judge.collector
    if not client.may_generate(source):
        return 0
    answers = _Answers(client, source, settings.request_timeout, settings.max_body_bytes)
    run = SchemathesisPass(
        generation_spec(tight=mode == "positive"),
        PassSettings(base_url=settings.base_url, request_timeout=settings.request_timeout, seed=settings.seed,
                     max_examples=settings.max_examples, mode=mode, max_body_bytes=settings.max_body_bytes,
                     headers=headers, allow_production=settings.allow_production, tls=settings.credentials.tls,
                     pace=client.pacer.wait if client.pacer.rate is not None else None),
        answers.answered,
    )
    answers.run = run
    sent = 0
    with run:
        for event in run.events():
            if isinstance(event, ScenarioFinished):
                sent += event.cases
                progress(f"{source}: {event.phase} phase, {event.cases} requests")
            elif isinstance(event, Errored):
                if event.network:
                    answers.lost(event)
                else:
                    collector.note(f"{source}: schemathesis error {type(event.error).__name__}: "
                                   f"{client.judge.redactor.text(str(event.error))[:200]}")
            elif isinstance(event, Interrupted):
                if event.requested and collector.stopped:
                    break  # our own stop(), not Ctrl-C
                raise PropertyInterrupted
            elif isinstance(event, Fatal):
                raise RuntimeError(f"schemathesis failed: {event.error}") from event.error
            if collector.stopped:
                break
            if interrupts.received() is not None:
                # Schemathesis 4.32 drops a KeyboardInterrupt that lands while a phase's worker threads
                # wind down (and goes on with the next phase): the CLI's handler noted it, so stop here.
                run.stop()
                raise PropertyInterrupted
    return sent
