"""One request and what came back, with transport failures and oversized bodies captured as data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from coupon_harness.results.contract import RequestSample
from coupon_harness.transport.auth import Redactor
from coupon_harness.transport.outbound import REFUSED, UNRESOLVED, BoundedClient

__all__ = ["REFUSED", "UNRESOLVED", "Exchange", "Outgoing", "redacted_head", "send"]


@dataclass(slots=True)
class Exchange:
    request: RequestSample
    method: str
    status: int | None
    #: Response headers, names lower-cased.
    headers: dict[str, str]
    body: bytes
    #: Transport failure: "timeout", "connection", "too-large"; None when an answer arrived whole.
    error: str | None = None
    error_detail: str = ""
    #: Its coupons are in the run's coupons.csv already (the preflight logs them as they arrive, judged later).
    coupons_logged: bool = False

    def entities(self) -> list[Any] | None:
        """The `response` list of a 200 answer that arrived whole with a JSON body; None for any other answer."""
        if self.status != 200 or self.error is not None:
            return None
        try:
            body = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None
        entities = body.get("response") if isinstance(body, dict) else None
        return entities if isinstance(entities, list) else None

    def excerpt(self, redactor: Redactor, width: int = 300) -> str:
        """The start of the body, redacted before it is cut (a secret cut in two would not be recognised)."""
        text = redacted_head(self.body, width, redactor)[:width]
        if len(self.body) > width:
            text += f"… ({len(self.body)} bytes)"
        return text


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A request as it went out, credentials included (never kept: `sample` is its redacted form)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | str | None
    #: When it left (time.time()).
    sent_at: float


#: Headers a reproducer does without: curl sets its own, and a fixed Content-Length breaks an edited body.
_NOISE = frozenset({"content-length", "user-agent", "accept-encoding", "connection", "accept",
                    "x-schemathesis-testcaseid"})


#: How far past a cut a secret (or an escaped form of one) may reach.
_SECRET_REACH = 4096
#: A request body longer than this is kept cut in a sample (a 10 MB probe does not go into every report).
SAMPLE_BODY_LIMIT = 8192


def redacted_head(body: bytes | str, width: int, redactor: Redactor) -> str:
    """The start of `body`, redacted, at least `width` characters long where the body is: only a start
    `_SECRET_REACH` past the cut is redacted (more while redaction shortened it that much), not all of 8 MB."""
    size = width + _SECRET_REACH
    while True:
        head = body[:size]
        text = redactor.text(head.decode("utf-8", "replace") if isinstance(head, bytes) else head)
        if len(head) == len(body) or len(text) >= width + _SECRET_REACH:
            return text
        size *= 2


def sample(method: str, url: str, headers: Any, body: bytes | str | None, redactor: Redactor) -> RequestSample:
    """The request as a report shows it: redacted first, then a long body cut (with its full size said)."""
    text = None
    if body is not None:
        text = redacted_head(body, SAMPLE_BODY_LIMIT, redactor)
        if len(body) > SAMPLE_BODY_LIMIT:
            unit = "bytes" if isinstance(body, bytes) else "characters"
            text = f"{text[:SAMPLE_BODY_LIMIT]}… (cut: {len(body)} {unit} in all)"
    kept = {name: value for name, value in headers.items()
            if name.lower() not in _NOISE and value is not None}
    return RequestSample(method, redactor.text(url), redactor.headers(kept), text)


def send(client: BoundedClient, method: str, url: str, *, headers: dict[str, str | None], body: bytes | None,
         redactor: Redactor, exact: bool = False) -> Exchange:
    """Send one request through `client` (transport.outbound: its origin, body cap and deadline). `exact`: the URL's
    path and query go out byte for byte (a route probe's variant)."""
    request = sample(method, url, headers, body, redactor)
    reply = client.send(method, url, headers=headers, body=body, exact=exact)
    return Exchange(request, method, reply.status, reply.headers, reply.body, reply.error, reply.detail)
