"""The base URL of a target: its userinfo taken out as credentials, and the URL checked."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from coupon_harness.config import check_credentials
from coupon_harness.errors import ConfigError
from coupon_harness.safety import AmbiguousTarget, target_host
from coupon_harness.transport.auth import REDACTED, Credentials

__all__ = ["check_base_url", "split_userinfo", "userinfo_credentials", "without_userinfo"]

#: URL userinfo (`http://user:password@host`): up to the last @ before the path, as URL parsers read it.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")


def split_userinfo(url: str) -> tuple[str, str | None]:
    """(the URL without its userinfo, the userinfo as written or None): `http://u:p@host/x` gives
    (`http://host/x`, `u:p`)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url, None
    end = min((index for index in (rest.find(char) for char in "/?#") if index >= 0), default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")
    if not at:
        return url, None
    return f"{scheme}://{host}{rest[end:]}", userinfo


def without_userinfo(text: str) -> str:
    """`text` with the userinfo of every URL in it redacted."""
    return _USERINFO.sub(rf"\1{REDACTED}@", text)


def _shown_url(url: str) -> str:
    """The URL for a message: userinfo redacted, then cut to 80 characters."""
    shown = without_userinfo(url)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def userinfo_credentials(url: str) -> tuple[str, Credentials | None]:
    """(the URL without its userinfo, the credentials it held or None), percent-decoded; every later step sees the
    bare URL. A URL whose host the clients could read two ways (`https://a.example\\@b.example`) is refused."""
    bare, userinfo = split_userinfo(url)
    if userinfo is None:
        return url, None
    shown = _shown_url(url)
    try:
        same = target_host(url) == target_host(bare)
    except AmbiguousTarget:
        same = False
    if not same:
        raise ConfigError(f"base URL {shown!r} holds an '@' and reads as more than one host (a backslash, "
                          "whitespace or an invisible character?): write it plainly, credentials in --user")
    raw_user, colon, raw_password = userinfo.partition(":")
    try:
        user, password = unquote(raw_user, errors="strict"), unquote(raw_password, errors="strict")
    except UnicodeDecodeError:
        raise ConfigError(f"the credentials in base URL {shown!r} are not UTF-8 once percent-decoded: encode "
                          "them as UTF-8 (%C3%B6 for ö) or give --user USER:PASSWORD") from None
    if not user:
        raise ConfigError(f"base URL {shown!r} has credentials without a user before '@': write "
                          "http://USER:PASSWORD@host, or give --user USER:PASSWORD")
    values: dict[str, object] = {"user": user, "password": password if colon else None}
    check_credentials(values, "the credentials in the base URL ({flag})")
    return bare, Credentials(user=user, password=password if colon else None)


def check_base_url(url: str | None, what: str = "--base-url") -> str:
    """The target less a trailing '/': an http(s) URL with a host, a valid port, maybe a path prefix, no query
    string nor fragment (the harness appends the endpoint's path). `what` names where it came from."""
    if not url:
        raise ConfigError("no target: give --base-url URL (or base-url in --config, or COUPON_HARNESS_BASE_URL)")
    shown = _shown_url(url)
    example = "give one like http://127.0.0.1:8080 or https://staging.example.com/prefix"
    if any(char.isspace() or not char.isprintable() for char in url):
        raise ConfigError(f"{what} {shown!r} holds a space or a control character: {example}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        if "port" in str(exc).lower():
            raise ConfigError(f"{what} {shown!r} has no valid port (1-65535): {example}") from None
        raise ConfigError(f"{what} {shown!r} is not a valid URL ({exc}): {example}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{what} {shown!r} is not an http(s) URL: {example}")
    if not parts.hostname:
        raise ConfigError(f"{what} {shown!r} has no host: {example}")
    if port == 0:
        raise ConfigError(f"{what} {shown!r} has no valid port (1-65535): {example}")
    if parts.query or "?" in url:
        raise ConfigError(f"{what} {shown!r} has a query string: drop the '?...' part ({example})")
    if "#" in url:
        raise ConfigError(f"{what} {shown!r} has a fragment: drop the '#...' part ({example})")
    return url.rstrip("/")
