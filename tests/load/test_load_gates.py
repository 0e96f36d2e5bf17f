"""The load runner's gates against in-process targets: a correct one holds, each load-only fault is caught."""

from __future__ import annotations

import json
from pathlib import Path

from coupon_harness.runners.load.runner import run_load
from coupon_harness.sandbox.config import Faults, SandboxConfig
from coupon_harness.sandbox.server import running_sandbox
from load.support import VALID, coupon_rows, describe, load_settings, run_against_sandbox, slos
from targets.load_faults import DuplicatesUnderConcurrency, SlowUnderConcurrency, failing_valid_series

GATES = ("p95=500ms", "error-rate=0.01")


def test_correct_target_holds(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_against_sandbox(out, slos=slos(*GATES))
    why = describe(result)
    assert result.holds, why
    assert result.violation_counts == {}, why
    assert all(slo.passed for slo in result.slos) and len(result.slos) == 2, why
    assert result.duplicate_codes == 0, why
    assert result.requests > 100, why
    assert result.status_counts == {"200": result.requests}, why
    assert result.coupons_issued > 0, why
    assert result.failure_ratio == 0.0, why
    assert result.latency_ms["p50"] <= result.latency_ms["p95"] <= result.latency_ms["max"], why
    rows = coupon_rows(out)
    assert rows[0] == ["series_id", "code", "customer_id", "issued_at", "source"]
    assert len(rows) - 1 == result.coupons_issued
    assert {int(row[0]) for row in rows[1:]} <= set(VALID)
    assert len({(row[0], row[1]) for row in rows[1:]}) == result.coupons_issued  # every code once
    assert not (out / "result.json").exists()


def test_five_hundreds_breach_error_rate(tmp_path: Path) -> None:
    config = SandboxConfig(faults=Faults(error_rate=0.03, error_statuses=(500, 503)))
    result = run_against_sandbox(tmp_path / "out", config=config, slos=slos(*GATES))
    why = describe(result)
    assert not result.holds, why
    error_slo = next(slo for slo in result.slos if slo.key == "error-rate")
    assert not error_slo.passed, why
    assert error_slo.measured is not None and 0.015 < error_slo.measured < 0.06, why
    fives = result.status_counts.get("500", 0) + result.status_counts.get("503", 0)
    assert fives > 0 and result.status_counts.get("500", 0) > 0 and result.status_counts.get("503", 0) > 0, why
    assert result.violation_counts.get("no-server-error") == fives, why
    assert abs(result.error_rate - fives / result.requests) < 1e-9, why


def test_slow_under_concurrency_breaches_p95(tmp_path: Path) -> None:
    # 10 ms a request in flight: ~200 ms at 20 users, ~10 ms alone; the 100 ms gate sits far from both, so a busy
    # machine's own delays (tens of ms) move neither verdict.
    target = SlowUnderConcurrency(per_request_s=0.01)
    result = run_against_sandbox(tmp_path / "many", slos=slos("p95=100ms"), users=20, **target.hooks())
    why = describe(result)
    assert target.peak >= 10, why
    assert not result.holds, why
    assert result.latency_ms["p95"] > 100, why
    assert result.slos[0].key == "p95" and not result.slos[0].passed, why
    assert result.violation_counts == {}, why  # slow, not wrong

    alone = SlowUnderConcurrency(per_request_s=0.01)
    single = run_against_sandbox(tmp_path / "one", slos=slos("p95=100ms"), users=1, spawn_rate=10.0,
                                 run_time_s=3.0, **alone.hooks())
    why = describe(single)
    assert alone.peak == 1, why
    assert single.holds, why
    assert single.latency_ms["p95"] < 100, why


def test_duplicates_under_concurrency_are_caught(tmp_path: Path) -> None:
    target = DuplicatesUnderConcurrency()
    result = run_against_sandbox(tmp_path / "many", slos=slos(*GATES), users=20, **target.hooks())
    why = describe(result)
    assert target.reused > 0, why
    assert result.duplicate_codes > 0, why
    assert result.violation_counts.get("unique-codes") == result.duplicate_codes, why
    assert "unique-codes" in result.violation_examples, why
    assert not result.holds, why
    # Each reuse the target made is a duplicate, bar the answers still in flight when the run stopped.
    assert target.reused - 20 * 2 <= result.duplicate_codes <= target.reused, (target.reused, why)

    alone = DuplicatesUnderConcurrency()
    single = run_against_sandbox(tmp_path / "one", slos=slos(*GATES), users=1, spawn_rate=10.0, run_time_s=3.0,
                                 **alone.hooks())
    why = describe(single)
    assert alone.reused == 0, why
    assert single.duplicate_codes == 0, why
    assert "unique-codes" not in single.violation_counts, why
    assert single.holds, why


def test_valid_series_failing_breach_failure_ratio(tmp_path: Path) -> None:
    result = run_against_sandbox(tmp_path / "out", mutate=failing_valid_series(0.05),
                                 slos=slos("failure-ratio=0.01"), run_time_s=3.0)
    why = describe(result)
    assert result.status_counts == {"200": result.requests}, why
    assert result.violation_counts == {}, why
    assert 0.02 < result.failure_ratio < 0.1, why
    assert result.unexpected_failures > 0 and result.expected_failures == 0, why
    assert result.entity_error_codes.get("722") == result.unexpected_failures, why
    assert not result.slos[0].passed, why
    assert not result.holds, why


def test_invalid_series_failures_are_expected(tmp_path: Path) -> None:
    result = run_against_sandbox(tmp_path / "out", invalid_share=0.3,
                                 slos=slos("failure-ratio=0.01", *GATES), run_time_s=3.0)
    why = describe(result)
    assert result.holds, why
    assert result.failure_ratio == 0.0, why
    assert result.unexpected_failures == 0, why
    assert result.expected_failures > 0, why
    assert result.entity_failures == result.expected_failures, why
    # ~30% of the slots carry an invalid series.
    assert 0.2 < result.expected_failures / result.entities < 0.4, why
    assert set(result.entity_error_codes) <= {"707", "712"}, why


def test_max_coupons_stops_the_run(tmp_path: Path) -> None:
    users = 20
    result = run_against_sandbox(tmp_path / "out", max_coupons=500, users=users, run_time_s=20.0)
    why = describe(result)
    assert result.stopped_reason is not None and "--max-coupons" in result.stopped_reason, why
    assert 500 <= result.coupons_issued < 500 + users * 2, why
    assert len(coupon_rows(tmp_path / "out")) - 1 == result.coupons_issued


def test_locust_and_harness_count_the_same_requests(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_against_sandbox(out, users=10, run_time_s=3.0)
    stats = json.loads((out / "locust_stats.json").read_text())
    total = next(entry for entry in stats["entries"] if entry["name"] == "Aggregated")
    assert total["requests"] == result.requests, (total, describe(result))
    assert total["failures"] == 0


def test_every_coupon_the_target_issued_is_in_coupons_csv(tmp_path: Path) -> None:
    """coupons.csv is the revocation list: a coupon the target handed out and the harness did not list
    stays valid in someone's hands."""
    out = tmp_path / "out"
    with running_sandbox() as sandbox:
        result = run_load(load_settings(sandbox.base_url, users=20, run_time_s=3.0), out)
        issued = sandbox.issuer.codes_issued
    rows = coupon_rows(out)
    assert len(rows) - 1 == result.coupons_issued
    assert result.coupons_issued == issued, f"the target issued {issued}, coupons.csv lists {result.coupons_issued}"
