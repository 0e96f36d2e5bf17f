"""Correct servers that differ from the sandbox in what RFC 9110 leaves to a server (issue 16, item 5): each
must pass a default contract run with no finding, under every seed.

- `cors-gateway`: a CORS-enabled gateway in front: OPTIONS answered 204 with `Allow: OPTIONS, POST` and
  `Access-Control-Allow-Methods`, CORS headers on every answer.
- `compressing-proxy-{gzip,deflate,br}`: every answer compressed with the coding the request accepts (that
  one preferred), sent in chunks (Transfer-Encoding: chunked, no Content-Length).
- `http10-close`: an HTTP/1.0 proxy: each answer `HTTP/1.0` with `Connection: close`, the connection closed.
- `java-error-pages`: Tomcat's HTML error pages on every 4xx (`HTTP Status 400 - Bad Request`, an en dash).
- `several-methods`: 405 with `Allow: OPTIONS, POST, HEAD`, OPTIONS answered 200 with `Allow: POST,OPTIONS`.
- `charset-parameters`: `application/json;charset=UTF-8` on every answer (Spring's form).

Each is the default sandbox behind one layer (hooks, a middleware, or a raw proxy): `Legit.serving()` yields
its base URL; `answered` counts what the layer saw, so a test can show the difference was exercised.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import brotli
from aiohttp import web

from coupon_harness.sandbox.app import Answer, create_app
from coupon_harness.sandbox.config import default_config
from coupon_harness.sandbox.server import running_sandbox
from targets.serving import serving_app, serving_raw

__all__ = ["LEGIT", "Legit", "options_204"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Legit:
    """One legitimately different target: `serve(counts)` serves it and yields its base URL."""

    name: str
    serve: Callable[[Counter[str]], contextlib.AbstractContextManager[str]]
    #: What the difference must have been met by a default run (a key of `answered`).
    exercised: str
    answered: Counter[str] = field(default_factory=Counter)

    @contextlib.contextmanager
    def serving(self) -> Iterator[str]:
        self.answered.clear()
        with self.serve(self.answered) as url:
            yield url


# --- a CORS gateway ---------------------------------------------------------------------------------------

_CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Allow, WWW-Authenticate",
         "Vary": "Origin"}


def options_204(counts: Counter[str]) -> Callable[[web.Request], Awaitable[web.StreamResponse | None]]:
    """The gateway answers OPTIONS itself: 204, `Allow: OPTIONS, POST`, the CORS preflight headers."""
    async def before(request: web.Request) -> web.StreamResponse | None:
        if request.method != "OPTIONS":
            return None
        counts["OPTIONS"] += 1
        return web.Response(status=204, headers={
            "Allow": "OPTIONS, POST", "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type, X-CAP-API-OAUTH-TOKEN",
            "Access-Control-Max-Age": "600", **_CORS})
    return before


def _with_cors(answer: Answer) -> Answer:
    answer.headers.update(_CORS)
    return answer


def _cors_gateway(counts: Counter[str]) -> contextlib.AbstractContextManager[str]:
    return _sandbox_url(mutate=_with_cors, before=options_204(counts))


@contextlib.contextmanager
def _sandbox_url(**hooks: Any) -> Iterator[str]:
    with running_sandbox(default_config(), **hooks) as sandbox:
        yield sandbox.base_url


# --- a compressing proxy ----------------------------------------------------------------------------------

def _encode(data: bytes, coding: str) -> bytes:
    if coding == "gzip":
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        return compressor.compress(data) + compressor.flush()
    if coding == "deflate":
        return zlib.compress(data)  # HTTP's deflate is the zlib format (RFC 9110 §8.4.1.2)
    return bytes(brotli.compress(data))


def _compressing(prefer: str, counts: Counter[str]) -> Any:
    @web.middleware
    async def compress(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        offered = request.headers.get("Accept-Encoding", "")
        accepted = {part.split(";")[0].strip().lower() for part in offered.split(",")}
        body = response.body if isinstance(response, web.Response) else None
        if prefer not in accepted or not isinstance(body, bytes | bytearray):
            return response
        counts[prefer] += 1
        data = _encode(bytes(body), prefer)
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        streamed = web.StreamResponse(status=response.status, reason=response.reason,
                                      headers={**headers, "Content-Encoding": prefer, "Vary": "Accept-Encoding"})
        streamed.enable_chunked_encoding()
        await streamed.prepare(request)
        for start in range(0, len(data), 256):
            await streamed.write(data[start:start + 256])
        await streamed.write_eof()
        return streamed
    return compress


def _compressing_proxy(prefer: str) -> Callable[[Counter[str]], contextlib.AbstractContextManager[str]]:
    def serve(counts: Counter[str]) -> contextlib.AbstractContextManager[str]:
        app = create_app(default_config())
        app.middlewares.append(_compressing(prefer, counts))
        return serving_app(app)
    return serve


# --- an HTTP/1.0 proxy that closes every connection --------------------------------------------------------

async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return head, body


def _http10(upstream: str, counts: Counter[str]) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                                             Awaitable[None]]:
    host, port = upstream.removeprefix("http://").split(":")

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read_request(reader)
            if request is None:
                return
            head, body = request
            lines = [line for line in head.rstrip(b"\r\n").split(b"\r\n")
                     if not line.lower().startswith((b"connection:", b"keep-alive:"))]
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            up_writer.write(b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body)
            await up_writer.drain()
            answer = await up_reader.read()  # to EOF: the upstream closes after its answer
            up_writer.close()
            status, _, rest = answer.partition(b"\r\n")
            answer_head, _, answer_body = rest.partition(b"\r\n\r\n")
            kept = [line for line in answer_head.split(b"\r\n")
                    if not line.lower().startswith((b"connection:", b"keep-alive:", b"transfer-encoding:"))]
            counts["HTTP/1.0"] += 1
            writer.write(b"\r\n".join([status.replace(b"HTTP/1.1", b"HTTP/1.0", 1), *kept, b"Connection: close"])
                         + b"\r\n\r\n" + answer_body)
            await writer.drain()
        finally:
            writer.close()
    return proxy


@contextlib.contextmanager
def _http10_close(counts: Counter[str]) -> Iterator[str]:
    with running_sandbox(default_config()) as sandbox, serving_raw(_http10(sandbox.base_url, counts)) as url:
        yield url


# --- Java-style HTML error pages --------------------------------------------------------------------------

_DASH = "\N{EN DASH}"  # as Tomcat writes it
_REASONS = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
            413: "Payload Too Large", 415: "Unsupported Media Type"}


def _tomcat_page(status: int) -> bytes:
    reason = _REASONS.get(status, "Error")
    return (f'<!doctype html><html lang="en"><head><title>HTTP Status {status} {_DASH} {reason}</title>'
            '<style type="text/css">body {font-family:Tahoma,Arial,sans-serif;} h1 {color:white;'
            'background-color:#525D76;}</style></head><body>'
            f'<h1>HTTP Status {status} {_DASH} {reason}</h1><hr class="line" /><p><b>Type</b> Status Report</p>'
            '<p><b>Description</b> The server cannot or will not process the request due to something that is '
            'perceived to be a client error (e.g., malformed request syntax, invalid request message framing, or '
            'deceptive request routing).</p><hr class="line" /><h3>Apache Tomcat/9.0.83</h3></body></html>'
            ).encode()


def _java_error_pages(counts: Counter[str]) -> contextlib.AbstractContextManager[str]:
    def mutate(answer: Answer) -> Answer:
        if 400 <= answer.status < 500:
            counts["html"] += 1
            kept = {k: v for k, v in answer.headers.items() if k.lower() in ("allow", "www-authenticate")}
            return Answer(answer.status, _tomcat_page(answer.status), answer.request,
                          {"Content-Type": "text/html;charset=utf-8", "Content-Language": "en", **kept})
        return answer
    return _sandbox_url(mutate=mutate)


# --- several methods in Allow, OPTIONS answered 200 -------------------------------------------------------

def _several_methods(counts: Counter[str]) -> contextlib.AbstractContextManager[str]:
    async def before(request: web.Request) -> web.StreamResponse | None:
        if request.method != "OPTIONS":
            return None
        counts["OPTIONS"] += 1
        return web.Response(status=200, headers={"Allow": "POST,OPTIONS"})

    def mutate(answer: Answer) -> Answer:
        if answer.status == 405:
            counts["405"] += 1
            answer.headers["Allow"] = "OPTIONS, POST, HEAD"
        return answer
    return _sandbox_url(mutate=mutate, before=before)


# --- charset parameters -----------------------------------------------------------------------------------

def _charset_parameters(counts: Counter[str]) -> contextlib.AbstractContextManager[str]:
    def mutate(answer: Answer) -> Answer:
        counts["charset"] += 1
        answer.headers["Content-Type"] = "application/json;charset=UTF-8"
        return answer
    return _sandbox_url(mutate=mutate)


LEGIT: tuple[Legit, ...] = (
    Legit("cors-gateway", _cors_gateway, "OPTIONS"),
    Legit("compressing-proxy-gzip", _compressing_proxy("gzip"), "gzip"),
    Legit("compressing-proxy-deflate", _compressing_proxy("deflate"), "deflate"),
    Legit("compressing-proxy-br", _compressing_proxy("br"), "br"),
    Legit("http10-close", _http10_close, "HTTP/1.0"),
    Legit("java-error-pages", _java_error_pages, "html"),
    Legit("several-methods", _several_methods, "OPTIONS"),
    Legit("charset-parameters", _charset_parameters, "charset"),
)

