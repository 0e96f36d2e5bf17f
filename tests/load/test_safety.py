"""The production guard reads the host as the HTTP clients do, and is not fooled by spelling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from coupon_harness.safety import AmbiguousTarget, is_loopback, is_production, target_host


@pytest.mark.parametrize("url", [
    "https://eu.api.capillarytech.com",
    "https://sg.api.capillarytech.com",            # any cluster under api.capillarytech.com
    "https://api.capillarytech.com/v2",
    "https://EU.API.CAPILLARYTECH.COM",
    "https://eu.api.capillarytech.com./",           # trailing dot
    "https://\uff45\uff55\uff0eapi\uff0ecapillarytech\uff0ecom",  # full-width letters and dots
    "https://eu.api.capillarytech.com\\@127.0.0.1",  # stdlib reads 127.0.0.1, urllib3 eu.api...
    "https://eu.api\u200b.capillarytech.com",        # a zero-width space
    "https://eu.api.capillarytech.com\u00ad",        # a soft hyphen
    "https://user:pw@eu.api.capillarytech.com:443/x",
    "https://acme.intouch.capillarytech.com",
    "https://intouch.capillarytech.com",
    "https://api.capillarytech.cn.com",
])
def test_production_in_any_spelling_is_production(url: str) -> None:
    assert is_production(url)
    assert not is_loopback(url)


@pytest.mark.parametrize("url", [
    "https://staging.example.com", "http://127.0.0.1:8080", "https://capillarytech.com.example.org",
    "https://api.capillarytech.com.evil.example", "http://[::1]:8080",
])
def test_other_hosts_are_not_production(url: str) -> None:
    assert not is_production(url)


@pytest.mark.parametrize(("url", "loopback"), [
    ("http://127.0.0.1:8080", True), ("http://127.8.9.10", True), ("http://localhost:1", True),
    ("http://[::1]:8080/api", True), ("http://LOCALHOST.", True), ("http://10.0.0.1", False),
    ("http://127.0.0.1\\@10.0.0.1", False), ("http://example.com@127.0.0.1", True),
])
def test_loopback(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_ambiguous_urls_are_refused_with_a_reason() -> None:
    with pytest.raises(AmbiguousTarget, match="backslash"):
        target_host("https://eu.api.capillarytech.com\\@127.0.0.1")
    assert target_host("https://user@127.0.0.1:8080/p") == "127.0.0.1"


# --- the guard on every way in, before any packet ------------------------------------------------------

PRODUCTION = "https://eu.api.capillarytech.com"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every connection attempt and name lookup is refused and recorded."""
    import socket

    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network use in a test of the production guard")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_library_contract_run_is_refused_before_any_request(no_network: list[object]) -> None:
    from coupon_harness.errors import ConfigError
    from coupon_harness.runners.contract import ContractSettings, run_contract

    with pytest.raises(ConfigError, match="add --allow-production"):
        run_contract(ContractSettings(base_url=PRODUCTION))
    with pytest.raises(ConfigError, match="could reach a Capillary production host"):
        run_contract(ContractSettings(base_url="https://eu.api.capillarytech.com\\@127.0.0.1"))
    assert no_network == []


LIBRARY_LOAD = """
import socket
def refuse(*args, **kwargs):
    raise SystemExit("network used")
socket.create_connection = socket.getaddrinfo = socket.socket.connect = refuse
from coupon_harness.errors import ConfigError
from coupon_harness.runners.load.plugin import install
from coupon_harness.runners.load.settings import LoadSettings
try:
    install(None, LoadSettings(base_url="https://sg.api.capillarytech.com", series_ids=(101,)), "local", None)
except ConfigError as exc:
    print("refused:", exc)
"""


def test_the_load_plugin_refuses_for_every_way_in() -> None:
    """Library use of the load plugin (which the CLI's load process and plain Locust install too); in a
    process of its own, as gevent must not enter the test process."""
    done = subprocess.run([sys.executable, "-c", LIBRARY_LOAD], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "refused: --base-url: sg.api.capillarytech.com is a Capillary production host" in done.stdout


def test_coupon_cap() -> None:
    from coupon_harness.safety import DEFAULT_MAX_COUPONS, coupon_cap

    assert coupon_cap("https://staging.example.com", None) == DEFAULT_MAX_COUPONS
    assert coupon_cap("https://staging.example.com", 50) == 50
    assert coupon_cap("http://127.0.0.1:8080", None) is None
    assert coupon_cap("http://127.0.0.1\\@10.0.0.1", None) == DEFAULT_MAX_COUPONS


def test_contract_cli_refuses_production_before_any_request(no_network: list[object],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from coupon_harness.cli.main import main

    assert main(["contract", "--base-url", "https://\uff25\uff35.api.capillarytech.com", "--series-ids", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "eu.api.capillarytech.com is a Capillary production host" in err[0], err
    assert no_network == []


def test_plain_locust_refuses_production_with_one_line_and_no_report(tmp_path: Path) -> None:
    locustfile = Path(__file__).resolve().parents[2] / "locustfiles" / "bulk_issue.py"
    locust = str(Path(sys.executable).with_name("locust"))
    done = subprocess.run([locust, "-f", str(locustfile), "--host", "https://sg.api.capillarytech.com", "--headless",
                           "-u", "1", "-t", "3s", "--series-ids", "101", "--user", "a:b"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "sg.api.capillarytech.com is a Capillary production host" in done.stderr.splitlines()[-1]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "reports").exists()
