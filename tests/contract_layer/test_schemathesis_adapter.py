"""What `schemathesis_adapter` relies on in Schemathesis, pinned, so that an upgrade that changes it fails here.

Three kinds of test: the pin itself (the installed minor version is one this file covers, and pyproject.toml
allows no other); every Schemathesis name the adapter touches, by name and signature (the engine, its
events, the check registry, the configuration calls, the case metadata); and passes run end to end
against a sandbox on 127.0.0.1 (answers cut at a small cap, negative cases classified, the events the
adapter turns into its own, no probing request, and nothing left registered once a pass is over).

Upgrading Schemathesis: install the new version, run this file, fix the adapter until it passes, then add
the new minor version to COVERED and widen the pin in pyproject.toml.
"""

from __future__ import annotations

import ast
import base64
import dataclasses
import inspect
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from schemathesis import auths
from schemathesis.checks import CHECKS
from schemathesis.config import CacheConfig, ChecksConfig, GenerationConfig, PhasesConfig
from schemathesis.core import NotSet
from schemathesis.engine import Status, events
from schemathesis.engine.context import EngineContext
from schemathesis.engine.core import Engine, EventStream
from schemathesis.engine.run import Phase, PhaseName, PhaseSkipReason
from schemathesis.generation.meta import CaseMetadata, ComponentInfo, GenerationInfo
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from coupon_harness import ENDPOINT
from coupon_harness.runners.contract import schemathesis_adapter as adapter
from coupon_harness.runners.contract.schemathesis_adapter import (
    CHECK_NAME,
    CaseAnswer,
    Errored,
    Fatal,
    Finished,
    Interrupted,
    PassEvent,
    PassSettings,
    PhaseFinished,
    PhaseStarted,
    ScenarioFinished,
    SchemathesisPass,
    is_check_registered,
)
from coupon_harness.runners.contract.spec_loader import generation_spec
from coupon_harness.sandbox.info import sandbox_info
from coupon_harness.sandbox.server import RunningSandbox, running_sandbox
from targets.hostile import Hostile, Recorder, head, serving

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "coupon_harness"

#: (major, minor) versions of Schemathesis this file was run against; pyproject.toml pins to exactly these.
COVERED = {(4, 32)}
PIN = "schemathesis>=4.32,<4.33"

CAP = 16


# --- the pin -----------------------------------------------------------------------------------------

def test_installed_schemathesis_is_a_covered_version() -> None:
    major, minor = (int(part) for part in schemathesis.__version__.split(".")[:2])
    assert (major, minor) in COVERED, (
        f"schemathesis {schemathesis.__version__} is not a version this adapter test covers ({sorted(COVERED)}): "
        "run this file against it, fix the adapter, then add it to COVERED and to the pin in pyproject.toml")


def test_pyproject_pins_schemathesis_to_the_covered_versions() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = [d.replace(" ", "") for d in dependencies if d.replace(" ", "").startswith("schemathesis")]
    assert pins == [PIN], f"pyproject.toml pins {pins}; this test covers {PIN}"


def test_only_the_adapter_imports_schemathesis() -> None:
    importers = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            if any(name.split(".")[0] == "schemathesis" for name in names):
                importers.add(path.relative_to(ROOT).as_posix())
    assert importers == {"src/coupon_harness/runners/contract/schemathesis_adapter.py"}, importers


# --- every name the adapter touches, by name and signature ------------------------------------------

def _parameters(function: Any) -> list[tuple[str, str]]:
    return [(p.name, p.kind.name) for p in inspect.signature(function).parameters.values()]


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_the_engine_can_still_leave_out_the_probing_phase() -> None:
    """`_Unprobed` overrides `Engine.get_phase_config`, which builds every phase's plan, probing included."""
    assert dataclasses.is_dataclass(Engine) and _fields(Engine) == {"schema"}
    assert _parameters(Engine.get_phase_config) == [
        ("self", "POSITIONAL_OR_KEYWORD"), ("phase_name", "POSITIONAL_OR_KEYWORD"),
        ("is_supported", "KEYWORD_ONLY"), ("requires_transitions", "KEYWORD_ONLY")]
    assert inspect.signature(Engine.get_phase_config).return_annotation == "Phase"
    plan = inspect.getsource(Engine._create_execution_plan)
    assert "self.get_phase_config(PhaseName.PROBING" in plan, "the plan no longer asks get_phase_config for probing"
    assert PhaseName.PROBING.value == "probing"
    assert {"examples", "coverage", "fuzzing"} <= {name.value for name in PhaseName}
    assert _parameters(Phase) == [("name", "POSITIONAL_OR_KEYWORD"), ("is_enabled", "POSITIONAL_OR_KEYWORD"),
                                  ("skip_reason", "POSITIONAL_OR_KEYWORD")]
    assert _parameters(Engine.execute) == [("self", "POSITIONAL_OR_KEYWORD")]
    assert inspect.signature(Engine.execute).return_annotation == "EventStream"
    assert callable(EventStream.stop) and callable(EventStream.__iter__)


