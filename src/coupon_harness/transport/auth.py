"""Credentials for the target: HTTP Basic (plain or Capillary's md5 form), OAuth token, ready token.

Also the redactor: every secret the harness holds is replaced by <redacted> before anything is printed
or written.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any
from urllib.parse import quote, quote_plus

import orjson

from coupon_harness.transport.credentials import Credentials
from coupon_harness.transport.outbound import OutboundPolicy, RedirectRefused, setup_request

__all__ = ["REDACTED", "TOKEN_HEADER", "TOKEN_PATH", "AuthError", "Credentials", "Redactor", "TokenRedirected",
           "TokenSource", "auth_headers"]

TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"
TOKEN_PATH = "/v3/oauth/token/generate"
REDACTED = "<redacted>"


class AuthError(RuntimeError):
    """The credentials could not be turned into a request header (token fetch refused or failed)."""


class TokenRedirected(AuthError, RedirectRefused):
    """The token endpoint answered a redirect: never followed (the key and secret would reach another host).
    An AuthError (callers stop as for any token failure) and a setup error (exit 2)."""


class TokenSource:
    """Fetches an OAuth token from the target and refreshes it before it expires. Thread-safe.

    The token request goes through `transport.outbound.setup_request`: the base URL's origin only (production
    guard included), the run's deadline for all of it, no redirect followed (TokenRedirected)."""

    def __init__(self, base_url: str, key: str, secret: str, timeout: float, refresh_margin: float = 0.2, *,
                 allow_production: bool = False, url_flag: str = "--base-url") -> None:
        self._url = base_url.rstrip("/") + TOKEN_PATH
        self._key = key
        self._secret = secret
        self._policy = OutboundPolicy(timeout=timeout, allow_production=allow_production, url_flag=url_flag)
        self._margin = refresh_margin
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.fetched: list[str] = []  # every token fetched, so the redactor can hide them

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                self._token, ttl = self._fetch()
                self._expires = time.monotonic() + ttl * (1 - self._margin)
                self.fetched.append(self._token)
            return self._token

    def _fetch(self) -> tuple[str, float]:
        try:
            answer = setup_request("POST", self._url, self._policy, what="the OAuth token endpoint",
                                   json_body={"key": self._key, "secret": self._secret},
                                   fix="point the base URL at the host that serves the token endpoint")
        except RedirectRefused as exc:
            raise TokenRedirected(str(exc)) from None
        if answer.error is not None:
            raise AuthError(f"cannot fetch an OAuth token from {self._url}: {answer.error} "
                            f"({answer.detail or 'no answer'})")
        if answer.status != 200:
            raise AuthError(f"token endpoint {self._url} answered {answer.status}: "
                            "check --oauth-key/--oauth-secret")
        try:
            data: Any = orjson.loads(answer.body)["data"]
            return str(data["accessToken"]), float(data.get("ttlSeconds", 300))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            raise AuthError(f"token endpoint {self._url} answered 200 without data.accessToken") from None


def auth_headers(credentials: Credentials, tokens: TokenSource | None) -> dict[str, str]:
    """The headers that authenticate one request (token preferred over Basic when both are given)."""
    if credentials.token:
        return {TOKEN_HEADER: credentials.token}
    if tokens is not None:
        return {TOKEN_HEADER: tokens.token()}
    header = credentials.basic_header()
    return {"Authorization": header} if header else {}


#: URL userinfo (`http://user:password@host`): whatever stands between the scheme and an @ before the path.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s]*@")


def _forms(secret: str) -> set[str]:
    """The ways a secret shows up in text a target echoes: as is, JSON-escaped (`/` as `\\/` too, non-ASCII
    as \\u escapes), URL-encoded."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe="")}
    for ascii_only in (False, True):
        escaped = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        forms.update({escaped, escaped.replace("/", "\\/")})
    return forms


#: The shortest start of a secret that counts as the secret when a cut mark follows it.
_CUT_PREFIX = 4
_CUT_MARKS = re.compile(r"…|\.\.\.")


def _cut_secrets(value: str, secrets: list[str]) -> str:
    """`value` with every start of a secret that a cut mark (… or ...) follows replaced: the contract layer
    cuts long values (a received text, a schema message) before any redactor sees them, so a secret may
    reach the redactor cut in two, its start followed by the mark."""
    out: list[str] = []
    done = 0
    for mark in _CUT_MARKS.finditer(value):
        end = mark.start()
        if end < done:
            continue
        longest = 0
        tail = value[max(end - _CUT_PREFIX, 0):end]
        for secret in secrets:
            if tail not in secret:
                continue
            for length in range(min(len(secret) - 1, end - done), max(longest, _CUT_PREFIX - 1), -1):
                if value.startswith(secret[:length], end - length):
                    longest = length
                    break
        if longest:
            out.append(value[done:end - longest] + REDACTED)
            done = end
    return "".join(out) + value[done:] if out else value


class Redactor:
    """Replaces every known secret, in every form a target may echo it, with <redacted>; and URL userinfo.

    Apply it to whole texts before cutting them: a secret cut in two is no longer recognised.
    """

    SENSITIVE_HEADERS = frozenset({"authorization", TOKEN_HEADER.lower(), "cookie", "proxy-authorization"})

    def __init__(self, credentials: Credentials, tokens: TokenSource | None = None) -> None:
        self._credentials = credentials
        self._tokens = tokens
        self._cache: tuple[int, list[str]] = (-1, [])

    def _secrets(self) -> list[str]:
        """Every form of every secret, longest first; rebuilt only when a new token was fetched."""
        fetched = self._tokens.fetched if self._tokens is not None else []
        if self._cache[0] != len(fetched):
            found = [*self._credentials.secrets(), *fetched]
            forms = {form for secret in found if len(secret) >= 3 for form in _forms(secret)}
            self._cache = (len(fetched), sorted(forms, key=len, reverse=True))
        return self._cache[1]

    def text(self, value: str) -> str:
        secrets = self._secrets()
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        if "…" in value or "..." in value:
            value = _cut_secrets(value, secrets)
        if "@" in value:
            value = _USERINFO.sub(rf"\1{REDACTED}@", value)
        return value

    def headers(self, headers: Any) -> tuple[tuple[str, str], ...]:
        out = []
        for name, value in headers.items():
            if name.lower() == "authorization" and str(value).startswith("Basic "):
                out.append((name, "Basic " + REDACTED))
            elif name.lower() in self.SENSITIVE_HEADERS:
                out.append((name, REDACTED))
            else:
                out.append((name, self.text(str(value))))
        return tuple(out)
