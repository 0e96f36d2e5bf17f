"""Schemathesis behind one module: the only module of coupon_harness that imports it.

`SchemathesisPass` runs one property pass in harness terms: `PassSettings` in, a `CaseAnswer` per answered case
(to `on_answer`, in Schemathesis' worker thread) and `PassEvent`s out; only the exceptions it reports (requests'
or Python's own) cross this boundary. Everything is scoped to the run, nothing changed for another Schemathesis
use of the process: the engine (`_Unprobed`) runs on its own `EngineContext` (`_HardenedContext`) whose sessions
are put under the outbound policy; the credentials, deadline and body cap ride on a `requests` auth object of this
run's schema (`_HarnessAuth`; Schemathesis' `before_call` hook is global only); the check `coupon_harness_contract`
is registered while a pass runs and hands an answer only to the pass that owns its schema; the configuration is
the pass's own (no `schemathesis.toml` read, no run cache written).

Internals relied on, each pinned by tests/contract_layer/test_schemathesis_adapter.py: `Engine`,
`Engine.get_phase_config`, what `Engine.execute` does (mirrored by `_Unprobed.execute`), `EngineContext` and its
`get_session`, `EventStream.stop`, `PhaseName.PROBING`, `Status.SKIP`, the `engine.events` classes consumed below,
`CHECKS.unregister`, `core.NotSet`, `Case.meta`; for types only, `OpenApiCase` and `OpenApiSchema`.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeAlias

import requests
import requests.auth
import schemathesis
import urllib3
from schemathesis import auths
from schemathesis.checks import CHECKS
from schemathesis.config import CacheConfig, InferenceAlgorithm
from schemathesis.core import NotSet
from schemathesis.engine import Status
from schemathesis.engine import events as engine_events
from schemathesis.engine.context import EngineContext
from schemathesis.engine.core import Engine, EventStream
from schemathesis.engine.observations import Observations
from schemathesis.engine.run import Phase, PhaseName, PhaseSkipReason
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

from coupon_harness.runners.contract.exchange import Outgoing
from coupon_harness.transport.credentials import TlsOptions
from coupon_harness.transport.outbound import Deadline, OutboundPolicy, begin, end, harden_session, read_capped

if TYPE_CHECKING:
    from schemathesis import CheckContext, Response
    from schemathesis.specs.openapi.schemas import OpenApiCase, OpenApiSchema

__all__ = ["CHECK_NAME", "CaseAnswer", "Cut", "Errored", "Fatal", "Finished", "Generated", "Interrupted", "Mode",
           "PassEvent", "PassSettings", "PhaseFinished", "PhaseStarted", "ScenarioFinished", "ScenarioStarted",
           "SchemathesisPass", "is_check_registered"]

#: The one check a pass runs (Schemathesis' built-in checks are all off).
CHECK_NAME = "coupon_harness_contract"

Mode: TypeAlias = Literal["positive", "negative"]
#: Why reading an answer stopped early: more than `max_body_bytes` arrived, or the deadline passed.
Cut: TypeAlias = Literal["too-large", "timeout"]


@dataclass(frozen=True, slots=True)
class PassSettings:
    base_url: str
    #: Seconds for a whole answer (Schemathesis' own timeout bounds each socket read only).
    request_timeout: float
    seed: int
    #: Hypothesis examples per phase and operation.
    max_examples: int
    mode: Mode
    #: Bodies larger than this are cut: at most this much of an answer is ever read.
    max_body_bytes: int
    #: The credentials' headers, asked for every request (a token source may renew them).
    headers: Callable[[], Mapping[str, str]]
    #: How much of each answer Schemathesis keeps in its scenario recorder (the harness reads none of it).
    recorded_bytes: int = 256
    #: The production guard's --allow-production, for the pass's sessions (transport.outbound).
    allow_production: bool = False
    #: TLS towards the target (--cacert, --no-tls-verify, --client-cert).
    tls: TlsOptions = field(default_factory=TlsOptions)
    #: Called before each request goes (the run's --max-rps pacer); None: no pacing.
    pace: Callable[[], None] | None = None

    def policy(self) -> OutboundPolicy:
        return OutboundPolicy(timeout=self.request_timeout, max_body_bytes=self.max_body_bytes,
                              allow_production=self.allow_production, tls=self.tls)


@dataclass(frozen=True, slots=True)
class Generated:
    """How Schemathesis generated a case: what the harness needs to know what the target should answer."""

    method: str
    #: False when the case has no body at all (then `body` is None).
    has_body: bool
    #: The generated body: a JSON value, or str/bytes when it was generated as something else.
    body: object
    #: Generated in negative mode (meant to break the schema somewhere).
    negative: bool
    #: The parts generated negatively ("body", "query", "header", "path", "cookie"); empty for positive cases.
    negated: frozenset[str]


@dataclass(frozen=True, slots=True)
class CaseAnswer:
    """One generated case as sent and the answer to it, read as the harness's own client reads answers."""

    request: Outgoing
    status: int
    #: Names lower-cased, repeated headers joined with ", ".
    headers: dict[str, str]
    #: At most `max_body_bytes`.
    body: bytes
    #: Seconds until the answer's status line and headers arrived.
    elapsed: float
    #: Seconds from the request leaving until its body was read (or cut).
    took: float
    cut: Cut | None
    case: Generated


