"""A request as the harness sent it, credentials already redacted, and the curl command that replays it.

Its own module because both the runners (which record samples) and the results and reports (which keep
and show them) need it: the type and its rendering depend on nothing but the standard library.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

__all__ = ["RequestSample", "to_curl"]


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


def to_curl(request: RequestSample) -> str:
    """A reproducing curl command; it shows whatever the sample holds, so credentials are redacted upstream."""
    parts = ["curl", "-X", request.method]
    for name, value in request.headers:
        parts += ["-H", f"{name}: {value}"]
    if request.body is not None:
        parts += ["--data-raw", request.body]
    parts.append(request.url)
    return " ".join(shlex.quote(part) for part in parts)
