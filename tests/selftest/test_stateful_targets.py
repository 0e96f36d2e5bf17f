"""The stateful pass: every order bug of tests/targets/broken_stateful.py is failed under every seed, with a short
sequence that names the class; the sandbox and a server that differs from it as the contract allows pass with no
finding; the budget, the seed and coupons.csv hold."""

from __future__ import annotations

import re
import signal
from dataclasses import replace
from pathlib import Path

import pytest

from coupon_harness import interrupts
from coupon_harness.cli.sandbox_target import sandbox_settings
from coupon_harness.contract.expectations import Expectations
from coupon_harness.coupon_log import read_rows
from coupon_harness.results.contract import ContractRunResult, Finding, Outcome
from coupon_harness.runners.contract import ContractSettings, run_contract
from coupon_harness.runners.contract.stateful import MACHINES, PROBE_CLASS, SHARE, request_budget, split
from coupon_harness.runners.contract.stateful_model import Session
from coupon_harness.sandbox.info import sandbox_info
from coupon_harness.sandbox.server import running_sandbox
from selftest.harness import SEEDS, describe, rule, run_against_sandbox
from targets.broken import BROKEN
from targets.broken_stateful import BROKEN_STATEFUL, LEGITIMATE, STATEFUL, Broken

#: The default --max-examples: the pass's default budget (300 requests).
DEFAULT = 100
#: The longest shrunk sequence a test accepts (in requests): the minimal ones are 2 or 3.
SHORT = 6
_CUSTOMER = re.compile(r'"ch-[0-9a-f]{10}-\d+"')


def _stateful_findings(result: ContractRunResult, *rule_ids: str) -> list[Finding]:
    return [finding for item in result.rules if item.rule.id in rule_ids for finding in item.findings
            if finding.probe_class == PROBE_CLASS]


def _sent(result: ContractRunResult) -> int:
    return dict(result.passes)["stateful"]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", BROKEN_STATEFUL, ids=[v.name for v in BROKEN_STATEFUL])
def test_order_bug_is_failed_with_a_short_sequence(variant: Broken, seed: int) -> None:
    result = run_against_sandbox(mutate=variant.mutate(), before=variant.before, passes=STATEFUL,
                                 max_examples=DEFAULT, seed=seed)
    report = describe(result)
    assert result.holds is False, report
    found = _stateful_findings(result, variant.rule, *variant.also)
    assert found, report
    assert any(rule(result, r).outcome is Outcome.FAILED for r in (variant.rule, *variant.also)), report
    shortest = min(found, key=lambda f: len(f.sequence))
    steps = len(shortest.sequence) + 1
    assert 2 <= steps <= SHORT, report
    assert shortest.probe == f"{PROBE_CLASS} of {steps} requests" and shortest.source == "stateful"
    for finding in found:
        assert len(finding.sequence_judged) == len(finding.sequence) and finding.replay is not None
        curl = finding.curl
        assert curl is not None
        count = len(finding.sequence) + 1
        assert curl.count("curl -X ") == count, curl
        assert f"# 1 of {count}: " in curl and f"# {count} of {count}: breaks" in curl, curl
        assert "sandbox:sandbox" not in curl and "c2FuZGJveDpzYW5kYm94" not in curl, curl
    assert _sent(result) <= request_budget(DEFAULT), report


@pytest.mark.parametrize("seed", SEEDS)
def test_the_sandbox_passes_with_no_finding(seed: int) -> None:
    result = run_against_sandbox(passes=STATEFUL, max_examples=DEFAULT, seed=seed)
    report = describe(result)
    assert result.holds and not [f for item in result.rules for f in item.findings], report
    assert 0 < _sent(result) <= request_budget(DEFAULT), report
    for judged in ("valid-series-issues", "unique-codes", "series-attributes-stable", "entity-order",
                   "rejects-malformed", "auth-required", "invalid-series-refused"):
        assert rule(result, judged).checks > 0, judged


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(LEGITIMATE))
def test_a_legitimately_different_server_passes(name: str, seed: int) -> None:
    """A customer asking again for a series they hold may be answered that coupon: the contract allows it."""
    result = run_against_sandbox(mutate=LEGITIMATE[name](), passes=STATEFUL, max_examples=DEFAULT, seed=seed)
    assert result.holds and not [f for item in result.rules for f in item.findings], describe(result)