def test_the_events_the_adapter_reads() -> None:
    assert {"phase"} <= _fields(events.PhaseStarted) and {"phase"} <= _fields(events.PhaseFinished)
    assert {"phase"} <= _fields(events.ScenarioStarted)
    assert {"phase", "recorder"} <= _fields(events.ScenarioFinished)
    assert {"value", "label"} <= _fields(events.NonFatalError)
    assert {"phase"} <= _fields(events.Interrupted)
    assert {"exception"} <= _fields(events.FatalError)
    assert issubclass(events.EngineFinished, events.EngineEvent)
    assert {"name"} <= _fields(Phase) and {"status"} <= _fields(events.PhaseFinished)
    assert Status.SKIP.value == "skip"


def test_the_check_registry_and_the_check_signature() -> None:
    assert _parameters(schemathesis.check) == [("func", "POSITIONAL_OR_KEYWORD")]
    for name in ("get_all_names", "register", "unregister"):
        assert callable(getattr(CHECKS, name)), name
    assert _parameters(CHECKS.unregister) == [("name", "POSITIONAL_OR_KEYWORD")]
    # Schemathesis calls a check as check(ctx, response, case).
    assert [name for name, _ in _parameters(adapter.coupon_harness_contract)] == ["ctx", "response", "case"]
    assert "included_check_names" in inspect.signature(ChecksConfig.update).parameters


def test_the_configuration_calls() -> None:
    config = inspect.signature(schemathesis.Config).parameters
    assert {"seed", "cache"} <= set(config)
    assert "enabled" in inspect.signature(CacheConfig).parameters
    assert "config" in inspect.signature(schemathesis.openapi.from_dict).parameters
    assert {"modes", "max_examples", "no_shrink", "deterministic", "with_security_parameters", "database"} <= set(
        inspect.signature(GenerationConfig.update).parameters)
    assert "phases" in inspect.signature(PhasesConfig.update).parameters
    schema = schemathesis.openapi.from_dict(generation_spec(tight=True), config=schemathesis.Config())
    assert {"base_url", "request_timeout"} <= set(inspect.signature(schema.config.update).parameters)
    assert isinstance(schema.config.output.truncation.max_recorded_payload_size, int | None)
    assert _parameters(schema.auth.set_from_requests) == [("auth", "POSITIONAL_OR_KEYWORD")]


def test_the_case_metadata_the_classification_reads() -> None:
    assert {"generation", "components"} <= _fields(CaseMetadata)
    assert "mode" in GenerationInfo.__slots__ and "mode" in ComponentInfo.__slots__
    assert schemathesis.GenerationMode.NEGATIVE.is_negative and not schemathesis.GenerationMode.POSITIVE.is_negative
    assert isinstance(NotSet, type)
    assert isinstance(inspect.getattr_static(schemathesis.Case, "meta"), property)
    assert {"body", "method", "operation"} <= _fields(schemathesis.Case)


# --- passes against a sandbox ------------------------------------------------------------------------

