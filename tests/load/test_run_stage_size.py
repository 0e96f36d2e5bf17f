"""`run`'s load stage is a throttled smoke load: it must not saturate the machine it shares with the sandbox.

Unthrottled, the Quick start's first `coupon-harness run` (10 users against the in-process sandbox on two cores)
ended with a red "Load generator saturated" warning. The stage's settings cap the request rate; this checks the
settings (the rate follows from them), not a timing.
"""

from __future__ import annotations

from typing import Any

import pytest

from coupon_harness.cli.option_table import RUN, Sources, resolve
from coupon_harness.cli.settings_builders import run_load_settings
from coupon_harness.contract.expectations import Expectations
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.transport.auth import Credentials

#: What a generator process does without saturating a core, with room to spare (BENCHMARKS.md: thousands of
#: checked requests/s a core): the stage's most, at the default users, stays far below it.
CALM_RPS = 500.0


def stage(base_url: str = "http://127.0.0.1:8080", **flags: Any) -> Any:
    contract = ContractSettings(base_url, credentials=Credentials(user="sandbox", password="sandbox"),
                                expectations=Expectations(valid_series=frozenset({101, 102})))
    return run_load_settings(contract, resolve(Sources(flags=flags, environ={}), RUN))


def most_rps(settings: Any) -> float:
    """The most requests a second the settings allow, however fast the target answers."""
    if settings.arrival_rate:
        return float(settings.arrival_rate)
    assert settings.wait_s > 0, "an unthrottled closed model sends as fast as the generator can"
    return settings.users / settings.wait_s


def test_default_stage_is_throttled_below_saturation() -> None:
    settings = stage()
    assert settings.users == 10
    assert settings.arrival_rate is not None or settings.wait_s > 0, settings
    assert most_rps(settings) <= CALM_RPS, settings
    # Still a load: enough requests in the default 10 s for meaningful percentiles.
    assert most_rps(settings) * settings.run_time_s >= 1000, settings


@pytest.mark.parametrize("users", ["1", "10", "50"])
def test_every_user_count_is_throttled(users: str) -> None:
    settings = stage(**{"load-users": users})
    assert settings.users == int(users)
    assert most_rps(settings) <= int(users) * CALM_RPS / 10, settings


def test_real_target_gets_the_same_calm_stage() -> None:
    settings = stage("https://staging.example.test", **{"load-run-time": "5s"})
    assert settings.run_time_s == 5.0
    assert most_rps(settings) <= CALM_RPS, settings
    assert settings.max_coupons is not None  # off loopback the coupons stay capped