def test_customers_of_the_pool_are_never_judged_fresh() -> None:
    """With --customer-ids the customers may hold coupons: a refusal proves nothing, every other rule still holds."""
    target = next(v for v in BROKEN_STATEFUL if v.name == "issues-before-auth-check")
    result = run_against_sandbox(before=target.before, passes=STATEFUL, max_examples=DEFAULT,
                                 customer_ids=("known-1", "known-2", "known-3"))
    assert result.holds, describe(result)
    assert rule(result, "valid-series-issues").outcome is Outcome.NOT_RUN
    assert rule(result, "unique-codes").checks > 0


def test_the_budget_scales_with_max_examples() -> None:
    target = next(v for v in BROKEN_STATEFUL if v.name == "attributes-drift-after-malformed")
    for max_examples, budget in ((5, 60), (20, 60), (40, 120)):
        assert request_budget(max_examples) == budget
        result = run_against_sandbox(mutate=target.mutate(), passes=STATEFUL, max_examples=max_examples)
        assert 0 < _sent(result) <= budget, describe(result)


def test_the_same_seed_sends_the_same_sequences() -> None:
    target = next(v for v in BROKEN_STATEFUL if v.name == "refuses-customer-after-invalid-series")

    def sequence() -> list[tuple[str, str]]:
        result = run_against_sandbox(mutate=target.mutate(), passes=STATEFUL, max_examples=DEFAULT, seed=7)
        finding = _stateful_findings(result, target.rule)[0]
        return [(r.method, _CUSTOMER.sub('"C"', r.body or "")) for r in [*finding.sequence, finding.request]]

    assert sequence() == sequence()


def test_a_bug_one_request_shows_is_left_to_the_pass_that_found_it() -> None:
    """A per-request bug an earlier pass found is no reason to fail a sequence; found by the stateful pass alone, it
    is a finding of its single request, with no sequence and no class."""
    variant = next(v for v in BROKEN if v.name == "500-on-big-batch")
    both = run_against_sandbox(mutate=variant.mutate(), passes=("scenarios", "stateful"), max_examples=20)
    assert not _stateful_findings(both, variant.rule), describe(both)
    assert all(f.source.startswith("scenario/") for f in rule(both, variant.rule).findings), describe(both)
    alone = run_against_sandbox(mutate=variant.mutate(), passes=STATEFUL, max_examples=20)
    found = rule(alone, variant.rule).findings
    assert found and all(f.source == "stateful" and f.probe is None and not f.sequence for f in found), describe(alone)


def test_without_valid_series_the_pass_sends_nothing() -> None:
    result = run_against_sandbox(passes=STATEFUL, expectations=Expectations(invalid_series=frozenset({999999})))
    assert _sent(result) == 0 and result.holds, describe(result)


@pytest.mark.parametrize("name", ["attributes-drift-after-malformed", None])
def test_every_coupon_of_every_attempt_is_listed(name: str | None, tmp_path: Path) -> None:
    variant = next((v for v in BROKEN_STATEFUL if v.name == name), None)
    with running_sandbox(mutate=variant.mutate() if variant else None) as sandbox:
        settings = sandbox_settings(ContractSettings(base_url=sandbox.base_url, max_examples=DEFAULT,
                                                     coupons_csv=tmp_path / "coupons.csv", passes=STATEFUL),
                                    sandbox_info(sandbox.config))
        result = run_contract(settings)
        issued = sum(sandbox.issuer.coupons_issued(series.id) for series in sandbox.config.series)
    rows = read_rows(tmp_path / "coupons.csv")
    assert issued > 100 and len(rows) == issued, describe(result)
    assert {row[4] for row in rows} >= {"stateful"}


def test_a_harness_bug_in_the_pass_is_a_fault_not_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Session, step: object) -> list[Finding]:
        raise TypeError("a harness bug")

    monkeypatch.setattr(Session, "send", broken)
    result = run_against_sandbox(passes=STATEFUL)
    assert [fault.stage for fault in result.faults] == ["stateful"], describe(result)
    assert "TypeError: a harness bug" in result.faults[0].error
    assert not [f for item in result.rules for f in item.findings], describe(result)


