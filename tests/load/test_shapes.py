"""Load shapes: how many users run at each moment."""

from __future__ import annotations

import pytest

from coupon_harness.errors import ConfigError
from coupon_harness.runners.load.settings import parse_duration, parse_slo
from coupon_harness.runners.load.shapes import users_at


def test_steady_and_soak_hold_all_users() -> None:
    for shape in ("steady", "soak"):
        assert [users_at(shape, t, 10, 20) for t in (0, 5, 9.9)] == [20, 20, 20]


def test_ramp_climbs_in_five_steps() -> None:
    assert [users_at("ramp", t, 10, 20) for t in (0, 2, 4, 6, 8, 9.9)] == [4, 8, 12, 16, 20, 20]


def test_spike_is_all_users_in_the_middle_fifth_only() -> None:
    assert [users_at("spike", t, 10, 20) for t in (0, 3.9, 4, 5.9, 6, 9.9)] == [4, 4, 20, 20, 4, 4]


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("2m", 120), ("500ms", 0.5), ("1h", 3600), ("7", 7)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, "--run-time") == seconds


def test_slo_units() -> None:
    assert parse_slo("p99=1s").threshold == 1000
    assert parse_slo("failure-ratio=2%").threshold == pytest.approx(0.02)
    with pytest.raises(ConfigError, match="unit"):
        parse_slo("p95=300")