@dataclass(frozen=True, slots=True)
class PhaseStarted:
    phase: str


@dataclass(frozen=True, slots=True)
class PhaseFinished:
    phase: str
    #: The phase did not run (disabled, as probing always is, not applicable, or stopping).
    skipped: bool


@dataclass(frozen=True, slots=True)
class ScenarioStarted:
    phase: str


@dataclass(frozen=True, slots=True)
class ScenarioFinished:
    """Schemathesis finished one scenario (an operation in a phase): `cases` requests were generated."""

    phase: str
    cases: int


@dataclass(frozen=True, slots=True)
class Errored:
    """An error that did not end the run."""

    error: Exception
    label: str
    #: A hung, dropped or refused request (requests' or the socket's own error).
    network: bool = False
    #: The request that met it, when requests says which.
    request: Outgoing | None = None


@dataclass(frozen=True, slots=True)
class Interrupted:
    """The run was interrupted: by `SchemathesisPass.stop` (`requested`), or by a KeyboardInterrupt."""

    requested: bool


@dataclass(frozen=True, slots=True)
class Fatal:
    error: Exception


@dataclass(frozen=True, slots=True)
class Finished:
    """The last event of a run."""


PassEvent: TypeAlias = (PhaseStarted | PhaseFinished | ScenarioStarted | ScenarioFinished | Errored | Interrupted
                        | Fatal | Finished)


class SchemathesisPass:
    """One Schemathesis run over `spec`; use as a context manager, iterate `events()` once. If `on_answer` (called
    in a worker thread) raises, the run stops and `events()` raises it. `stop()` may be called from any thread; the
    run then ends with `Interrupted(requested=True)`."""

    def __init__(self, spec: dict[str, Any], settings: PassSettings, on_answer: Callable[[CaseAnswer], None]) -> None:
        self._settings = settings
        self._on_answer = on_answer
        self._schema = _load(spec, settings)
        self._stream: EventStream | None = None
        self._stop_requested = threading.Event()
        self._active = False
        self._error: Exception | None = None

    def __enter__(self) -> Self:
        _attach(self)
        self._active = True
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._active = False  # a worker still winding down hands nothing more to `on_answer`
        self.stop()
        _detach(self)

    @property
    def schema(self) -> OpenApiSchema:
        return self._schema

    def events(self) -> Iterator[PassEvent]:
        if not self._active:
            raise RuntimeError("SchemathesisPass.events() runs inside `with SchemathesisPass(...)` only")
        self._stream = _Unprobed(self._schema, self._settings.base_url, self._settings.policy()).execute()
        if self._stop_requested.is_set():
            self._stream.stop()
        for event in self._stream:
            if self._error is not None:
                raise self._error
            converted = self._convert(event)
            if converted is not None:
                yield converted
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        self._stop_requested.set()
        if self._stream is not None:
            self._stream.stop()

    # Complexity allowed: one return per Schemathesis event type.
    def _convert(self, event: engine_events.EngineEvent) -> PassEvent | None:  # noqa: PLR0911
        if isinstance(event, engine_events.PhaseStarted):
            return PhaseStarted(event.phase.name.value)
        if isinstance(event, engine_events.PhaseFinished):
            return PhaseFinished(event.phase.name.value, skipped=event.status is Status.SKIP)
        if isinstance(event, engine_events.ScenarioStarted):
            return ScenarioStarted(event.phase.value)
        if isinstance(event, engine_events.ScenarioFinished):
            return ScenarioFinished(event.phase.value, len(event.recorder.cases))
        if isinstance(event, engine_events.NonFatalError):
            return _errored(event.value, event.label)
        if isinstance(event, engine_events.Interrupted):
            return Interrupted(requested=self._stop_requested.is_set())
        if isinstance(event, engine_events.FatalError):
            return Fatal(event.exception)
        if isinstance(event, engine_events.EngineFinished):
            return Finished()
        return None

    def _answered(self, response: Response, case: OpenApiCase) -> None:
        """The check's work for this pass (in a worker thread)."""
        if not self._active:
            return
        try:
            self._on_answer(_answer(response, case))
        except Exception as exc:  # not Schemathesis' to book as a failed check: the run ends, events() raises
            if self._error is None:
                self._error = exc
            self.stop()


