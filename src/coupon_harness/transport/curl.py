"""A reproducing curl command for a request, with credentials already redacted upstream."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coupon_harness.results import RequestSample

__all__ = ["to_curl"]


def to_curl(request: RequestSample) -> str:
    parts = ["curl", "-X", request.method]
    for name, value in request.headers:
        parts += ["-H", f"{name}: {value}"]
    if request.body is not None:
        parts += ["--data-raw", request.body]
    parts.append(request.url)
    return " ".join(shlex.quote(part) for part in parts)
