"""Schemathesis property tests from the spec, positive and negative generation as separate passes.

Schemathesis itself is behind `schemathesis_adapter` (the only module that imports it); this module is the
harness's side of a pass: what each generated case should get (its classification), judging every answer
by the Judge, progress, and when to stop. Every answer goes through one registered check that hands it to
the harness's Judge, so the property passes judge by exactly the same rules as the scenarios and the load
runner. Findings are recorded, not raised, so generation continues past the first violation and every
distinct violation is collected (no shrinking).

Every answer is read as the harness's own client reads it (`exchange.send`): at most `max_body_bytes`
(+1, to see the excess), and no longer than the request timeout in all (the adapter cuts it); a cut answer
is judged as the client path judges it (`transport`, kind `too-large` or `timeout`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests

from coupon_harness import interrupts
from coupon_harness.contract.catalog import RuleId
from coupon_harness.contract.http_rules import transport_failure
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.contract.schemas import request_validator
from coupon_harness.coupon_log import CouponLogError
from coupon_harness.runners.contract.collector import harness_fault
from coupon_harness.runners.contract.exchange import Exchange, sample
from coupon_harness.runners.contract.judge import (
    INTEGRAL_FLOATS,
    LENIENT,
    MALFORMED,
    WELL_FORMED,
    Expect,
    Judge,
    other_method,
)
from coupon_harness.runners.contract.schemathesis_adapter import (
    Answer,
    Errored,
    Fatal,
    Generated,
    Interrupted,
    Mode,
    PassSettings,
    ScenarioFinished,
    SchemathesisPass,
)
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.runners.contract.spec_loader import generation_spec

__all__ = ["PropertyInterrupted", "run_property_pass"]

MALFORMED_ANY = Expect(frozenset({400, 401, 415}), RuleId.REJECTS_MALFORMED)


class PropertyInterrupted(Exception):
    """Schemathesis reported the run as interrupted (Ctrl-C)."""


@dataclass(slots=True)
class _Judging:
    """One pass's judging of answers (called in Schemathesis' worker threads)."""

    judge: Judge
    source: str
    timeout: float
    max_bytes: int
    stop: Callable[[], None] = lambda: None
    #: The Judge met a harness bug: the pass ends (as a fault, not as an interruption).
    faulted: bool = False
    #: coupons.csv could not be written: the pass ends and the run with it.
    coupon_error: CouponLogError | None = None

    def __call__(self, answer: Answer) -> None:
        judge = self.judge
        exchange = Exchange(
            request=sample(answer.method, answer.url, answer.request_headers, answer.request_body, judge.redactor),
            method=answer.method,
            status=answer.status,
            headers=answer.headers,
            body=answer.body,
        )
        if answer.cut == "too-large":
            # Worded as the harness's own client words it (exchange.send), so both paths make one finding.
            exchange.error = "too-large"
            exchange.error_detail = f"body larger than {self.max_bytes} bytes"
        elif answer.cut == "timeout" or answer.took > self.timeout:
            # Schemathesis' timeout bounds each socket read, not the whole answer: a body that trickles in
            # is a hung request all the same.
            exchange.error = "timeout"
            exchange.error_detail = f"answer took {answer.took:.1f} s (timeout {self.timeout:g} s)"
        try:
            expect, call = _classify(answer.case, answer.elapsed)
        except Exception as exc:  # a case the classifier cannot read is the harness's problem, not the target's
            judge.collector.note(f"{self.source}: case not judged ({type(exc).__name__}: {exc})")
            return
        try:
            judge.judge(exchange, expect, call, self.source)
        except CouponLogError as exc:  # coupons.csv cannot be written: the whole run stops (exit 2)
            self.coupon_error = exc
            self.stop()
            return
        except Exception as exc:  # a harness bug: a fault of this pass, which ends
            judge.collector.fault(harness_fault(self.source.replace("/", "-"), exc, judge.redactor))
            self.faulted = True
            self.stop()
            return
        if judge.collector.stopped:
            self.stop()


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


def _mode(mode: str) -> Mode:
    if mode == "positive":
        return "positive"
    if mode == "negative":
        return "negative"
    raise ValueError(f"unknown generation mode {mode!r}")


def run_property_pass(settings: ContractSettings, judge: Judge, mode: str, *,
                      headers: Callable[[], dict[str, str]], progress: Callable[[str], None]) -> int:
    """One Schemathesis pass (`mode` positive or negative); returns the number of cases sent."""
    source = f"property/{mode}"
    judging = _Judging(judge, source, settings.request_timeout, settings.max_body_bytes)
    run = SchemathesisPass(
        generation_spec(tight=mode == "positive"),
        PassSettings(base_url=settings.base_url, request_timeout=settings.request_timeout, seed=settings.seed,
                     max_examples=settings.max_examples, mode=_mode(mode), max_body_bytes=settings.max_body_bytes,
                     headers=headers, allow_production=settings.allow_production),
        judging,
    )
    judging.stop = run.stop
    sent = 0
    with run:
        for event in run.events():
            if isinstance(event, ScenarioFinished):
                sent += event.cases
                progress(f"{source}: {event.phase} phase, {event.cases} requests")
            elif isinstance(event, Errored):
                _record_error(judge, event.error, source)
            elif isinstance(event, Interrupted):
                if event.requested and (judge.collector.stopped or judging.faulted or judging.coupon_error is not None):
                    break  # our own stop(), not Ctrl-C
                raise PropertyInterrupted
            elif isinstance(event, Fatal):
                raise RuntimeError(f"schemathesis failed: {event.error}") from event.error
            if judge.collector.stopped or judging.faulted or judging.coupon_error is not None:
                break
            if interrupts.received() is not None:
                # Schemathesis 4.32 drops a KeyboardInterrupt that lands while a phase's worker threads
                # wind down (and goes on with the next phase): the CLI's handler noted it, so stop here.
                run.stop()
                raise PropertyInterrupted
    if judging.coupon_error is not None:
        raise judging.coupon_error
    return sent


def _record_error(judge: Judge, error: Exception, source: str) -> None:
    """A network error (timeout, dropped connection) ends Schemathesis' testing of the operation."""

    text = str(error)
    if not isinstance(error, requests.RequestException | OSError):
        name = type(error).__name__
        judge.collector.note(f"{source}: schemathesis error {name}: {judge.redactor.text(text)[:200]}")
        return
    timed_out = "timed out" in text.lower() or "timeout" in type(error).__name__.lower()
    kind = "timeout" if timed_out else "connection"
    judge.collector.sent(transport_ok=False)
    judge.collector.checked((RuleId.TRANSPORT,))
    detail = judge.redactor.text(text.splitlines()[0] if text else type(error).__name__)[:200]
    judge.collector.record(transport_failure(kind, detail), None, None, "", source)
