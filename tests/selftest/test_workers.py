"""--workers N: the same findings for any N, cross-request rules exact under concurrency, never more than N requests
open (seen by the sandbox's own service capacity, faults.concurrency), and --max-rps on every request.

Small on purpose (CI time): one broken and one correct target, N = 1 against 4, one seed, few examples. The sweep
over every target in tests/targets/, three seeds and N in {1, 4, 16} is scripts/workers_sweep.py."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web

from coupon_harness.cli.sandbox_target import sandbox_settings
from coupon_harness.results.contract import ContractRunResult, Outcome
from coupon_harness.runners.contract import ContractSettings, run_contract
from coupon_harness.runners.contract import fanout as fanout_module
from coupon_harness.sandbox.app import FAULTS_KEY, Answer, Before, Mutate
from coupon_harness.sandbox.config import Faults, SandboxConfig, default_config
from coupon_harness.sandbox.faults import FaultInjector
from coupon_harness.sandbox.info import sandbox_info
from coupon_harness.sandbox.server import running_sandbox
from selftest.harness import SEED, describe, rule
from targets.broken import BROKEN

#: Deterministic passes only, ~60 requests: enough to keep N threads busy, cheap to send.
PROBES = ("auth", "routes", "malformed")


@contextlib.contextmanager
def _sandbox(config: SandboxConfig | None = None, *, mutate: Mutate | None = None,
             before: Before | None = None) -> Iterator[tuple[ContractSettings, web.Application]]:
    with running_sandbox(config, mutate=mutate, before=before) as sandbox:
        settings = sandbox_settings(ContractSettings(base_url=sandbox.base_url, seed=SEED, max_examples=3),
                                    sandbox_info(sandbox.config))
        yield settings, sandbox.app


def _findings(result: ContractRunResult) -> list[tuple[str, str, str, int, str, int | None]]:
    """(rule, kind, fingerprint, occurrences, the pass of the reproducer, its status) of every finding, in the
    report's order."""
    return [(f.rule_id, f.key, f.fingerprint, f.occurrences, f.source, f.response_status)
            for r in result.rules for f in r.findings]


def _run(workers: int, passes: tuple[str, ...] | None = None, **hooks: Any) -> ContractRunResult:
    with _sandbox(**hooks) as (settings, _):
        return run_contract(replace(settings, workers=workers, **({"passes": passes} if passes else {})))


# total-count-off-by-one breaks every 200: findings in every pass, the two Schemathesis passes beside each other
# at N = 4 included (their findings merged in order).
@pytest.mark.parametrize("target", ["total-count-off-by-one", "correct"])
def test_the_same_findings_in_the_same_order_for_one_and_four_workers(target: str) -> None:
    hooks: dict[str, Any] = {}
    passes = None  # every pass against the correct target
    if target != "correct":
        broken = next(b for b in BROKEN if b.name == target)
        hooks = {"mutate": broken.mutate(), "before": broken.before}
        passes = ("property-positive", "property-negative", "scenarios", "malformed")  # side by side, then lanes
    serial, parallel = _run(1, passes, **hooks), _run(4, passes, **hooks)
    assert _findings(serial) == _findings(parallel), describe(parallel)
    assert serial.passes == parallel.passes  # the same requests, pass by pass
    assert serial.requests == parallel.requests
    if target == "correct":
        assert serial.holds and parallel.holds, describe(parallel)
    else:
        assert rule(parallel, "total-count").outcome is Outcome.FAILED, describe(parallel)
    assert not any("--workers" in note for note in serial.notes)  # a serial run's reports stay as they were
    assert any(note.startswith("--workers 4: at most ") for note in parallel.notes), parallel.notes
    # The result (summary.json, the key figures) says N and the concurrency reached.
    assert (serial.workers, serial.concurrency_peak) == (1, 1)
    assert parallel.workers == 4 and 2 <= parallel.concurrency_peak <= 4, parallel.concurrency_peak


