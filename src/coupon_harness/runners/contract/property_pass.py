"""Schemathesis property tests from the spec, positive and negative generation as separate passes.

Schemathesis' built-in checks are replaced by one registered check, `coupon_harness_contract`, that
hands every exchange to the harness's Judge, so the property passes judge by exactly the same rules
as the scenarios and the load runner. The check records findings instead of raising, so generation
continues past the first violation and every distinct violation is collected (no shrinking).

Every answer is read as the harness's own client reads it (`exchange.send`): at most `max_body_bytes`
(+1, to see the excess), and no longer than the request timeout in all. The `before_call` hook gives each
request a requests response hook that reads the body before Schemathesis does (requests runs response
hooks before anything reads `.content`) and closes the connection on a cut; the check judges a cut answer
as the client path does (`transport`, kind `too-large`). Schemathesis' probing phase (two GETs of the base
URL whose bodies it reads whole and nobody judges) is not run.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import schemathesis
import urllib3
from schemathesis.core import NotSet
from schemathesis.engine import events
from schemathesis.engine.core import Engine
from schemathesis.generation import GenerationMode
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

from coupon_harness import interrupts
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.contract.schemas import request_validator
from coupon_harness.runners.contract.collector import harness_fault
from coupon_harness.runners.contract.exchange import Exchange, sample
from coupon_harness.runners.contract.judge import (
    INTEGRAL_FLOATS,
    LENIENT,
    MALFORMED,
    OTHER_METHOD,
    WELL_FORMED,
    Expect,
    Judge,
)
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.runners.contract.spec_loader import generation_spec

__all__ = ["CHECK_NAME", "PropertyInterrupted", "run_property_pass"]

CHECK_NAME = "coupon_harness_contract"
MALFORMED_ANY = Expect(frozenset({400, 401, 415}), "rejects-malformed")


class PropertyInterrupted(Exception):
    """Schemathesis reported the run as interrupted (Ctrl-C)."""


@dataclass(slots=True)
class _Active:
    judge: Judge
    source: str
    headers: Callable[[], dict[str, str]]
    timeout: float
    #: Bodies larger than this are cut (ContractSettings.max_body_bytes).
    max_bytes: int
    stop: Callable[[], None] = lambda: None
    #: The check met a harness bug: the pass ends (as a fault, not as an interruption).
    faulted: bool = False


_active: _Active | None = None
_lock = threading.Lock()
#: When the current thread's request left (set by the before_call hook), to time the whole answer.
_sent = threading.local()


#: Attribute of a requests.PreparedRequest holding how its answer was read (a `_Read`).
_READ = "_coupon_harness_read"
#: How much of each answer Schemathesis keeps in its scenario recorder (0 would mean all of it).
_RECORDED_BYTES = 256
#: Bytes asked of the socket per read (read1 returns whatever has arrived, up to this).
_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class _Read:
    """An answer's body as the response hook read it (never more than the cap), and why reading stopped early."""

    body: bytes
    #: "too-large" (more than `max_bytes` arrived) or "timeout" (the deadline passed); None when read whole.
    cut: str | None = None