# --- the check, registered while a pass runs ---------------------------------------------------------

_passes: dict[int, SchemathesisPass] = {}
_passes_lock = threading.Lock()


def coupon_harness_contract(ctx: CheckContext, response: Response, case: OpenApiCase) -> bool | None:
    """Schemathesis' check for every answer: hands it to the pass whose schema generated the case."""
    owner = _passes.get(id(case.operation.schema))
    if owner is not None and owner.schema is case.operation.schema:
        owner._answered(response, case)
    return None


def _attach(run: SchemathesisPass) -> None:
    with _passes_lock:
        if not _passes:
            schemathesis.check(coupon_harness_contract)
        _passes[id(run.schema)] = run


def _detach(run: SchemathesisPass) -> None:
    with _passes_lock:
        if _passes.get(id(run.schema)) is run:
            del _passes[id(run.schema)]
        if not _passes and CHECK_NAME in CHECKS.get_all_names():
            CHECKS.unregister(CHECK_NAME)


def is_check_registered() -> bool:
    """Whether Schemathesis' check registry holds the harness's check (only while a pass runs)."""
    return CHECK_NAME in CHECKS.get_all_names()


# --- the schema of one pass --------------------------------------------------------------------------

def _load(spec: dict[str, Any], settings: PassSettings) -> OpenApiSchema:
    config = schemathesis.Config(seed=settings.seed, cache=CacheConfig(enabled=False))
    schema = schemathesis.openapi.from_dict(spec, config=config)
    schema.config.update(base_url=settings.base_url, request_timeout=settings.request_timeout)
    schema.config.checks.update(included_check_names=[CHECK_NAME])
    mode = schemathesis.GenerationMode.POSITIVE if settings.mode == "positive" else schemathesis.GenerationMode.NEGATIVE
    schema.config.generation.update(
        modes=[mode],
        max_examples=settings.max_examples,
        no_shrink=True,
        deterministic=False,
        with_security_parameters=False,
        database="none",
    )
    schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
    # Schemathesis keeps every answer of a scenario for its own reports (1 MiB of each by default).
    schema.config.output.truncation.max_recorded_payload_size = settings.recorded_bytes
    schema.auth.set_from_requests(_HarnessAuth(settings.headers, settings.max_body_bytes, settings.request_timeout,
                                               settings.pace))
    return schema


