"""A generated request that gets no answer (a dropped connection, a hung answer) is handled by one loop in both
runs: judged by the Judge as a transport failure, and `max_transport_failures` of them in a row stop the run.

The target answers the harness's own first requests (the preflight, the diff's first case: `from_contract_client`)
and loses every generated one, as `tests/targets/hostile.py` does. The contract run and the differential run with
the same seed then judge the same lost requests, stop after the same two, and leave property-negative unsent.
(Before one loop, the diff only noted such an error and went on.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from coupon_harness.contract.expectations import Expectations
from coupon_harness.runners.contract.diff import run_diff
from coupon_harness.runners.contract.diff_settings import DiffSettings
from coupon_harness.runners.contract.exchange import Exchange
from coupon_harness.runners.contract.judge import Judge
from coupon_harness.runners.contract.runner import run_contract
from coupon_harness.runners.contract.settings import ContractSettings
from targets.hostile import Hostile, from_contract_client, serving

PASSES = ("property-positive", "property-negative")
STOPPED = "the target failed 2 requests in a row at the transport level"
#: What each kind of loss is judged as.
KINDS = {"drop": "connection", "drip-headers": "timeout"}


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str | None]]]:
    """Every generated exchange the Judge is handed: its source and transport error."""
    seen: list[tuple[str, str | None]] = []
    original = Judge.judge

    def spy(self: Judge, exchange: Exchange, *args: Any, **kwargs: Any) -> None:
        source = args[2] if len(args) > 2 else kwargs["source"]
        if source.startswith("property/"):
            seen.append((source, exchange.error))
        original(self, exchange, *args, **kwargs)

    monkeypatch.setattr(Judge, "judge", spy)
    yield seen


def _settings(url: str) -> ContractSettings:
    return ContractSettings(base_url=url, expectations=Expectations(valid_series=frozenset({101})), seed=3,
                            max_examples=5, request_timeout=1.0, max_transport_failures=2, passes=PASSES)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_contract_and_diff_judge_a_lost_request_alike(kind: str, judged: list[tuple[str, str | None]]) -> None:
    lost = [("property/positive", KINDS[kind])] * 2
    with serving(Hostile(kind, interval=0.3, good_when=from_contract_client)) as url:
        contract = run_contract(_settings(url))
        in_contract = list(judged)
        judged.clear()
        # B is the same target: each lost request is lost on both sides.
        diff = run_diff(DiffSettings(base=_settings(url), against_url=url, passes=PASSES))
    assert in_contract == lost, contract
    transport = next(r for r in contract.rules if r.rule.id == "transport")
    assert [(f.source, f.key) for f in transport.findings] == [("property/positive", KINDS[kind])], contract
    assert transport.findings[0].request is not None  # the lost request is the reproducer
    assert [name for name, _ in contract.passes] == ["property-positive"], contract
    assert any(STOPPED in note for note in contract.notes), contract.notes

    assert judged == lost, diff
    assert diff.stopped == STOPPED, diff
    assert [name for name, _ in diff.passes] == ["preflight", "property-positive"], diff
    assert diff.cases == 1 + 2, diff  # the first case, then the two lost requests, each sent to both