@dataclass(slots=True)
class _CappedBody:
    """A requests response hook: reads the body as `exchange.send` does, before anything else can read it."""

    max_bytes: int
    deadline: float

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        raw = response.raw
        if raw is None or getattr(response, "_content_consumed", False):
            return response
        chunks: list[bytes] = []
        size = 0
        cut: str | None = None
        try:
            # Never ask for more than one byte past the cap (that byte says the body is larger; it is not kept).
            while chunk := raw.read1(min(_CHUNK, self.max_bytes + 1 - size), decode_content=True):
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_bytes:
                    cut = "too-large"
                    chunks[-1] = chunk[: len(chunk) - (size - self.max_bytes)]  # keep max_bytes, not one more
                    break
                if time.monotonic() > self.deadline:
                    cut = "timeout"  # a body trickling in; the check words it from the whole answer's time
                    break
        # As requests' own reading (Response.iter_content) raises them, so Schemathesis books them the same way.
        except ReadTimeoutError as exc:
            raise requests.exceptions.ConnectionError(exc) from exc
        except ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        except DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from exc
        body = b"".join(chunks)
        if cut is not None:
            response.close()  # the rest is never read: the connection goes, not back to the pool
            # Whoever reads the stream next (Schemathesis reads an event stream itself) finds it ended, not broken.
            response.raw = urllib3.HTTPResponse(
                io.BytesIO(b""), headers=raw.headers, status=raw.status, version=raw.version,
                version_string=raw.version_string, reason=raw.reason, preload_content=False,
                enforce_content_length=False)
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        setattr(response.request, _READ, _Read(body, cut))
        return response


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Global (Schemathesis allows this hook only globally): notes the time, for the check, and bounds the body.

    Schemathesis passes `kwargs` on to `session.request`, so the response hook reaches requests.
    """
    sent_at = time.monotonic()
    _sent.at = sent_at
    active = _active
    if active is None:  # idle outside a harness run
        return
    hooks = dict(kwargs.get("hooks") or {})
    theirs = hooks.get("response") or []
    hooks["response"] = [_CappedBody(active.max_bytes, sent_at + active.timeout),
                         *([theirs] if callable(theirs) else theirs)]
    kwargs["hooks"] = hooks


@schemathesis.check
def coupon_harness_contract(ctx: Any, response: Any, case: Any) -> None:
    active = _active
    if active is None:  # registered globally; idle outside a harness run
        return
    judge = active.judge
    prepared = response.request
    # Taken off the request: Schemathesis keeps the request of every recorded answer, the body need not stay.
    read = vars(prepared).pop(_READ, None)
    if not isinstance(read, _Read):  # the response hook did not run: Schemathesis read the body itself
        read = _Read(response.content)
    exchange = Exchange(
        request=sample(prepared.method or case.method, prepared.url or "", prepared.headers, prepared.body,
                       judge.redactor),
        method=(prepared.method or case.method).upper(),
        status=response.status_code,
        headers={name.lower(): ", ".join(values) for name, values in response.headers.items()},
        body=read.body,
    )
    took = time.monotonic() - getattr(_sent, "at", time.monotonic())
    if read.cut == "too-large":
        # Worded as the harness's own client words it (exchange.send), so both paths make one finding.
        exchange.error = "too-large"
        exchange.error_detail = f"body larger than {active.max_bytes} bytes"
    elif read.cut == "timeout" or took > active.timeout:
        # Schemathesis' timeout bounds each socket read, not the whole answer: a body that trickles in
        # is a hung request all the same.
        exchange.error = "timeout"
        exchange.error_detail = f"answer took {took:.1f} s (timeout {active.timeout:g} s)"
    try:
        expect, call = _classify(case, response.elapsed)
    except Exception as exc:  # a case the classifier cannot read is the harness's problem, not the target's
        judge.collector.note(f"{active.source}: case not judged ({type(exc).__name__}: {exc})")
        return
    try:
        judge.judge(exchange, expect, call, active.source)
    except Exception as exc:  # Schemathesis would book it as a failed check and go on: make it a harness fault
        judge.collector.fault(harness_fault(active.source.replace("/", "-"), exc, judge.redactor))
        active.faulted = True
        active.stop()
        return
    if judge.collector.stopped:
        active.stop()


def _classify(case: Any, elapsed: float) -> tuple[Expect, IssueCall | None]:
    if case.method.upper() != "POST":
        return OTHER_METHOD, None
    body = case.body
    if isinstance(body, NotSet | bytes | str):
        return MALFORMED, None
    valid = request_validator().is_valid(body)
    meta = case.meta
    negated = set()
    if meta is not None and meta.generation.mode is GenerationMode.NEGATIVE:
        negated = {loc.value for loc, info in meta.components.items() if info.mode is GenerationMode.NEGATIVE}
    others = negated - {"body"}
    if valid:
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


def run_property_pass(settings: ContractSettings, judge: Judge, mode: str, *,
                      headers: Callable[[], dict[str, str]], progress: Callable[[str], None]) -> int:
    """One Schemathesis pass (`mode` positive or negative); returns the number of cases sent."""
    global _active
    schema = schemathesis.openapi.from_dict(generation_spec(tight=mode == "positive"))
    schema.config.update(base_url=settings.base_url, request_timeout=settings.request_timeout)
    schema.config.seed = settings.seed
    schema.config.checks.update(included_check_names=[CHECK_NAME])
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE],
        max_examples=settings.max_examples,
        no_shrink=True,
        deterministic=False,
        with_security_parameters=False,
        database="none",
    )
    schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
    # Schemathesis keeps every answer of a scenario for its own reports (1 MiB of each by default); the
    # harness reads none of them (the check judged each body already), so it keeps a line's worth.
    schema.config.output.truncation.max_recorded_payload_size = _RECORDED_BYTES

    class _Auth:
        def get(self, case: Any, ctx: Any) -> dict[str, str]:
            return headers()

        def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
            case.headers = {**(case.headers or {}), **data}

    schema.auth(refresh_interval=None)(_Auth)
    source = f"property/{mode}"
    sent = 0
    with _lock:
        _active = _Active(judge, source, headers, settings.request_timeout, settings.max_body_bytes)
        try:
            stream = _Unprobed(schema=schema).execute()
            _active.stop = stream.stop
            for event in stream:
                if isinstance(event, events.ScenarioFinished):
                    count = len(event.recorder.cases)
                    sent += count
                    progress(f"{source}: {event.phase.value} phase, {count} requests")
                elif isinstance(event, events.NonFatalError):
                    _record_error(judge, event, source)
                elif isinstance(event, events.Interrupted):
                    if judge.collector.stopped or _active.faulted:
                        break  # our own stop(), not Ctrl-C
                    raise PropertyInterrupted
                elif isinstance(event, events.FatalError):
                    raise RuntimeError(f"schemathesis failed: {event.exception}") from event.exception
                if judge.collector.stopped or _active.faulted:
                    break
                if interrupts.received() is not None:
                    # Schemathesis 4.32 drops a KeyboardInterrupt that lands while a phase's worker threads
                    # wind down (and goes on with the next phase): the CLI's handler noted it, so stop here.
                    stream.stop()
                    raise PropertyInterrupted
        finally:
            _active = None
    return sent


class _Unprobed(Engine):
    """Schemathesis' engine without its probing phase.

    The probes (a GET of the base URL with a NUL byte in a header, one of a path with control characters)
    read their answers whole, through a session no hook reaches, and nobody judges them; what they adapt
    (header values, path parameters) does not occur in this spec. Schemathesis' cache replay (requests an
    earlier run recorded in `.schemathesis/`, sent again) runs in the same phase and goes too: what a pass
    sends depends on its seed alone.
    """

    def get_phase_config(self, phase_name: Any, *, is_supported: bool, requires_transitions: bool) -> Any:
        if phase_name.value == "probing":
            is_supported = False
        return super().get_phase_config(phase_name, is_supported=is_supported,
                                        requires_transitions=requires_transitions)


def _record_error(judge: Judge, event: Any, source: str) -> None:
    """A network error (timeout, dropped connection) ends Schemathesis' testing of the operation."""
    from coupon_harness.contract.violations import Violation

    text = str(event.value)
    if not isinstance(event.value, requests.RequestException | OSError):
        name = type(event.value).__name__
        judge.collector.note(f"{source}: schemathesis error {name}: {judge.redactor.text(text)[:200]}")
        return
    timed_out = "timed out" in text.lower() or "timeout" in type(event.value).__name__.lower()
    kind = "timeout" if timed_out else "connection"
    judge.collector.sent(transport_ok=False)
    judge.collector.checked(("transport",))
    detail = judge.redactor.text(text.splitlines()[0] if text else type(event.value).__name__)[:200]
    judge.collector.record(Violation("transport", kind, "a complete answer within the timeout", detail),
                           None, None, "", source)
