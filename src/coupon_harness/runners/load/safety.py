"""Which targets a load run may hit without being told twice."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["DEFAULT_MAX_COUPONS", "PRODUCTION_HOSTS", "is_loopback", "is_production"]

#: Capillary's production clusters (capillary-api-facts.md): coupons issued there are real.
PRODUCTION_HOSTS = frozenset({
    "eu.api.capillarytech.com", "apac.api.capillarytech.com", "apac2.api.capillarytech.com",
    "us.api.capillarytech.com", "north-america.api.capillarytech.com", "api.capillarytech.cn.com",
    "cdn-api.capillarytech.cn.com",
})
PRODUCTION_SUFFIXES = (".intouch.capillarytech.com",)
DEFAULT_MAX_COUPONS = 10_000


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def is_production(url: str) -> bool:
    host = _host(url)
    return host in PRODUCTION_HOSTS or host.endswith(PRODUCTION_SUFFIXES) or host == "intouch.capillarytech.com"


def is_loopback(url: str) -> bool:
    host = _host(url)
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