@dataclass
class Seen:
    answers: list[CaseAnswer] = field(default_factory=list)
    events: list[PassEvent] = field(default_factory=list)
    #: Whether the check was registered, as seen from inside the run.
    registered_during: set[bool] = field(default_factory=set)
    #: Every request the sandbox got: (method, path).
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _credentials(sandbox: RunningSandbox) -> dict[str, str]:
    info = sandbox_info(sandbox.config)
    token = base64.b64encode(f"{info['defaultUser']}:{info['defaultPassword']}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _run(mode: str, seen: Seen, *, max_examples: int = 4, cap: int = CAP) -> None:
    async def before(request: web.Request) -> None:
        with seen.lock:
            seen.requests.append((request.method, request.path))

    with running_sandbox(before=before) as sandbox:
        settings = PassSettings(base_url=sandbox.base_url, request_timeout=5.0, seed=1, max_examples=max_examples,
                                mode="positive" if mode == "positive" else "negative", max_body_bytes=cap,
                                headers=lambda: _credentials(sandbox))

        def on_answer(answer: CaseAnswer) -> None:
            with seen.lock:
                seen.answers.append(answer)
                seen.registered_during.add(is_check_registered())

        with SchemathesisPass(generation_spec(tight=mode == "positive"), settings, on_answer) as run:
            seen.events.extend(run.events())


@pytest.fixture(scope="module")
def positive() -> Seen:
    seen = Seen()
    _run("positive", seen)
    return seen


@pytest.fixture(scope="module")
def negative() -> Seen:
    seen = Seen()
    _run("negative", seen)
    return seen


def test_answers_are_cut_at_the_cap(positive: Seen) -> None:
    assert positive.answers
    assert all(len(a.body) <= CAP for a in positive.answers)
    cut = [a for a in positive.answers if a.cut == "too-large"]
    assert cut, [(a.status, a.body) for a in positive.answers]
    assert all(len(a.body) == CAP for a in cut)
    assert any(a.status == 200 for a in positive.answers), "the credentials did not reach the sandbox"
    for answer in positive.answers:
        assert answer.request.url.startswith("http://127.0.0.1:")
        assert ENDPOINT in answer.request.url or answer.request.method != "POST"
        assert answer.request.headers.get("Authorization", "").startswith("Basic ")
        assert answer.took >= 0 and answer.elapsed >= 0
        assert all(name == name.lower() for name in answer.headers)


def test_positive_cases_are_classified_positive(positive: Seen) -> None:
    posts = [a for a in positive.answers if a.case.method == "POST"]
    assert posts
    assert all(not a.case.negative and not a.case.negated for a in posts)
    assert any(a.case.has_body and isinstance(a.case.body, dict) for a in posts)


def test_negative_cases_carry_their_classification(negative: Seen) -> None:
    assert negative.answers
    assert all(a.case.negative for a in negative.answers)
    # A negative POST broke at least one part of the request; other methods are the mutation themselves.
    posts = [a for a in negative.answers if a.case.method == "POST"]
    assert posts and all(a.case.negated for a in posts), [a.case for a in posts if not a.case.negated]
    assert any(a.case.negated == {"body"} for a in posts)
    assert any(a.case.negated - {"body"} for a in posts), "no case broke a query or header parameter"
    assert all(a.case.negated <= {"body", "query", "header", "path", "cookie"} for a in negative.answers)
    assert {a.case.method for a in negative.answers} - {"POST"}, "no case with another method"


def test_the_engine_emits_the_events_the_adapter_consumes(positive: Seen) -> None:
    started = [e.phase for e in positive.events if isinstance(e, PhaseStarted)]
    finished = [(e.phase, e.skipped) for e in positive.events if isinstance(e, PhaseFinished)]
    assert {"examples", "coverage", "fuzzing"} <= set(started), started
    assert ("probing", True) in finished, finished  # announced, never run
    assert {("coverage", False), ("fuzzing", False)} <= set(finished), finished  # examples: the spec has none
    scenarios = [e for e in positive.events if isinstance(e, ScenarioFinished)]
    assert scenarios and sum(e.cases for e in scenarios) >= len(positive.answers) > 0
    assert isinstance(positive.events[-1], Finished)
    assert not [e for e in positive.events if isinstance(e, Interrupted | Fatal | Errored)], positive.events


def test_no_probing_request_reaches_the_target(positive: Seen) -> None:
    assert positive.requests
    assert {path for _, path in positive.requests} == {ENDPOINT}, sorted(set(positive.requests))


def test_the_check_is_registered_for_the_run_only(positive: Seen) -> None:
    assert positive.registered_during == {True}
    assert not is_check_registered()
    assert CHECK_NAME not in CHECKS.get_all_names()
    assert not GLOBAL_HOOK_DISPATCHER.get_all_by_name("before_call")
    assert not adapter._passes


def test_a_later_plain_schemathesis_use_is_untouched(positive: Seen) -> None:
    """After a pass: a plain schema has no auth, answers are read whole, only built-in checks are there."""
    schema = schemathesis.openapi.from_dict(generation_spec(tight=True))
    assert not schema.auth.is_defined
    assert CHECK_NAME not in CHECKS.get_all_names()
    with running_sandbox() as sandbox:
        case = schema[ENDPOINT]["POST"].Case(body={"seriesIds": [1], "customer": {"id": 1}})
        response = case.call(base_url=sandbox.base_url, session=requests.Session())
    assert len(response.content) > CAP
    assert not hasattr(response.request, "_coupon_harness_read")


def test_stop_from_an_answer_ends_the_run_as_requested() -> None:
    with running_sandbox() as sandbox:
        settings = PassSettings(base_url=sandbox.base_url, request_timeout=5.0, seed=1, max_examples=50,
                                mode="positive", max_body_bytes=CAP, headers=dict)
        answers: list[CaseAnswer] = []
        runs: list[SchemathesisPass] = []

        def on_answer(answer: CaseAnswer) -> None:
            answers.append(answer)
            runs[0].stop()

        with SchemathesisPass(generation_spec(tight=True), settings, on_answer) as run:
            runs.append(run)
            seen = list(run.events())
    interrupted = [e for e in seen if isinstance(e, Interrupted)]
    assert interrupted and all(e.requested for e in interrupted), seen
    assert 0 < len(answers) < 20
    assert not is_check_registered()


def test_an_error_in_on_answer_ends_the_run_and_is_raised() -> None:
    class Boom(Exception):
        pass

    def on_answer(answer: CaseAnswer) -> None:
        raise Boom("harness bug")

    with running_sandbox() as sandbox:
        settings = PassSettings(base_url=sandbox.base_url, request_timeout=5.0, seed=1, max_examples=50,
                                mode="positive", max_body_bytes=CAP, headers=dict)
        with pytest.raises(Boom), SchemathesisPass(generation_spec(tight=True), settings, on_answer) as run:
            for _ in run.events():
                pass
    assert not is_check_registered()


def test_events_outside_the_with_block_are_refused() -> None:
    settings = PassSettings(base_url="http://127.0.0.1:9", request_timeout=1.0, seed=1, max_examples=1,
                            mode="positive", max_body_bytes=CAP, headers=dict)
    run = SchemathesisPass(generation_spec(tight=True), settings, lambda answer: None)
    with pytest.raises(RuntimeError):
        next(iter(run.events()))


def test_two_passes_at_once_keep_their_own_answers() -> None:
    """The check hands each answer to the pass whose schema made the case; both end with nothing left."""
    results: dict[str, list[CaseAnswer]] = {"a": [], "b": []}

    def one(name: str, cap: int, base_url: str) -> Iterator[None]:
        settings = PassSettings(base_url=base_url, request_timeout=5.0, seed=1, max_examples=3,
                                mode="positive", max_body_bytes=cap, headers=dict)
        with SchemathesisPass(generation_spec(tight=True), settings, results[name].append) as run:
            for _ in run.events():
                yield

    with running_sandbox() as first, running_sandbox() as second:
        a, b = one("a", 8, first.base_url), one("b", 24, second.base_url)
        pending = [a, b]
        while pending:  # interleaved in one thread: both passes are open at once
            for gen in list(pending):
                try:
                    next(gen)
                except StopIteration:
                    pending.remove(gen)
        assert results["a"] and results["b"]
        assert all(first.base_url in x.request.url and len(x.body) <= 8 for x in results["a"])
        assert all(second.base_url in x.request.url and len(x.body) <= 24 for x in results["b"])
    assert not is_check_registered()


# --- the outbound policy on Schemathesis' sessions ---------------------------------------------------

def test_the_engine_context_the_pass_runs_on() -> None:
    """`_Unprobed.execute` mirrors `Engine.execute` but for the EngineContext's class (`_HardenedContext`), whose
    `get_session` hardens each session Schemathesis makes (one per worker thread) under the outbound policy."""
    source = inspect.getsource(Engine.execute)
    for line in ("auths.unregister()", "plan = self._create_execution_plan()", "ctx = EngineContext(",
                 "schema=self.schema,", "stop_event=threading.Event(),", "observations=observations,",
                 "max_time=self.schema.config.max_time,",
                 "return EventStream(plan.execute(ctx), ctx.control.stop_event)",
                 "phase.name == PhaseName.STATEFUL_TESTING", "InferenceAlgorithm.LOCATION_HEADERS"):
        assert line in source, f"Engine.execute no longer holds {line!r}: update _Unprobed.execute"
    assert source.count("EngineContext(") == 1 and source.count("return ") == 1
    init = inspect.signature(EngineContext.__init__).parameters
    assert {"schema", "stop_event", "observations", "max_time"} <= set(init)
    assert all(init[name].kind is inspect.Parameter.KEYWORD_ONLY for name in ("schema", "stop_event"))
    assert _parameters(EngineContext.get_session) == [("self", "POSITIONAL_OR_KEYWORD"), ("operation", "KEYWORD_ONLY")]
    assert "self.get_session(operation=operation)" in inspect.getsource(EngineContext.get_transport_kwargs)
    assert {"skip_reason", "name"} <= _fields(Phase)
    assert PhaseSkipReason.NOT_APPLICABLE and callable(auths.unregister)


def _hostile_pass(base_url: str, *, timeout: float = 1.0, answers_wanted: int = 3,
                  ) -> tuple[list[CaseAnswer], list[PassEvent], float]:
    """A positive pass against `base_url`, stopped after `answers_wanted` answers."""
    settings = PassSettings(base_url=base_url, request_timeout=timeout, seed=1, max_examples=3, mode="positive",
                            max_body_bytes=4096, headers=dict)
    answers: list[CaseAnswer] = []
    runs: list[SchemathesisPass] = []

    def on_answer(answer: CaseAnswer) -> None:
        answers.append(answer)
        if len(answers) >= answers_wanted:
            runs[0].stop()

    started = time.monotonic()
    with SchemathesisPass(generation_spec(tight=True), settings, on_answer) as run:
        runs.append(run)
        seen = list(run.events())
    return answers, seen, time.monotonic() - started


def test_headers_dripped_end_at_the_deadline_as_a_timeout() -> None:
    """Status line and headers a byte every 0.2 s: Schemathesis' per-read timeout never trips; the deadline does."""
    target = Hostile("drip-headers", interval=0.2)
    with serving(target) as url:
        answers, seen, _ = _hostile_pass(url)
    errors = [e.error for e in seen if isinstance(e, Errored)]
    assert errors and all(isinstance(error, requests.Timeout) for error in errors), seen
    assert not answers
    assert target.hostile_answers >= 1  # each one cut: with no deadline the first would drip for minutes
    assert isinstance(seen[-1], Finished)


def test_a_body_dripped_is_cut_at_the_deadline() -> None:
    target = Hostile("drip-body", interval=0.2)
    with serving(target) as url:
        answers, _, _ = _hostile_pass(url, answers_wanted=2)
    assert len(answers) == 2 and all(a.cut == "timeout" for a in answers), answers


def test_a_redirect_is_the_answer_and_its_location_gets_nothing() -> None:
    """Schemathesis' sessions follow a redirect within the same host (its SameHostRedirectsSession); the pass's
    hardened sessions follow none: the 302 is the answer judged."""
    target = _RedirectToMoved()
    with serving(target) as url:
        answers, seen, _ = _hostile_pass(url)
    assert answers and {a.status for a in answers} == {302}, seen
    assert target.moved == 0, f"{target.moved} request(s) followed the redirect to /moved"


class _RedirectToMoved(Recorder):
    """Answers the bulk issue 302 to /moved on the same host, and counts the requests that reach /moved."""

    moved: int = 0

    async def route(self, request: Any, writer: Any) -> bool:
        if request.path == "/moved":
            self.moved += 1
            writer.write(head(200, {"Content-Type": "application/json", "Content-Length": "2"}) + b"{}")
        else:
            writer.write(head(302, {"Location": "/moved", "Content-Length": "0"}))
        return True
