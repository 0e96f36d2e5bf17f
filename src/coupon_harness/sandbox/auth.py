"""Credentials: HTTP Basic (plain password or Capillary's md5 hex of it) and OAuth tokens.

The hot path is one dict lookup of the Authorization header; other spellings of valid credentials join
that cache as they are seen, up to a bound. Tokens share one lifetime, so a deque in issue order is in expiry
order: expired ones are purged from its front as new ones are issued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping

import orjson

__all__ = ["AUTHORIZATION", "TOKEN_HEADER", "Authenticator"]

AUTHORIZATION = "Authorization"
TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"

_CACHE_LIMIT = 4096


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _md5_hex(password: str) -> str:
    return hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()


class Authenticator:
    def __init__(self, users: Mapping[str, str], clients: Mapping[str, str], token_ttl_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._users = dict(users)
        self._md5 = {user: _md5_hex(password) for user, password in users.items()}
        self._clients = dict(clients)
        self._ttl = float(token_ttl_s)
        self._clock = clock
        self._signing_key = secrets.token_bytes(32)
        #: Authorization header value -> user.
        self._basic: dict[str, str] = {}
        for user, password in self._users.items():
            self._basic[_basic_header(user, password)] = user
            self._basic[_basic_header(user, self._md5[user])] = user
        #: token -> (expiry on the monotonic clock, client key).
        self._tokens: dict[str, tuple[float, str]] = {}
        #: (expiry, token) in issue order, which is expiry order (one TTL, monotonic clock).
        self._expiries: deque[tuple[float, str]] = deque()

    @property
    def token_ttl_s(self) -> float:
        return self._ttl

    @property
    def tokens_held(self) -> int:
        """Token entries in memory (live ones, and expired ones not purged yet)."""
        return max(len(self._tokens), len(self._expiries))

    def identify(self, headers: Mapping[str, str]) -> str | None:
        """The user (Basic) or client key (OAuth token) the request headers authenticate, or None."""
        authorization = headers.get(AUTHORIZATION)
        if authorization is not None:
            user = self._basic.get(authorization)
            if user is None:
                user = self._decode(authorization)
            if user is not None:
                return user
        token = headers.get(TOKEN_HEADER)
        if token is not None:
            entry = self._tokens.get(token)
            if entry is not None:
                if self._clock() < entry[0]:
                    return entry[1]
                self._tokens.pop(token, None)
        return None

    def _decode(self, authorization: str) -> str | None:
        scheme, _, encoded = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8 once decoded
            return None
        user, colon, password = decoded.partition(":")
        if not colon or user not in self._users:
            return None
        plain_ok = hmac.compare_digest(password.encode(), self._users[user].encode())
        md5_ok = hmac.compare_digest(password.lower().encode(), self._md5[user].encode())
        if not (plain_ok or md5_ok):
            return None
        if len(self._basic) < _CACHE_LIMIT:
            self._basic[authorization] = user
        return user

    def issue_token(self, key: str, secret: str) -> str | None:
        """A new JWT-like token for a known key and secret, valid for token_ttl_s; None otherwise."""
        expected = self._clients.get(key)
        if expected is None or not hmac.compare_digest(secret.encode(), expected.encode()):
            return None
        now = self._clock()
        self._forget_expired(now)
        issued = int(time.time())
        header = _b64url(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
        payload = _b64url(orjson.dumps({"sub": key, "iat": issued, "exp": issued + round(self._ttl),
                                        "jti": secrets.token_hex(8)}))
        signature = _b64url(hmac.digest(self._signing_key, f"{header}.{payload}".encode(), "sha256"))
        token = f"{header}.{payload}.{signature}"
        expiry = now + self._ttl
        self._tokens[token] = (expiry, key)
        self._expiries.append((expiry, token))
        return token

    def _forget_expired(self, now: float) -> None:
        """Drop the tokens expired by `now`: they are at the deque's front."""
        expiries, tokens = self._expiries, self._tokens
        while expiries and expiries[0][0] <= now:
            tokens.pop(expiries.popleft()[1], None)
