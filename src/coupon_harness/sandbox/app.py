"""The aiohttp application: POST /v2/coupon/bulk/issue, 405 for other methods, OAuth tokens, GET /sandbox/info.

Without hooks or faults, plain handlers turn (status, body) straight into a response; with `mutate`, `before`
or an active fault, one hooked handler builds an `Answer`, lets the hooks at it, then sends it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from coupon_harness import ENDPOINT
from coupon_harness.contract.schemas import request_validator, schema_errors
from coupon_harness.sandbox.auth import AUTHORIZATION, TOKEN_HEADER, Authenticator
from coupon_harness.sandbox.config import SandboxConfig, default_config
from coupon_harness.sandbox.faults import FaultInjector
from coupon_harness.sandbox.info import INFO_PATH, sandbox_info
from coupon_harness.sandbox.issuer import Issuer

__all__ = ["FAULTS_KEY", "ISSUER_KEY", "JSON", "TOKEN_PATH", "Answer", "Before", "Mutate", "create_app",
           "error_envelope"]

TOKEN_PATH = "/v3/oauth/token/generate"
JSON = "application/json"
#: Capillary's code for a malformed or incomplete request.
MANDATORY_FIELD_MISSING = 756

ISSUER_KEY = web.AppKey("coupon_harness.sandbox.issuer", Issuer)
#: The fault injector of a sandbox with an active fault (its counts of requests held: `FaultInjector.peak_held`).
FAULTS_KEY = web.AppKey("coupon_harness.sandbox.faults", FaultInjector)


@dataclass(slots=True)
class Answer:
    """A bulk-issue answer before it is sent, as `mutate` sees it: `body` a JSON value or bytes (sent as they
    are); `request_json` the parsed request body, or None."""

    status: int
    body: Any
    request: web.Request
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": JSON})
    request_json: Any = None


Mutate = Callable[[Answer], Answer]
Before = Callable[[web.Request], Awaitable[web.StreamResponse | None]]


def error_envelope(code: int, message: str) -> dict[str, Any]:
    return {"errors": [{"status": False, "code": code, "message": message}], "warnings": []}


def _token_error(code: int, message: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"status": False, "code": code, "message": message}]}


def _respond(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type=JSON, headers=headers)


_ALLOW = {"Allow": "POST"}
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="coupon-harness sandbox"'}


class _BulkIssue:
    """The handlers of the bulk-issue path, bound to one sandbox's state."""

    def __init__(self, issuer: Issuer, auth: Authenticator, faults: FaultInjector | None,
                 mutate: Mutate | None, before: Before | None, max_batch: int) -> None:
        self._issue = issuer.issue
        self._identify = auth.identify
        self._is_valid = request_validator().is_valid
        self._faults = faults
        self._mutate = mutate
        self._before = before
        self._max_batch = max_batch

    @property
    def hooked(self) -> bool:
        return self._faults is not None or self._mutate is not None or self._before is not None

    async def _answer_post(self, request: web.Request) -> tuple[int, Any, Any]:
        """(status, body, parsed request body or None) for a POST."""
        if self._identify(request.headers) is None:
            return 401, _unauthorized(request), None
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return 400, error_envelope(MANDATORY_FIELD_MISSING, "Request body is too large"), None
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            message = f"Request body is not valid JSON: {exc}"
            return 400, error_envelope(MANDATORY_FIELD_MISSING, message), None
        # Before the schema: a huge batch is refused without walking it (one would stall every client).
        series = body.get("seriesIds") if isinstance(body, dict) else None
        if isinstance(series, list) and len(series) > self._max_batch:
            message = f"seriesIds has {len(series)} entries; at most {self._max_batch} per request"
            return 400, error_envelope(MANDATORY_FIELD_MISSING, message), body
        if not self._is_valid(body):
            return 400, error_envelope(MANDATORY_FIELD_MISSING, _schema_message(body)), body
        # The schema counts 101.0 as an integer: answer it as 101.
        series_ids = [int(series_id) for series_id in body["seriesIds"]]
        entities, failures = self._issue(series_ids, body["customer"]["id"])
        return 200, {"response": entities, "totalCount": len(entities), "failureCount": failures}, body

    async def post(self, request: web.Request) -> web.Response:
        status, body, _ = await self._answer_post(request)
        return _respond(status, body, _CHALLENGE if status == 401 else None)

    async def other(self, request: web.Request) -> web.Response:
        return _respond(405, _not_allowed(request), _ALLOW)

    async def any_method(self, request: web.Request) -> web.StreamResponse:
        """The hooked handler: before-hook, faults, the answer, mutate."""
        if self._before is not None and (early := await self._before(request)) is not None:
            return early
        if request.method != "POST":
            answer = Answer(405, _not_allowed(request), request)
            answer.headers.update(_ALLOW)
        else:
            answer = await self._post_with_faults(request)
            if answer.status == 401:
                answer.headers.update(_CHALLENGE)
        if self._mutate is not None:
            answer = self._mutate(answer)
        body = answer.body if isinstance(answer.body, bytes) else orjson.dumps(answer.body)
        return web.Response(status=answer.status, body=body, headers=answer.headers)

    async def _post_with_faults(self, request: web.Request) -> Answer:
        faults = self._faults
        if faults is None:
            status, body, parsed = await self._answer_post(request)
            return Answer(status, body, request, request_json=parsed)
        async with faults.serving():  # a service capacity: served `concurrency` at a time, the rest queue
            delay = faults.delay_s()
            if delay > 0:
                await asyncio.sleep(delay)
            failure = faults.error_status()
            if failure is not None and not faults.error_after_issue:
                return Answer(failure, error_envelope(failure, "Injected fault"), request)
            status, body, parsed = await self._answer_post(request)
            if failure is not None:
                status, body = failure, error_envelope(failure, "Injected fault")
            return Answer(status, body, request, request_json=parsed)


