"""One request and what came back, with transport failures and oversized bodies captured as data."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

from coupon_harness.results.contract import RequestSample
from coupon_harness.transport.auth import Redactor

__all__ = ["REFUSED", "UNRESOLVED", "Exchange", "redacted_head", "send"]

#: Transport failures that mean nothing is listening there (a harness error), not a misbehaving server.
REFUSED = "Connection refused"
UNRESOLVED = "host name not found"


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

    def excerpt(self, redactor: Redactor, width: int = 300) -> str:
        """The start of the body, redacted before it is cut (a secret cut in two would not be recognised)."""
        text = redacted_head(self.body, width, redactor)[:width]
        if len(self.body) > width:
            text += f"… ({len(self.body)} bytes)"
        return text


#: Headers a reproducer does without: curl sets its own, and a fixed Content-Length breaks an edited body.
_NOISE = frozenset({"content-length", "user-agent", "accept-encoding", "connection", "accept",
                    "x-schemathesis-testcaseid"})


#: How far past a cut a secret (or an escaped form of one) may reach.
_SECRET_REACH = 4096
#: A request body longer than this is kept cut in a sample (a 10 MB probe does not go into every report).
SAMPLE_BODY_LIMIT = 8192


def redacted_head(body: bytes | str, width: int, redactor: Redactor) -> str:
    """The start of `body`, redacted, at least `width` characters long where the body is. Only as much as
    needed is redacted (not all of 8 MB): a start `_SECRET_REACH` past the cut, more while redaction shortened
    it so much that a secret straddling its end could show within `width`."""
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
        size = f"{len(body)} {'bytes' if isinstance(body, bytes) else 'characters'}"
        long = len(body) > SAMPLE_BODY_LIMIT
        text = redacted_head(body, SAMPLE_BODY_LIMIT, redactor)
        if long:
            text = f"{text[:SAMPLE_BODY_LIMIT]}… (cut: {size} in all)"
    kept = {name: value for name, value in headers.items()
            if name.lower() not in _NOISE and value is not None}
    return RequestSample(method, redactor.text(url), redactor.headers(kept), text)


def send(session: requests.Session, method: str, url: str, *, headers: dict[str, str | None], body: bytes | None,
         timeout: float, max_bytes: int, redactor: Redactor) -> Exchange:
    """Send one request; read at most `max_bytes` of the answer and give up after `timeout` in total."""
    request = sample(method, url, headers, body, redactor)
    deadline = time.monotonic() + timeout
    try:
        with session.request(method, url, headers=headers, data=body, timeout=timeout, stream=True,
                             allow_redirects=False) as answer:
            chunks: list[bytes] = []
            size = 0
            # read1 returns whatever has arrived, so the deadline is checked even when a body trickles in
            # a byte at a time (iter_content would wait for a whole chunk, one socket timeout per read).
            while chunk := answer.raw.read1(65536, decode_content=True):
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    return Exchange(request, method, answer.status_code, _lower(answer.headers), b"".join(chunks),
                                    "too-large", f"body larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    return Exchange(request, method, answer.status_code, _lower(answer.headers), b"".join(chunks),
                                    "timeout", f"body not complete after {timeout:g} s")
            return Exchange(request, method, answer.status_code, _lower(answer.headers), b"".join(chunks))
    except (requests.Timeout, TimeoutError):
        return Exchange(request, method, None, {}, b"", "timeout", f"no answer within {timeout:g} s")
    except requests.exceptions.ChunkedEncodingError as exc:
        return Exchange(request, method, None, {}, b"", "connection", f"truncated answer: {_reason(exc)}")
    except requests.RequestException as exc:
        return Exchange(request, method, None, {}, b"", "connection", _reason(exc))
    except (urllib3.exceptions.HTTPError, OSError) as exc:  # raised by read1 while the body streams in
        return Exchange(request, method, None, {}, b"", "connection", f"answer cut short: {_reason(exc)}")


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "NameResolutionError" in text or "Failed to resolve" in text or "Name or service not known" in text:
        return UNRESOLVED
    for marker in (REFUSED, "Connection reset", "RemoteDisconnected", "IncompleteRead",
                   "Connection aborted", "Read timed out"):
        if marker in text:
            return marker
    return type(exc).__name__
