"""Credentials for the target: HTTP Basic (plain or Capillary's md5 form), OAuth token, ready token.

The redactor (every secret the harness holds is replaced by <redacted> before anything is printed or written)
lives in `transport/redaction.py`; it is re-exported here.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from coupon_harness.transport.credentials import Credentials
from coupon_harness.transport.redaction import REDACTED, Redactor

__all__ = ["REDACTED", "TOKEN_HEADER", "TOKEN_PATH", "AuthError", "Credentials", "Redactor", "TokenSource",
           "auth_headers"]

TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"
TOKEN_PATH = "/v3/oauth/token/generate"


class AuthError(RuntimeError):
    """The credentials could not be turned into a request header (token fetch refused or failed)."""


class TokenSource:
    """Fetches an OAuth token from the target and refreshes it before it expires. Thread-safe."""

    def __init__(self, base_url: str, key: str, secret: str, timeout: float, refresh_margin: float = 0.2) -> None:
        self._url = base_url.rstrip("/") + TOKEN_PATH
        self._key = key
        self._secret = secret
        self._timeout = timeout
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
            answer = requests.post(self._url, json={"key": self._key, "secret": self._secret}, timeout=self._timeout)
        except requests.RequestException as exc:
            raise AuthError(f"cannot fetch an OAuth token from {self._url}: {type(exc).__name__}") from None
        if answer.status_code != 200:
            raise AuthError(f"token endpoint {self._url} answered {answer.status_code}: "
                            "check --oauth-key/--oauth-secret")
        try:
            data: Any = answer.json()["data"]
            return str(data["accessToken"]), float(data.get("ttlSeconds", 300))
        except (ValueError, KeyError, TypeError):
            raise AuthError(f"token endpoint {self._url} answered 200 without data.accessToken") from None


def auth_headers(credentials: Credentials, tokens: TokenSource | None) -> dict[str, str]:
    """The headers that authenticate one request (token preferred over Basic when both are given)."""
    if credentials.token:
        return {TOKEN_HEADER: credentials.token}
    if tokens is not None:
        return {TOKEN_HEADER: tokens.token()}
    header = credentials.basic_header()
    return {"Authorization": header} if header else {}