def test_the_run_settings_keep_the_pass_in_order() -> None:
    from coupon_harness.runners.contract import PASSES

    assert PASSES.index("stateful") == PASSES.index("scenarios") + 1
    assert ContractSettings(base_url="http://127.0.0.1:1").passes == PASSES
    assert replace(ContractSettings(base_url="http://127.0.0.1:1"), passes=STATEFUL).passes == ("stateful",)


def test_the_machines_split_the_budget_and_the_pool_the_same_way_for_any_workers() -> None:
    machines = split(request_budget(DEFAULT), 7, ())
    assert len(machines) == MACHINES and sum(m.budget for m in machines) == request_budget(DEFAULT)
    assert min(m.budget for m in machines) >= SHARE and all(m.customers is None for m in machines)
    assert machines[0].seed == 7 and len({m.seed for m in machines}) == MACHINES  # the first keeps the run's seed
    assert [m.seed for m in split(300, 8, ())] != [m.seed for m in machines]
    assert len(split(request_budget(20), 7, ())) == 1  # small budgets: one machine, as before the split
    pool = tuple(f"c{i}" for i in range(17))
    pools = [m.customers for m in split(300, 7, pool)]
    assert len(pools) == MACHINES and all(p is not None and len(p) >= 2 for p in pools)
    assert sorted(c for p in pools if p is not None for c in p) == sorted(pool)  # disjoint, every customer once
    assert [m.customers for m in split(300, 7, pool[:3])] == [pool[:3]]  # fewer than two customers a machine: one


@pytest.mark.parametrize("workers", [4])
def test_the_machines_beside_each_other_find_what_they_find_one_after_the_other(workers: int) -> None:
    """A target whose state is per series, not per customer: the machines see each other's coupons."""
    target = next(v for v in BROKEN_STATEFUL if v.name == "repeat-answers-last-code-of-series")

    def run(n: int) -> tuple[ContractRunResult, list[tuple[str, str, str]]]:
        result = run_against_sandbox(mutate=target.mutate(), passes=STATEFUL, max_examples=DEFAULT, workers=n)
        return result, [(f.rule_id, f.key, f.fingerprint) for r in result.rules for f in r.findings]

    (_, one), (parallel, many) = run(1), run(workers)
    assert one and one == many, describe(parallel)
    # The requests may differ, and so may the shortest failing sequence (the probe: 3 requests mostly, 4 or 5 in 2
    # of 12 runs beside two CPU burners): this target's state is per series, so what one machine sees depends on
    # what the others asked before. The finding (rule, class, fingerprint) does not.
    assert _sent(parallel) <= request_budget(DEFAULT)
    peak = next(note for note in parallel.notes if note.startswith(f"--workers {workers}"))
    assert "at most 1 request open" not in peak, peak  # the machines did overlap


def test_a_harness_bug_in_one_machine_stops_them_all(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[int] = []
    real = Session.send

    def broken(self: Session, step: object) -> list[Finding]:
        sent.append(1)
        if len(sent) == 20:
            raise TypeError("a harness bug")
        return real(self, step)  # type: ignore[arg-type]

    monkeypatch.setattr(Session, "send", broken)
    result = run_against_sandbox(passes=STATEFUL, max_examples=DEFAULT, workers=4)
    assert [fault.stage for fault in result.faults] == ["stateful"], describe(result)
    assert len(sent) < request_budget(DEFAULT) // 2, describe(result)  # the others stopped at their next request


def test_ctrl_c_stops_every_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[int] = []
    real = Session.send

    def counted(self: Session, step: object) -> list[Finding]:
        sent.append(1)
        return real(self, step)  # type: ignore[arg-type]

    monkeypatch.setattr(Session, "send", counted)
    monkeypatch.setattr(interrupts, "received", lambda: signal.SIGINT if len(sent) >= 20 else None)
    result = run_against_sandbox(passes=STATEFUL, max_examples=DEFAULT, workers=4)
    assert result.interrupted, describe(result)
    assert len(sent) < request_budget(DEFAULT) // 2, describe(result)
