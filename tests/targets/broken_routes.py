"""Authentication bypasses through routing: the sandbox behind a gateway whose auth filter guards one exact
route while its router maps more to the endpoint (issue 16, item 3).

Each target is the default sandbox with one middleware in front: the filter lets the exact endpoint through
to the sandbox (which authenticates, as the filter would), and a request it does not recognise but the router
maps to the endpoint reaches the handler as the gateway's trusted backend sees it, with credentials the
gateway vouches for, so the bulk issue succeeds without any. The routes pass must fail each one under every
seed, naming the class (`routes:<class>`) of the route that got through.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from coupon_harness import ENDPOINT
from coupon_harness.sandbox.app import create_app
from coupon_harness.sandbox.auth import AUTHORIZATION, TOKEN_HEADER
from coupon_harness.sandbox.config import default_config

__all__ = ["BROKEN_ROUTES", "BrokenRoute"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: What the gateway's backend is handed for a request the gateway let through (the sandbox's demo user).
_TRUSTED = "Basic " + base64.b64encode(b"sandbox:sandbox").decode()


@dataclass(frozen=True, slots=True)
class BrokenRoute:
    """A gateway with one routing flaw: `route(method, raw target, headers)` is the method and path its router
    sends to the backend, unauthenticated (None: the request goes on as it came, to the sandbox's own
    routes and auth). `probe` is the class the routes pass must name."""

    name: str
    probe: str
    route: Callable[[str, str, dict[str, str]], tuple[str, str] | None]

    def app(self) -> web.Application:
        app = create_app(default_config())
        app.middlewares.append(_gateway(self.route))
        return app


def _gateway(route: Callable[[str, str, dict[str, str]], tuple[str, str] | None]) -> Any:
    @web.middleware
    async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
        routed = route(request.method, request.raw_path, {k.lower(): v for k, v in request.headers.items()})
        if routed is None:
            return await handler(request)
        method, path = routed
        headers = {k: v for k, v in request.headers.items() if k.lower() not in (AUTHORIZATION.lower(),
                                                                                 TOKEN_HEADER.lower())}
        trusted = request.clone(method=method, rel_url=path, headers={**headers, AUTHORIZATION: _TRUSTED})
        match = await request.app.router.resolve(trusted)
        answer: web.StreamResponse = await match.handler(trusted)
        return answer

    return gateway


def _path(target: str) -> str:
    return target.split("?", 1)[0]


def _normalising(normalise: Callable[[str], str]) -> Callable[[str, str, dict[str, str]], tuple[str, str] | None]:
    """A filter on the exact path before a router that maps `normalise(path)` to the endpoint."""
    def route(method: str, target: str, headers: dict[str, str]) -> tuple[str, str] | None:
        path = _path(target)
        if path == ENDPOINT or normalise(path) != ENDPOINT:
            return None
        return method, ENDPOINT
    return route


def _without_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, as routers that resolve paths do."""
    out: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    return "/" + "/".join(out)


def _filter_on_target(method: str, target: str, headers: dict[str, str]) -> tuple[str, str] | None:
    """The filter compares the whole request target (query included) with the endpoint; the router the path."""
    if target != ENDPOINT and _path(target) == ENDPOINT:
        return method, ENDPOINT
    return None


def _honours(header: str) -> Callable[[str, str, dict[str, str]], tuple[str, str] | None]:
    """The filter guards POST by the request line; the router dispatches the method `header` names."""
    def route(method: str, target: str, headers: dict[str, str]) -> tuple[str, str] | None:
        named = headers.get(header.lower(), "").upper()
        if _path(target) == ENDPOINT and method != "POST" and named == "POST":
            return "POST", ENDPOINT
        return None
    return route


def _override_skips_auth(method: str, target: str, headers: dict[str, str]) -> tuple[str, str] | None:
    """A request that tunnels a method is taken as authenticated upstream; the router keeps the request line."""
    if _path(target) == ENDPOINT and "x-http-method-override" in headers:
        return method, ENDPOINT
    return None


def _presence_only(method: str, target: str, headers: dict[str, str]) -> tuple[str, str] | None:
    """Routes other than the exact one are guarded by a filter that only asks for an Authorization header."""
    path = _path(target)
    if path != ENDPOINT and path.rstrip("/").lower() == ENDPOINT and AUTHORIZATION.lower() in headers:
        return method, ENDPOINT
    return None


BROKEN_ROUTES: tuple[BrokenRoute, ...] = (
    BrokenRoute("strips-trailing-slash", "routes:trailing-slash",
                _normalising(lambda p: p[:-1] if p.endswith("/") else p)),
    BrokenRoute("presence-only-filter-off-the-exact-route", "routes:trailing-slash", _presence_only),
    BrokenRoute("merges-slashes", "routes:double-slash", _normalising(lambda p: re.sub("/{2,}", "/", p))),
    BrokenRoute("case-insensitive-router", "routes:case", _normalising(str.lower)),
    BrokenRoute("decodes-escapes", "routes:percent-encoding", _normalising(unquote)),
    BrokenRoute("decodes-then-resolves", "routes:percent-encoding",
                _normalising(lambda p: _without_dot_segments(unquote(p)) if "%" in p else p)),
    BrokenRoute("resolves-dot-segments", "routes:dot-segment", _normalising(_without_dot_segments)),
    BrokenRoute("strips-matrix-parameters", "routes:matrix-parameter",
                _normalising(lambda p: re.sub(r";[^/]*", "", p))),
    BrokenRoute("filter-on-whole-target", "routes:query-string", _filter_on_target),
    BrokenRoute("suffix-pattern-match", "routes:suffix", _normalising(lambda p: re.sub(r"\.[a-z]+$", "", p))),
    BrokenRoute("honours-x-http-method-override", "routes:method-override", _honours("X-HTTP-Method-Override")),
    BrokenRoute("honours-x-method-override", "routes:method-override", _honours("X-Method-Override")),
    BrokenRoute("honours-x-http-method", "routes:method-override", _honours("X-HTTP-Method")),
    BrokenRoute("override-skips-auth", "routes:method-override", _override_skips_auth),
)
