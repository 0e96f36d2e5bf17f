"""The second target of `diff` from its options: flags, variables, and `--against-target` of the config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from coupon_harness.cli.option_table import DIFF, Resolved, Sources, resolve
from coupon_harness.cli.settings_builders import against_target, diff_settings
from coupon_harness.errors import ConfigError

CONFIG = """
[targets.staging]
base-url = "http://127.0.0.1:8001"
user = "alice:a-pass"
[targets.candidate]
base-url = "http://127.0.0.1:8002"
user = "bob:b-pass"
"""


def _resolve(tmp_path: Path, **flags: object) -> Resolved:
    path = tmp_path / "targets.toml"
    path.write_text(CONFIG)
    given = {name.replace("_", "-"): value for name, value in flags.items()}
    if given.pop("file", False):
        given["config"] = str(path)
    return resolve(Sources(flags=given, environ={}), DIFF)


def test_the_against_target_gives_url_and_credentials(tmp_path: Path) -> None:
    resolved = _resolve(tmp_path, file=True, target="staging", against_target="candidate")
    url, creds = against_target(resolved)
    assert (url, creds.user, creds.password) == ("http://127.0.0.1:8002", "bob", "b-pass")
    settings = diff_settings(resolved)
    assert settings.base.base_url == "http://127.0.0.1:8001" and settings.base.credentials.user == "alice"
    assert settings.max_coupons is None  # both loopback


def test_flags_win_and_another_url_drops_the_tables_credentials(tmp_path: Path) -> None:
    resolved = _resolve(tmp_path, file=True, target="staging", against_target="candidate",
                        against_user="carol:c-pass")
    assert against_target(resolved)[1].user == "carol"
    resolved = _resolve(tmp_path, file=True, target="staging", against_target="candidate",
                        against_url="http://127.0.0.1:9009")
    url, creds = against_target(resolved)
    assert url == "http://127.0.0.1:9009" and not creds.any
    resolved = _resolve(tmp_path, base_url="http://127.0.0.1:1", against_url="http://127.0.0.1:2",
                        against_user="dave", against_password="d-pass", against_md5_password=True)
    creds = against_target(resolved)[1]
    assert (creds.user, creds.password, creds.md5_password) == ("dave", "d-pass", True)


def test_a_remote_target_caps_coupons_on_both(tmp_path: Path) -> None:
    resolved = _resolve(tmp_path, base_url="http://127.0.0.1:1", against_url="https://candidate.example.com")
    assert diff_settings(resolved).max_coupons == 10_000
    resolved = _resolve(tmp_path, base_url="http://127.0.0.1:1", against_url="https://candidate.example.com",
                        max_coupons="500", series_map="101=5001", customer_map="c1=d1")
    settings = diff_settings(resolved)
    assert (settings.max_coupons, dict(settings.series_map), dict(settings.customer_map)) == (
        500, {101: 5001}, {"c1": "d1"})


@pytest.mark.parametrize(("flags", "message"), [
    ({"base_url": "http://127.0.0.1:1"}, "no second target: give --against-url URL"),
    ({"base_url": "http://127.0.0.1:1", "against_target": "candidate"}, "names a target of --config FILE"),
    ({"base_url": "http://127.0.0.1:1", "against_url": "http://127.0.0.1:2", "against_password": "x-pass"},
     "gives a password but no user"),
    ({"base_url": "http://127.0.0.1:1", "against_url": "http://127.0.0.1:2", "against_oauth_key": "key"},
     "needs --against-oauth-secret"),
    ({"base_url": "http://127.0.0.1:1", "against_url": "https://us.api.capillarytech.com"},
     "--against-url: us.api.capillarytech.com is a Capillary production host"),
    ({"base_url": "http://127.0.0.1:1", "against_url": "ftp://127.0.0.1:2"}, "--against-url"),
    ({"base_url": "http://127.0.0.1:1", "against_url": "http://127.0.0.1:2", "customer_map": "c1=d1,c2=d1"},
     "two ids map to d1"),
])
def test_bad_second_targets_are_one_line(tmp_path: Path, flags: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        diff_settings(_resolve(tmp_path, **flags))
    assert message in str(caught.value) and "\n" not in str(caught.value)
