"""Which targets a run may hit without being told twice: the production guard and the coupon cap.

Every runner applies them where the work happens; the CLI calls them earlier for an early one-line error.
A URL that two parsers could read as two hosts (`https://eu.api.capillarytech.com\\@127.0.0.1`), or that hides
its host behind invisible characters, is ambiguous: production and not loopback. Hosts are compared
NFKC-normalised, lower-cased, without a trailing dot.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from urllib3.util import parse_url

from coupon_harness.errors import ConfigError

__all__ = ["DEFAULT_MAX_COUPONS", "PRODUCTION_HOSTS", "AmbiguousTarget", "coupon_cap", "coupon_share", "is_loopback",
           "is_production", "refuse_production", "target_host"]

#: Capillary's production clusters (capillary-api-facts.md): coupons issued there are real.
PRODUCTION_HOSTS = frozenset({
    "eu.api.capillarytech.com", "apac.api.capillarytech.com", "apac2.api.capillarytech.com",
    "us.api.capillarytech.com", "north-america.api.capillarytech.com", "api.capillarytech.cn.com",
    "cdn-api.capillarytech.cn.com", "api.capillarytech.com", "intouch.capillarytech.com",
})
#: Everything under these is production too (the README promises *.api.capillarytech.com).
PRODUCTION_SUFFIXES = (".api.capillarytech.com", ".intouch.capillarytech.com", ".api.capillarytech.cn.com")
DEFAULT_MAX_COUPONS = 10_000

#: Characters no honest base URL holds: backslashes (WHATWG reads them as /), whitespace, controls, invisibles.
_AMBIGUOUS = re.compile(r"[\\\s\x00-\x1f\x7f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


class AmbiguousTarget(ValueError):
    """The URL's host cannot be read one way only."""


def _normalise(host: str) -> str:
    host = unicodedata.normalize("NFKC", host).lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return host.encode("idna").decode("ascii") if host and not host.isascii() else host
    except UnicodeError:
        raise AmbiguousTarget(f"the host {host!r} is not a valid internationalised name") from None


def target_host(url: str) -> str:
    """The host every HTTP client here will connect to; AmbiguousTarget when they could disagree."""
    if _AMBIGUOUS.search(url):
        raise AmbiguousTarget(f"{url!r} holds a backslash, whitespace or an invisible character: "
                              "write the URL plainly")
    normalised = unicodedata.normalize("NFKC", url)
    try:
        stdlib = urlsplit(normalised).hostname or ""
        other = parse_url(normalised).host or ""
    except ValueError as exc:
        raise AmbiguousTarget(f"{url!r} is not a URL these clients read alike ({exc})") from None
    hosts = {_normalise(stdlib), _normalise(other)}
    if len(hosts) != 1:
        raise AmbiguousTarget(f"{url!r} reads as more than one host ({', '.join(sorted(hosts))}): write it plainly")
    return hosts.pop()


def is_production(url: str) -> bool:
    """A Capillary production host (or a URL too ambiguous to be sure it is not)."""
    try:
        host = target_host(url)
    except AmbiguousTarget:
        return True
    return host in PRODUCTION_HOSTS or host.endswith(PRODUCTION_SUFFIXES)


def is_loopback(url: str) -> bool:
    try:
        host = target_host(url)
    except AmbiguousTarget:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_production(base_url: str, *, allow: bool, url_flag: str = "--base-url",
                      allow_flag: str = "--allow-production") -> None:
    """ConfigError (exit 2) for a production host, or a URL that could read as one, unless allowed; the message
    names the flags of the way in."""
    if allow or not is_production(base_url):
        return
    try:
        shown = target_host(base_url)
    except AmbiguousTarget as exc:
        raise ConfigError(f"{url_flag}: {exc} (it could reach a Capillary production host)") from None
    raise ConfigError(f"{url_flag}: {shown} is a Capillary production host: a run there issues real coupons to "
                      f"real customers; add {allow_flag} if that is what you want")


def coupon_cap(base_url: str, max_coupons: int | None) -> int | None:
    """The coupon cap a run keeps: the one given, else DEFAULT_MAX_COUPONS off loopback, else none."""
    if max_coupons is None and not is_loopback(base_url):
        return DEFAULT_MAX_COUPONS
    return max_coupons


def coupon_share(cap: int, workers: int, position: int) -> int:
    """Worker `position`'s (0-based) share of `cap` among `workers`: cap // workers, one more for the first
    cap % workers; the shares sum to `cap` exactly (a position beyond the workers gets none)."""
    if workers < 1 or position < 0 or position >= workers:
        return 0
    return cap // workers + (1 if position < cap % workers else 0)