def _unauthorized(request: web.Request) -> dict[str, Any]:
    headers = request.headers
    if AUTHORIZATION in headers or TOKEN_HEADER in headers:
        return error_envelope(401, "Invalid credentials: unknown user, wrong password or expired token")
    return error_envelope(401, "Missing credentials: send Authorization: Basic, or X-CAP-API-OAUTH-TOKEN")


def _not_allowed(request: web.Request) -> dict[str, Any]:
    return error_envelope(405, f"Method {request.method} is not allowed on {request.path}; use POST")


def _schema_message(body: Any) -> str:
    errors = schema_errors("request", body, limit=1)
    where = f"{errors[0].pointer}: " if errors and errors[0].pointer != "/" else ""
    return f"Invalid request: {where}{errors[0].message}" if errors else "Invalid request"


class _Tokens:
    def __init__(self, auth: Authenticator) -> None:
        self._auth = auth
        ttl = auth.token_ttl_s
        self._ttl: float | int = int(ttl) if ttl == int(ttl) else ttl

    async def generate(self, request: web.Request) -> web.Response:
        try:
            body = orjson.loads(await request.read())
        except (orjson.JSONDecodeError, web.HTTPRequestEntityTooLarge):
            return _respond(400, _token_error(400, "Request body is not valid JSON"))
        key, secret = (body.get("key"), body.get("secret")) if isinstance(body, dict) else (None, None)
        if not isinstance(key, str) or not isinstance(secret, str):
            return _respond(400, _token_error(400, 'Send {"key": "...", "secret": "..."}'))
        token = self._auth.issue_token(key, secret)
        if token is None:
            return _respond(401, _token_error(401, "Invalid key or secret"))
        return _respond(200, {"data": {"accessToken": token, "ttlSeconds": self._ttl}, "errors": None})

    async def other(self, request: web.Request) -> web.Response:
        return _respond(405, _token_error(405, f"Method {request.method} is not allowed; use POST"), _ALLOW)


def create_app(config: SandboxConfig | None = None, *, mutate: Mutate | None = None,
               before: Before | None = None) -> web.Application:
    """A sandbox application with its own fresh state; `mutate`, `before`: the package docstring's hooks."""
    config = config if config is not None else default_config()
    rng = random.Random(config.seed)
    issuer = Issuer(config, rng)
    auth = Authenticator(config.users, config.oauth_clients, config.token_ttl_s)
    faults = FaultInjector(config.faults, random.Random(rng.random())) if config.faults.active else None
    bulk = _BulkIssue(issuer, auth, faults, mutate, before, config.max_batch)
    tokens = _Tokens(auth)

    app = web.Application()
    app[ISSUER_KEY] = issuer
    if faults is not None:
        app[FAULTS_KEY] = faults
    if bulk.hooked:
        app.router.add_route("*", ENDPOINT, bulk.any_method)
    else:
        app.router.add_post(ENDPOINT, bulk.post)
        app.router.add_route("*", ENDPOINT, bulk.other)
    app.router.add_post(TOKEN_PATH, tokens.generate)
    app.router.add_route("*", TOKEN_PATH, tokens.other)

    async def info(request: web.Request) -> web.Response:
        return _respond(200, sandbox_info(config))

    app.router.add_get(INFO_PATH, info)
    return app
