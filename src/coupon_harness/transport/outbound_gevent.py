"""The load user's HTTP client, under the outbound policy of `transport.outbound`: gevent only.

Imported only inside a load process. One `LoadClient` per user: geventhttpclient's `HTTPClient` (one
keep-alive connection), bound to the origin it was built for (guarded then; requests carry only a path), with
- one deadline, `gevent.Timeout`, for the whole request (the client's own bound each socket operation only);
- the body cut past `max_body_bytes` (the connection dropped), asked for as `identity` and never decoded;
- a fresh client after a deadline (a timeout mid-send leaves the one-connection pool without its connection).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gevent
from geventhttpclient import HTTPClient

from coupon_harness.transport.outbound import CHUNK, OutboundPolicy

__all__ = ["BodyTooLarge", "DeadlineExceeded", "LoadClient", "LoadReply"]


class DeadlineExceeded(Exception):
    """No complete answer within --request-timeout: Locust books it as the request's failure."""


class BodyTooLarge(Exception):
    """The answer's body was larger than the cap: it was cut, and the connection dropped."""


@dataclass(slots=True)
class LoadReply:
    """What one request got (status None without a whole answer); `error` "timeout", "too-large" or
    "connection", with the exception to book."""

    status: int | None
    content_type: str
    body: bytes
    error: str | None = None
    exception: Exception | None = None


class LoadClient:
    def __init__(self, base_url: str, policy: OutboundPolicy) -> None:
        policy.guard(base_url)  # the production guard, once per client: a ConfigError before any request
        self._base_url = base_url
        self._policy = policy
        self._deadline = DeadlineExceeded(f"no complete answer within --request-timeout {policy.timeout:g} s")
        self._too_large = BodyTooLarge(f"body larger than {policy.max_body_bytes} bytes")
        self._http = self._client()

    def _client(self) -> HTTPClient:
        timeout = self._policy.timeout
        tls: dict[str, Any] = {}
        if self._base_url.lower().startswith("https:"):
            tls = {"insecure": not self._policy.tls.verify, "ssl_context_factory": self._ssl_context}
        return HTTPClient.from_url(self._base_url, concurrency=1, connection_timeout=timeout,
                                   network_timeout=timeout, headers={"Accept-Encoding": "identity"}, **tls)

    def _ssl_context(self, cafile: str | None = None, **_: Any) -> ssl.SSLContext:
        """The TLS of the policy, as the requests-based clients speak it; geventhttpclient's CA bundle otherwise."""
        options = self._policy.tls
        context = ssl.create_default_context(cafile=options.cacert or cafile)
        if not options.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if options.client_cert is not None:
            context.load_cert_chain(options.client_cert, options.client_key)
        return context

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> LoadReply:
        """POST `body` to `path` on the client's origin. Never raises for what the target does."""
        cap = self._policy.max_body_bytes
        # A fresh Timeout each request: a restarted libev timer keeps only what was left of its time.
        timeout = gevent.Timeout(self._policy.timeout)
        timeout.start()
        try:
            response = self._http.request("POST", path, body=body, headers=headers)
            try:
                status = response.status_code
                content_type = str(response.get("content-type") or "")
                chunks: list[bytes] = []
                size = 0
                while True:
                    wanted = min(CHUNK, cap + 1 - size)
                    part = response.read(wanted)
                    if not part:
                        break
                    chunks.append(part)
                    size += len(part)
                    if size > cap:  # judged as a transport failure: the body read so far is of no use
                        self._drop()
                        return LoadReply(None, content_type, b"", "too-large", self._too_large)
                    if len(part) < wanted and response.message_complete:
                        break  # all of it (the usual answer: one read, no second call to find the end)
            finally:
                response.release()
            return LoadReply(status, content_type, chunks[0] if len(chunks) == 1 else b"".join(chunks))
        except gevent.Timeout as fired:
            if fired is not timeout:
                raise
            self._drop()
            return LoadReply(None, "", b"", "timeout", self._deadline)
        except Exception as exc:  # a dropped connection, a broken answer: Locust books it as the failure
            return LoadReply(None, "", b"", "connection", exc)
        finally:
            timeout.close()

    def _drop(self) -> None:
        """A fresh client (and connection) for the next request; this one's connection is closed."""
        old, self._http = self._http, self._client()
        old.close()

    def close(self) -> None:
        self._http.close()
