"""The load settings' JSON form (what the load process reads from its environment) reads back as given."""

from __future__ import annotations

import json

import pytest

from coupon_harness.runners.load.settings import LoadSettings, parse_slo
from coupon_harness.transport.credentials import Credentials


def _settings() -> LoadSettings:
    return LoadSettings(
        base_url="http://127.0.0.1:8080/api", series_ids=(1, 2), invalid_series_ids=(9,), generic_series_ids=(2,),
        customer_ids=("c-1",), credentials=Credentials(user="u", password="p", md5_password=True, extra=("pin",)),
        arrival_rate=12.5, slos=(parse_slo("p95=300ms"), parse_slo("error-rate=1%")), max_coupons=50,
        prometheus_port=None, carried_coupons=((1, "CODE-1", "c-1", "2026-01-01T00:00:00.000Z", "preflight"),),
        coupons_csv="/tmp/coupons.csv", seed=7)


def test_settings_read_back_equal_with_their_types() -> None:
    settings = _settings()
    back = LoadSettings.from_json(settings.to_json())
    assert back == settings
    assert isinstance(back.series_ids, tuple) and isinstance(back.credentials.extra, tuple)
    assert isinstance(back.carried_coupons[0], tuple) and back.slos[1].threshold == 0.01


def test_settings_of_the_wrong_type_are_refused_in_one_line() -> None:
    raw = json.loads(_settings().to_json())
    raw["series_ids"] = ["one"]
    with pytest.raises(ValueError, match=r"load settings\.series_ids\[0\]: expected an integer"):
        LoadSettings.from_json(json.dumps(raw))
