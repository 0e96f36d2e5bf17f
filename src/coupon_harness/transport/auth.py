"""Credentials for the target: HTTP Basic (plain or Capillary's md5 form), OAuth token, ready token.
The redactor (`transport/redaction.py`) is re-exported here."""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson

from coupon_harness.transport.credentials import Credentials, TlsOptions
from coupon_harness.transport.outbound import OutboundPolicy, RedirectRefused, setup_request
from coupon_harness.transport.redaction import REDACTED, TOKEN_HEADER, Redactor

__all__ = ["REDACTED", "TOKEN_HEADER", "TOKEN_PATH", "AuthError", "Credentials", "Redactor", "TokenRedirected",
           "TokenSource", "auth_headers"]

TOKEN_PATH = "/v3/oauth/token/generate"


class AuthError(RuntimeError):
    """The credentials could not be turned into a request header (token fetch refused or failed)."""


class TokenRedirected(AuthError, RedirectRefused):
    """The token endpoint answered a redirect (never followed): an AuthError and a setup error (exit 2)."""


class TokenSource:
    """Fetches an OAuth token from the target (`setup_request`) and refreshes it before it expires. Thread-safe."""

    def __init__(self, base_url: str, key: str, secret: str, timeout: float, refresh_margin: float = 0.2, *,
                 allow_production: bool = False, url_flag: str = "--base-url",
                 headers: tuple[tuple[str, str], ...] = (), tls: TlsOptions | None = None) -> None:
        self._url = base_url.rstrip("/") + TOKEN_PATH
        self._key = key
        self._secret = secret
        self._policy = OutboundPolicy(timeout=timeout, allow_production=allow_production, url_flag=url_flag,
                                      headers=headers, tls=tls or TlsOptions())
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
    """The user's extra headers (`-H`) and the one that authenticates (a token preferred over Basic)."""
    extra = dict(credentials.headers)
    if credentials.token:
        return {**extra, TOKEN_HEADER: credentials.token}
    if tokens is not None:
        return {**extra, TOKEN_HEADER: tokens.token()}
    header = credentials.basic_header()
    return {**extra, "Authorization": header} if header else extra
