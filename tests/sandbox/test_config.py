"""Config: the default catalog, the file format (its documented example is loaded), one-line errors."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from coupon_harness.sandbox import (
    Faults,
    SandboxConfig,
    SandboxConfigError,
    SeriesConfig,
    Variations,
    config_file,
    default_config,
    load_config,
)


def test_default_catalog_sets() -> None:
    config = default_config()
    assert config.valid_series == frozenset({101, 102, 103, 104, 105})
    assert config.invalid_series == frozenset({201, 202, 999999})
    assert config.generic_series == frozenset({104})
    assert dict(config.users) == {"sandbox": "sandbox"}
    assert dict(config.oauth_clients) == {"sandbox-key": "sandbox-secret"}
    assert config.token_ttl_s == 300
    assert not config.faults.active


def test_the_documented_example_loads(tmp_path: Path) -> None:
    doc = config_file.__doc__ or ""
    example = textwrap.dedent(doc.split("Example::", 1)[1])
    path = tmp_path / "sandbox.yaml"
    path.write_text(example, encoding="utf-8")
    config = load_config(path)
    assert [s.id for s in config.series] == [101, 102, 104, 201]
    assert config.series[0] == SeriesConfig(101, "Festival coupon", "FEST500", "ABS", 500,
                                            valid_till=datetime(2099, 12, 31, tzinfo=UTC))
    assert config.valid_series == frozenset({101, 102, 104})
    assert config.invalid_series == frozenset({201, 999999})
    assert config.faults == Faults(latency_ms=(5, 20), error_rate=0.01)
    assert config.variations.valid_till_offset == "+05:30"
    assert config.seed == 42


def test_json_file_and_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps({"series": [{"id": 7, "valid_days": 3, "valid_till": None}],
                                "variations": {"numbers_as_floats": True}}), encoding="utf-8")
    config = load_config(path)
    assert config.valid_series == frozenset({7}) and config.variations.numbers_as_floats
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert load_config(empty) == SandboxConfig()


def test_dates_and_naive_datetimes_are_utc(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.yaml"
    path.write_text("series:\n  - {id: 1, valid_till: 2099-01-02}\n  - {id: 2, valid_till: '2099-01-02T03:04:05'}\n",
                    encoding="utf-8")
    first, second = load_config(path).series
    assert first.valid_till == datetime(2099, 1, 2, tzinfo=UTC)
    assert second.valid_till == datetime(2099, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(("text", "names"), [
    ("series: [\n", ("not valid YAML", "fix the syntax")),
    ("- 1\n- 2\n", ("top level", "mapping")),
    ("userz: {a: b}\n", ("unknown key 'userz'", "did you mean 'users'")),
    ("series:\n  - {id: 1, valid_days: 1, max_per_customer: 1}\n", ("series[0]", "'max_per_customer'",
                                                                    "max_coupons_per_customer")),
    ("series:\n  - {id: '101', valid_days: 1}\n", ("series[0].id", "an integer")),
    ("series:\n  - {id: 1, valid_days: 1, discount_code: 123}\n", ("series[0].discount_code", "quotes")),
    ("series:\n  - {id: 1, valid_days: 1, expired: 'yes'}\n", ("series[0].expired", "true or false")),
    ("series:\n  - {valid_days: 1}\n", ("series[0]", "no id")),
    ("series: []\n", ("series", "non-empty list")),
    ("series:\n  - {id: 1, discount_type: FLAT, valid_days: 1}\n", ("series 1", "ABS or PERC")),
    ("series:\n  - {id: 1, discount_type: PERC, discount_value: 150, valid_days: 1}\n", ("series 1", "<= 100")),
    ("series:\n  - {id: 1}\n", ("series 1", "valid_till", "valid_days")),
    ("series:\n  - {id: 1, valid_days: 1, valid_till: 2099-01-01}\n", ("series 1", "keep one")),
    ("series:\n  - {id: 1, valid_days: 1}\n  - {id: 1, valid_days: 2}\n", ("series id 1", "twice")),
    ("series:\n  - {id: 1, valid_days: 1, code_alphabet: numerik}\n", ("series 1", "numeric", "chars:")),
    ("series:\n  - {id: 1, valid_days: 1, valid_till: soon}\n", ("series[0].valid_till", "2099-12-31")),
    ("unknown_series_ids: [101]\n", ("unknown_series_ids", "pick an id")),
    ("token_ttl_s: 0\n", ("token_ttl_s", "positive")),
    ("coupon_ids: random\n", ("coupon_ids", "increment or zero")),
    ("users: [sandbox]\n", ("users", "mapping")),
    ("faults: {latency_ms: [50, 10]}\n", ("faults.latency_ms", "low <= high")),
    ("faults: {error_rate: 2}\n", ("faults.error_rate", "0 to 1")),
    ("faults: {error_statuses: [404]}\n", ("faults.error_statuses", "5xx")),
    ("faults: {jitter: 1}\n", ("faults", "unknown key 'jitter'")),
    ("faults: {concurrency: 0, latency_ms: 20}\n", ("faults.concurrency", "write e.g. 4")),
    ("variations: {valid_till_offset: '+5:30'}\n", ("valid_till_offset", "+HH:MM")),
    ("variations: {code_alphabet: 'chars:a'}\n", ("variations.code_alphabet", "2 distinct")),
])
def test_bad_config_is_one_line_naming_problem_and_fix(tmp_path: Path, text: str, names: tuple[str, ...]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SandboxConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    for name in names:
        assert name in message
    assert isinstance(caught.value, ValueError)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SandboxConfigError, match=r"cannot read it.*check the path"):
        load_config(tmp_path / "absent.yaml")


def test_bad_json_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{'single': 'quotes'}", encoding="utf-8")
    with pytest.raises(SandboxConfigError, match="not valid JSON"):
        load_config(path)


@pytest.mark.parametrize(("build", "match"), [
    (lambda: SeriesConfig(1, valid_days=0), "valid_days"),
    (lambda: SeriesConfig(2**31, valid_days=1), "int32"),
    (lambda: SeriesConfig(1, valid_days=1, discount_value=-1), "discount_value"),
    (lambda: SeriesConfig(1, valid_days=1, max_coupons_per_customer=-2), "max_coupons_per_customer"),
    (lambda: SeriesConfig(1, valid_days=1, code_length=0), "code_length"),
    (lambda: SeriesConfig(1, valid_days=1, generic_code=""), "generic_code"),
    (lambda: Variations(valid_till_offset="UTC"), "valid_till_offset"),
    (lambda: Faults(latency_ms="slow"), "latency_ms"),  # type: ignore[arg-type]
    (lambda: SandboxConfig(series=(SeriesConfig(1, valid_days=1),), unknown_series_ids=(1,)), "pick an id"),
])
def test_configs_built_in_code_are_checked_too(build: Any, match: str) -> None:
    with pytest.raises(SandboxConfigError, match=match):
        build()


def test_series_sets_follow_expiry_and_limits() -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    config = SandboxConfig(series=(
        SeriesConfig(1, valid_till=past),
        SeriesConfig(2, valid_days=1, max_create=10),
        SeriesConfig(3, valid_days=1, max_coupons_per_customer=0),
        SeriesConfig(4, valid_days=1, generic_code="G"),
        SeriesConfig(5, expired=True, valid_days=1),
    ), unknown_series_ids=(9, 10))
    assert config.valid_series == frozenset({4})
    assert config.invalid_series == frozenset({1, 5, 9, 10})
    assert config.generic_series == frozenset({4})


def test_latency_forms() -> None:
    assert Faults(latency_ms=20).latency_range_s == (0.02, 0.02)
    assert Faults(latency_ms=(10, 30)).latency_range_s == (0.01, 0.03)
    assert Faults(latency_ms=(15, 15)).latency_ms == 15
    assert Faults(latency_ms=5).active and Faults(error_rate=0.1).active and not Faults().active