class _HardenedContext(EngineContext):
    """The pass's EngineContext: every session it makes (one per worker thread) is hardened before its first
    request."""

    def __init__(self, *, base_url: str, policy: OutboundPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outbound = (base_url, policy)

    def get_session(self, *, operation: Any = None) -> requests.Session:
        session = super().get_session(operation=operation)
        if not getattr(session, _HARDENED, False):
            harden_session(session, *self.outbound)
            setattr(session, _HARDENED, True)
        return session


#: Attribute of a session `_HardenedContext` put under the policy.
_HARDENED = "_coupon_harness_hardened"


class _Unprobed(Engine):
    """Schemathesis' engine without its probing phase (no setting turns it off), on a hardened EngineContext.

    The probes read their answers whole through a session no auth or hook of the pass reaches, and nobody judges
    them; the cache replay of the same phase goes too: what a pass sends depends on its seed alone.
    """

    def __init__(self, schema: OpenApiSchema, base_url: str, policy: OutboundPolicy) -> None:
        super().__init__(schema=schema)
        self.outbound = (base_url, policy)

    def execute(self) -> EventStream:
        """`Engine.execute`, line for line, but for the EngineContext's class (pinned by the adapter's test)."""
        if self.schema.config.auth.is_defined:
            auths.unregister()
        plan = self._create_execution_plan()
        observations = None
        for phase in plan.phases:
            if (
                phase.name == PhaseName.STATEFUL_TESTING
                and phase.skip_reason in (None, PhaseSkipReason.NOT_APPLICABLE)
                and self.schema.config.phases.stateful.inference.is_algorithm_enabled(
                    InferenceAlgorithm.LOCATION_HEADERS
                )
            ):
                observations = Observations()
        base_url, policy = self.outbound
        ctx = _HardenedContext(base_url=base_url, policy=policy, schema=self.schema, stop_event=threading.Event(),
                               observations=observations, max_time=self.schema.config.max_time)
        return EventStream(plan.execute(ctx), ctx.control.stop_event)

    def get_phase_config(self, phase_name: PhaseName, *, is_supported: bool, requires_transitions: bool) -> Phase:
        if phase_name is PhaseName.PROBING:
            is_supported = False
        return super().get_phase_config(phase_name, is_supported=is_supported,
                                        requires_transitions=requires_transitions)


# --- reading answers ---------------------------------------------------------------------------------

#: Attribute of a requests.PreparedRequest holding how its answer was read (a `_Read`).
_READ = "_coupon_harness_read"


@dataclass(frozen=True, slots=True)
class _Read:
    """An answer's body as the response hook read it (never more than the cap), and why reading stopped early."""

    body: bytes
    sent_at: float
    cut: Cut | None = None


class _HarnessAuth(requests.auth.AuthBase):
    """The pass's requests auth: the harness's headers, and the body cap as a response hook of each request
    (requests calls it after the body and before the hooks, so the hook runs before anything reads the body)."""

    def __init__(self, headers: Callable[[], Mapping[str, str]], max_bytes: int, timeout: float,
                 pace: Callable[[], None] | None = None) -> None:
        self._headers = headers
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._pace = pace

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._pace is not None:  # the last step before the request goes: --max-rps holds for generated cases too
            self._pace()
        request.headers.update(self._headers())
        sent_at = time.monotonic()
        # This request's deadline, in its sending thread: the response hook ends it (or the thread's next request).
        request.hooks["response"].append(_CappedBody(self._max_bytes, sent_at, begin(self._timeout)))
        return request


@dataclass(slots=True)
class _CappedBody:
    """A requests response hook: reads the (streamed) body as `exchange.send` does, before anything else can, and
    leaves it as the response's content; closes the connection on a cut."""

    max_bytes: int
    sent_at: float
    deadline: Deadline

    def __call__(self, response: requests.Response, *args: object, **kwargs: object) -> requests.Response:
        raw = response.raw
        if raw is None or getattr(response, "_content_consumed", False):
            end(self.deadline)
            return response
        try:
                body, cut = read_capped(raw, self.max_bytes, self.deadline)
        # As requests' own reading raises them (so Schemathesis books them alike), with the request for the Judge.
        except ReadTimeoutError as exc:
            raise requests.exceptions.ConnectionError(exc, request=response.request) from exc
        except ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc, request=response.request) from exc
        except DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc, request=response.request) from exc
        finally:
            end(self.deadline)
        if cut is not None:
            response.close()  # the rest is never read: the connection goes, not back to the pool
            # Whoever reads the stream next (Schemathesis reads an event stream itself) finds it ended, not broken.
            response.raw = urllib3.HTTPResponse(
                io.BytesIO(b""), headers=raw.headers, status=raw.status, version=raw.version,
                version_string=raw.version_string, reason=raw.reason, preload_content=False,
                enforce_content_length=False)
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        setattr(response.request, _READ, _Read(body, self.sent_at, cut))
        return response


def _answer(response: Response, case: OpenApiCase) -> CaseAnswer:
    prepared = response.request
    # Taken off the request: Schemathesis keeps the request of every recorded answer, the body need not stay.
    read = vars(prepared).pop(_READ, None)
    if isinstance(read, _Read):
        body, cut, took = read.body, read.cut, time.monotonic() - read.sent_at
    else:  # the response hook did not run (the auth was not applied to this case): Schemathesis read the body
        body, cut, took = response.content, None, response.elapsed
    return CaseAnswer(
        request=_sent(prepared, (prepared.method or case.method).upper(), time.time() - took),
        status=response.status_code,
        headers={name.lower(): ", ".join(values) for name, values in response.headers.items()},
        body=body,
        elapsed=response.elapsed,
        took=took,
        cut=cut,
        case=_generated(case),
    )


def _errored(error: Exception, label: str) -> Errored:
    prepared = getattr(error, "request", None)
    request = None
    if isinstance(prepared, requests.PreparedRequest):
        request = _sent(prepared, (prepared.method or "").upper(), time.time())
    return Errored(error, label, network=isinstance(error, requests.RequestException | OSError), request=request)


def _sent(prepared: requests.PreparedRequest, method: str, sent_at: float) -> Outgoing:
    return Outgoing(method, prepared.url or "", dict(prepared.headers), prepared.body, sent_at)


def _generated(case: OpenApiCase) -> Generated:
    body = case.body
    has_body = not isinstance(body, NotSet)
    meta = case.meta
    negative = meta is not None and meta.generation.mode.is_negative
    negated: frozenset[str] = frozenset()
    if meta is not None and negative:
        negated = frozenset(str(location.value) for location, info in meta.components.items()
                            if info.mode.is_negative and location.value is not None)
    return Generated(method=case.method.upper(), has_body=has_body, body=body if has_body else None,
                     negative=negative, negated=negated)
