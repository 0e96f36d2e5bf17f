"""The production guard reads the host as the HTTP clients do, and is not fooled by spelling."""

from __future__ import annotations

import pytest

from coupon_harness.runners.load.safety import AmbiguousTarget, is_loopback, is_production, target_host


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
