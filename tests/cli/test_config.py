"""Config files: a named target, ${ENV} expansion, one-line errors. (Precedence over the environment and the
flags, option by option: tests/cli/test_options.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from coupon_harness.cli.option_table import Resolved, Sources, resolve
from coupon_harness.config import parse_user, read_target_table
from coupon_harness.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(text)
    return path


def from_file(path: Path, target: str | None = None, scope: str = "contract") -> Resolved:
    flags = {"config": str(path), **({"target": target} if target else {})}
    return resolve(Sources(flags=flags, environ={}), scope)


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
    where, table = read_target_table(path, None)
    assert where.endswith("[targets.staging]") and table["user"] == "till01:s3cret:with:colons"
    target = from_file(path)
    assert target.get("base-url") == "https://staging.example.com"
    assert target.get("user") == ("till01", "s3cret:with:colons")
    assert target.get("md5-password") is True
    assert target.get("series-ids") == (101, 102)
    assert from_file(path, "other").get("base-url") == "http://127.0.0.1:9"


@pytest.mark.parametrize(("text", "fragment"), [
    ("not toml [", "not valid TOML"),
    ("[other]\nx=1", "no [targets.NAME] table"),
    ("[targets.a]\nbase-url='x'\nusr='u'", "did you mean 'user'"),
    ("[targets.a]\nsloo=['p95=1s']", "did you mean 'slo'"),
    ("[targets.a]\nseries-ids=['x']", "is not an integer"),
    ("[targets.a]\nseries-ids=[4294967296]", "outside int32"),
    ("[targets.a]\nmax-examples='many'", "max-examples"),
    ("[targets.a]\nshape='square'", "not a shape"),
    ("[targets.a]\nslo=['p95=0ms']", "slo"),
    ("[targets.a]\nuser='u:${COUPON_HARNESS_TEST_UNSET}'", "COUPON_HARNESS_TEST_UNSET is not set"),
    ("[targets.a]\nx=1\n[targets.b]\ny=2", "pick one with --target"),
])
def test_bad_files_give_one_line_errors(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        from_file(write(tmp_path, text))
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_target_suggests_a_close_name(tmp_path: Path) -> None:
    path = write(tmp_path, "[targets.staging]\nbase-url='http://x'")
    with pytest.raises(ConfigError, match="did you mean 'staging'"):
        from_file(path, "stagin")


def test_parse_user_keeps_colons_in_password() -> None:
    assert parse_user("u:a:b") == ("u", "a:b")
    with pytest.raises(ConfigError):
        parse_user(":pw")
