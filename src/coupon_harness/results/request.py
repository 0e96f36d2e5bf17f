"""A request as the harness sent it, credentials already redacted, and the curl command that replays it.

Its own module because both the runners (which record samples) and the results and reports (which keep
and show them) need it: the type and its rendering depend on nothing but the standard library.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

__all__ = ["RequestSample", "request_dict", "to_curl"]


@dataclass(frozen=True, slots=True)
class RequestSample:
    """A request as sent, credentials already redacted."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: str | None

    @property
    def curl(self) -> str:
        return to_curl(self)

    @classmethod
    def from_dict(cls, data: Any) -> RequestSample:
        """From `request_dict`'s form (or `dataclasses.asdict`'s); KeyError, TypeError or ValueError on
        anything else."""
        if not isinstance(data, dict):
            raise TypeError(f"a request sample is an object, not {type(data).__name__}")
        headers = tuple((str(name), str(value)) for name, value in data["headers"])
        body = data["body"]
        return cls(str(data["method"]), str(data["url"]), headers, None if body is None else str(body))


def request_dict(request: RequestSample) -> dict[str, Any]:
    """The sample as plain JSON-able data (what summary.json and the load recorders' deltas carry)."""
    return {"method": request.method, "url": request.url,
            "headers": [[name, value] for name, value in request.headers], "body": request.body}


def to_curl(request: RequestSample) -> str:
    """A reproducing curl command; it shows whatever the sample holds, so credentials are redacted upstream."""
    parts = ["curl", "-X", request.method]
    for name, value in request.headers:
        parts += ["-H", f"{name}: {value}"]
    if request.body is not None:
        parts += ["--data-raw", request.body]
    parts.append(request.url)
    return " ".join(shlex.quote(part) for part in parts)
