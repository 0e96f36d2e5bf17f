"""Broken targets of the two classes the sandbox's mutants showed no probe tried (issue 16, item 6).

- Valid Basic credentials refused when the scheme is written `basic` (RFC 9110 §11.1: an authentication
  scheme is case-insensitive): the auth pass's lower-case probe, judged as a well-formed issue.
- A batch just past a common cap (1001 seriesIds) answered with a status no resource limit explains: the
  classics' 1001-element probe (200, 400 or 413 allowed).
- A coupon dead on arrival: validTill at or before the answer's own Date header (a validity of 0 s, or one
  read as seconds), inside the clock-skew allowance the harness's own clock needs: valid-till-future.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone

import orjson
from aiohttp import web

from coupon_harness.sandbox.app import Answer, Mutate
from targets.broken import Broken

__all__ = ["BROKEN_MUTATION"]

_LOWER_CASE = "valid credentials, scheme in lower case"
_PAST_CAP = "array size: 1001 elements in seriesIds"


def _on_lower_case_scheme(status: int) -> Callable[[web.Request], Awaitable[web.StreamResponse | None]]:
    async def before(request: web.Request) -> web.StreamResponse | None:
        if request.headers.get("Authorization", "").startswith("basic "):
            return web.json_response({"errors": [{"code": status, "message": "unsupported scheme"}]}, status=status)
        return None

    return before


async def _scheme_compared_exactly(request: web.Request) -> web.StreamResponse | None:
    """A filter that splits on 'Basic ' literally: any other spelling reads as no credentials."""
    value = request.headers.get("Authorization", "")
    if value and not value.startswith("Basic "):
        return web.json_response({"errors": [{"code": 401, "message": "missing credentials"}]}, status=401,
                                 headers={"WWW-Authenticate": "Basic"})
    return None


def _past_the_cap(status: int) -> Callable[[web.Request], Awaitable[web.StreamResponse | None]]:
    async def before(request: web.Request) -> web.StreamResponse | None:
        try:
            body = orjson.loads(await request.read())  # aiohttp keeps the body: the handler reads it again
        except orjson.JSONDecodeError:
            return None
        series = body.get("seriesIds") if isinstance(body, dict) else None
        if isinstance(series, list) and len(series) > 1000:
            return web.json_response({"error": "batch too large"}, status=status)
        return None

    return before


def _dead_on_arrival(seconds_left: float, zone: timezone = UTC) -> Callable[[], Mutate]:
    """Every coupon's validTill `seconds_left` after the second of issue (0 or less: dead on arrival)."""

    def mutate(answer: Answer) -> Answer:
        if answer.status == 200 and isinstance(answer.body, dict):
            till = datetime.fromtimestamp(int(time.time()) + seconds_left, zone).isoformat(timespec="seconds")
            for entity in answer.body.get("response") or []:
                if isinstance(entity, dict) and isinstance(entity.get("result"), dict):
                    entity["result"]["validTill"] = till.replace("+00:00", "Z")
        return answer

    return lambda: mutate


_IST = timezone(timedelta(hours=5, minutes=30))

BROKEN_MUTATION: list[Broken] = [
    Broken("scheme-case-sensitive-401", "accepts-well-formed", ("auth",), before=_scheme_compared_exactly,
           probe=_LOWER_CASE),
    Broken("lower-case-scheme-400", "accepts-well-formed", ("auth",), before=_on_lower_case_scheme(400),
           probe=_LOWER_CASE),
    Broken("lower-case-scheme-403", "accepts-well-formed", ("auth",), before=_on_lower_case_scheme(403),
           probe=_LOWER_CASE),
    Broken("past-the-cap-500", "no-server-error", ("classics",), before=_past_the_cap(500), probe=_PAST_CAP),
    Broken("past-the-cap-401", "documented-status", ("classics",), before=_past_the_cap(401), probe=_PAST_CAP),
    Broken("past-the-cap-404", "documented-status", ("classics",), before=_past_the_cap(404), probe=_PAST_CAP),
    Broken("valid-for-0-s", "valid-till-future", ("classics",), make_mutate=_dead_on_arrival(0)),
    Broken("expired-a-minute-ago", "valid-till-future", ("classics",), make_mutate=_dead_on_arrival(-60)),
    Broken("valid-for-0-s-in-ist", "valid-till-future", ("classics",), make_mutate=_dead_on_arrival(0, _IST)),
]
