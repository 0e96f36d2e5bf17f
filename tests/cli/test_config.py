"""Config file, environment and flags: precedence, ${ENV} expansion, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from coupon_harness.config import TargetConfig, from_env, load_target, merge, parse_user
from coupon_harness.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(text)
    return path


def test_named_target_with_env_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TILL_PW", "s3cret:with:colons")
    path = write(tmp_path, """
default-target = "staging"
[targets.staging]
base-url = "https://staging.example.com"
user = "till01:${TILL_PW}"
md5-password = true
series-ids = [101, 102]
[targets.other]
base-url = "http://127.0.0.1:9"
""")
    target = load_target(path, None)
    assert target.base_url == "https://staging.example.com"
    assert (target.user, target.password) == ("till01", "s3cret:with:colons")
    assert target.md5_password is True
    assert target.series_ids == (101, 102)
    assert load_target(path, "other").base_url == "http://127.0.0.1:9"
    assert "s3cret" not in repr(target)


def test_precedence_flags_over_env_over_file() -> None:
    file = TargetConfig(base_url="http://file", user="f", password="fp", series_ids=(1,))
    env = from_env({"COUPON_HARNESS_BASE_URL": "http://env", "COUPON_HARNESS_USER": "e:ep"})
    flags = TargetConfig(base_url="http://flag")
    merged = merge(file, env, flags)
    assert merged.base_url == "http://flag"
    assert (merged.user, merged.password) == ("e", "ep")
    assert merged.series_ids == (1,)


@pytest.mark.parametrize(("text", "fragment"), [
    ("not toml [", "not valid TOML"),
    ("[other]\nx=1", "no [targets.NAME] table"),
    ("[targets.a]\nbase-url='x'\nusr='u'", "did you mean 'user'"),
    ("[targets.a]\nseries-ids=['x']", "is not an integer"),
    ("[targets.a]\nseries-ids=[4294967296]", "outside int32"),
    ("[targets.a]\nmax-examples='many'", "wrong type"),
    ("[targets.a]\nuser='u:${COUPON_HARNESS_TEST_UNSET}'", "COUPON_HARNESS_TEST_UNSET is not set"),
    ("[targets.a]\nx=1\n[targets.b]\ny=2", "pick one with --target"),
])
def test_bad_files_give_one_line_errors(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_target(write(tmp_path, text), None)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_target_suggests_a_close_name(tmp_path: Path) -> None:
    path = write(tmp_path, "[targets.staging]\nbase-url='http://x'")
    with pytest.raises(ConfigError, match="did you mean 'staging'"):
        load_target(path, "stagin")


def test_parse_user_keeps_colons_in_password() -> None:
    assert parse_user("u:a:b") == ("u", "a:b")
    with pytest.raises(ConfigError):
        parse_user(":pw")