def _same_code(answer: Answer) -> Answer:
    """Every coupon of a series carries one code, whoever asks: a duplicate across customers."""
    body = answer.body
    if isinstance(body, dict):
        for entity in body.get("response") or []:
            result = entity.get("result") if isinstance(entity, dict) else None
            if isinstance(result, dict) and result.get("code"):
                result["code"] = f"SAME{result.get('seriesId')}"
    return answer


def test_a_duplicate_code_across_two_concurrent_requests_is_caught() -> None:
    # Each of the first issues is held at the target until another one arrives (or 0.3 s pass): the
    # preflight's come one at a time, the classics' through the lane overlap.
    arrivals: list[int] = []
    overlapped: list[bool] = []

    async def meet(request: web.Request) -> web.StreamResponse | None:
        if b'"customer"' not in await request.read() or len(arrivals) >= 12:
            return None
        arrivals.append(1)
        mine = len(arrivals)
        for _ in range(30):
            if len(arrivals) > mine:
                break
            await asyncio.sleep(0.01)
        overlapped.append(len(arrivals) > mine)
        return None

    result = _run(4, mutate=_same_code, before=meet, passes=("classics",))
    assert overlapped.count(True) >= 2, overlapped  # requests were in flight together
    unique = rule(result, "unique-codes")
    assert unique.outcome is Outcome.FAILED, describe(result)
    across = [finding for finding in unique.findings if finding.key == "across-customers"]
    assert across and across[0].sequence, describe(result)  # with the earlier request that held the code


def _held(workers: int, concurrency: int) -> tuple[FaultInjector, ContractRunResult]:
    config = replace(default_config(), faults=Faults(latency_ms=20, concurrency=concurrency))
    with _sandbox(config) as (settings, app):
        result = run_contract(replace(settings, workers=workers, passes=PROBES))
        return app[FAULTS_KEY], result


def test_the_harness_never_holds_more_than_n_requests_open() -> None:
    faults, result = _held(workers=4, concurrency=4)
    assert faults.waited == 0  # not one request waited for one of the 4 slots: never more than 4 open
    assert 2 <= faults.peak_held <= 4  # and they did overlap
    assert result.holds, describe(result)
    # The failing case: 4 workers against room for 2, requests wait in line at the target.
    faults, _ = _held(workers=4, concurrency=2)
    assert faults.waited > 0


def test_max_rps_paces_every_request_of_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    paced: list[float | None] = []
    wait = fanout_module.Pacer.wait

    def counted(self: fanout_module.Pacer) -> None:
        paced.append(self.rate)
        wait(self)

    monkeypatch.setattr(fanout_module.Pacer, "wait", counted)
    with _sandbox() as (settings, _):
        result = run_contract(replace(settings, workers=2, max_rps=10_000.0, max_examples=2,
                                      passes=("malformed", "property-positive")))
    assert set(paced) == {10_000.0}
    assert len(paced) == result.requests  # the harness's own requests and Schemathesis' generated ones
    assert any(note.endswith("paced to at most 10000 a second") for note in result.notes), result.notes


def test_deterministic_passes_beside_the_generated_ones_stop_on_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    """From 4 workers on, classics, strings and scenarios run beside the Schemathesis passes, off the main thread
    where Ctrl-C raises: they stop at their next request all the same."""
    from coupon_harness import interrupts
    from coupon_harness.runners.contract import collector as collector_module

    sent: list[int] = []
    real = collector_module.Collector.sent

    def counted(self: collector_module.Collector, *, transport_ok: bool) -> None:
        sent.append(1)
        real(self, transport_ok=transport_ok)

    monkeypatch.setattr(collector_module.Collector, "sent", counted)
    monkeypatch.setattr(interrupts, "received", lambda: signal.SIGINT if len(sent) >= 30 else None)
    with _sandbox() as (settings, _):
        result = run_contract(replace(settings, workers=4, max_examples=50,
                                      passes=("classics", "strings", "property-positive", "scenarios")))
    assert result.interrupted, describe(result)
    assert result.requests < 100, describe(result)  # classics and strings alone send hundreds
