"""The routes pass (issue 16, item 3): every gateway that lets a route variant or a method override past its auth
filter is failed under every seed, naming the class of the route as a critical `auth-required` finding; the
sandbox passes it; a finding replays (byte for byte, the dot segments too) and lists the coupons it made."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from coupon_harness import ENDPOINT
from coupon_harness.contract.catalog import Severity
from coupon_harness.reporting.contract.summary_json import write_summary_json
from coupon_harness.reporting.stored import read_stored
from coupon_harness.results.contract import ContractRunResult, Outcome
from coupon_harness.runners.contract import PASSES
from coupon_harness.runners.contract.replay import FIXED, STILL_FAILING, replay_finding
from coupon_harness.runners.contract.routes import CREDENTIALS, OVERRIDES, ROUTES
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.sandbox.server import running_sandbox
from selftest.harness import SEEDS, describe, rule, run_against_sandbox, run_against_url
from targets.broken_routes import BROKEN_ROUTES, BrokenRoute
from targets.serving import serving_app

REQUESTS = (len(ROUTES) + len(OVERRIDES)) * len(CREDENTIALS)


def test_the_pass_runs_after_auth() -> None:
    assert PASSES[PASSES.index("auth") + 1] == "routes"
    assert ContractSettings("http://127.0.0.1:1").passes == PASSES


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("broken", BROKEN_ROUTES, ids=lambda b: b.name)
def test_an_auth_bypass_on_a_route_is_a_critical_finding_naming_its_class(broken: BrokenRoute, seed: int) -> None:
    with serving_app(broken.app()) as url:
        result = run_against_url(url, passes=("routes",), seed=seed)
    report = describe(result)
    named = rule(result, "auth-required")
    assert named.outcome is Outcome.FAILED and named.rule.severity is Severity.CRITICAL, report
    assert not result.holds, report
    assert broken.probe in {f.probe for f in named.findings}, report
    finding = next(f for f in named.findings if f.probe == broken.probe)
    assert finding.source == "routes" and finding.response_status == 200, report
    assert finding.received.endswith(": an auth bypass") and "without valid credentials on route '/" in \
        finding.received, report
    assert [r.rule.id for r in result.rules if r.findings] == ["auth-required"], report
    assert result.requests == REQUESTS + 2, report  # and the preflight's two


@pytest.mark.parametrize("seed", SEEDS)
def test_the_sandbox_passes_every_route(seed: int) -> None:
    result = run_against_sandbox(passes=("routes",), seed=seed)
    assert result.holds and not [r for r in result.rules if r.findings], describe(result)
    assert dict(result.passes) == {"routes": REQUESTS}
    assert rule(result, "auth-required").checks >= REQUESTS


def test_a_finding_replays_byte_for_byte_and_is_fixed_on_a_correct_target(tmp_path: Path) -> None:
    broken = next(b for b in BROKEN_ROUTES if b.name == "resolves-dot-segments")
    with serving_app(broken.app()) as url:
        result = run_against_url(url, passes=("routes",), coupons_csv=tmp_path / "coupons.csv")
        write_summary_json(result, tmp_path / "summary.json")
        back = read_stored(tmp_path / "summary.json", ContractRunResult)
        finding = next(f for f in rule(back, "auth-required").findings if f.probe == "routes:dot-segment")
        assert finding.replay is not None and finding.replay.route in (ENDPOINT.replace("/bulk", "/./bulk"),
                                                                        ENDPOINT.replace("/bulk", "/x/../bulk"))
        assert finding.replay.statuses == ()  # the route's Expect says them
        still = replay_finding(finding, ContractSettings(base_url=url))
    assert still.state == STILL_FAILING, still
    assert finding.curl is not None and " --path-as-is " in finding.curl, finding.curl
    with running_sandbox() as sandbox:
        fixed = replay_finding(finding, ContractSettings(base_url=sandbox.base_url))
    assert fixed.state == FIXED and fixed.detail == "", fixed
    # The coupons the bypass issued are listed, under the pass that made them.
    with (tmp_path / "coupons.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["source"] for row in rows} == {"preflight", "routes"}
