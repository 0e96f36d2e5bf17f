"""Hostile targets: answers that never end, answers dripped a byte a second, a decompression bomb, and setup
endpoints that redirect to another host. Raw asyncio handlers for `serving_raw`, like `garbage.py`.

Each bulk-issue target takes `good_first=N`: the first N bulk issues (counted over all connections) get a
canned valid 200 built from the request's seriesIds (fresh codes, attributes fixed per series), then every
later one gets the hostile answer. A preflight of a few well-formed requests then passes, and what follows
proves the load path itself. Connections are kept alive, as a real server keeps them.

`Recorder` is "the other host": it records every connection it accepts (and the request it read), and answers
what a redirected client would want to hear (a token, a sandbox's description with other series and
credentials, valid issues), so that a client that followed a redirect would go on with it, unnoticed, but for
the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import socket
import struct
import uuid
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from targets.serving import RawHandler, serving_raw

__all__ = ["HOSTILE_KINDS", "DiscoveryRedirect", "Hostile", "Recorder", "TokenRedirect", "bomb", "from_contract_client",
           "serving"]

ENDPOINT = "/v2/coupon/bulk/issue"
TOKEN_PATH = "/v3/oauth/token/generate"
INFO_PATH = "/sandbox/info"
#: The kinds of hostile answer to a bulk issue.
HOSTILE_KINDS = ("endless", "drip-body", "drip-headers", "gzip-bomb", "drop")
#: What the bomb decompresses to (its compressed size is ~1/1000 of this).
BOMB_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """One request off the connection (its Content-Length body included); None when the client went away."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, _, rest = lines[0].partition(" ")
    path = rest.rpartition(" ")[0].split("?", 1)[0]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    body = b""
    length = int(headers.get("content-length", "0") or 0)
    if length:
        try:
            body = await reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
    return Request(method, path, headers, body)


def head(status: int, headers: dict[str, str]) -> bytes:
    reason = {200: "OK", 302: "Found", 307: "Temporary Redirect", 404: "Not Found"}.get(status, "Whatever")
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def json_answer(status: int, body: object, extra: dict[str, str] | None = None) -> bytes:
    data = orjson.dumps(body)
    return head(status, {"Content-Type": "application/json", "Content-Length": str(len(data)), **(extra or {})}) + data


_ATTRIBUTES: dict[str, Any] = {"description": "Canned coupon", "discountCode": "CAN", "discountType": "ABS",
                               "discountValue": 100, "discountUpto": 0, "discountOn": "BILL",
                               "detailedInfo": "canned", "redemptionCount": 0, "id": 0}
_codes = itertools.count(1)
_RUN = uuid.uuid4().hex[:8].upper()


def valid_issue(request: Request) -> bytes:
    """A canned valid 200 for a bulk issue: one coupon per requested series, in order, each code fresh."""
    try:
        series = [int(s) for s in orjson.loads(request.body)["seriesIds"]]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return json_answer(400, {"response": [], "errors": [{"code": 400, "message": "bad request"}]})
    entities = [{"entityId": s, "result": {**_ATTRIBUTES, "code": f"H{_RUN}{next(_codes)}", "seriesId": s,
                                           "validTill": "2099-12-31T00:00:00Z"},
                 "errors": [], "warnings": []} for s in series]
    return json_answer(200, {"response": entities, "totalCount": len(entities), "failureCount": 0})


@functools.cache
def bomb() -> bytes:
    """A gzip stream of BOMB_BYTES (a JSON start, then spaces): ~0.5 MB on the wire; made once (about 1.5 s)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(b'{"response": [')]
    space = b" " * (1 << 20)
    parts += [packer.compress(space) for _ in range(BOMB_BYTES >> 20)]
    parts.append(packer.flush())
    return b"".join(parts)


Route = Callable[[Request, asyncio.StreamWriter], Awaitable[bool]]


def from_contract_client(request: Request) -> bool:
    """A bulk issue of the harness's contract client (its made-up customers are `ch-...`; a load user's are `lh-...`):
    what a preflight before a load sends. With `Hostile(good_when=from_contract_client)` the preflight passes and
    the load itself gets no good answer, whether a preflight ran or not."""
    try:
        customer = orjson.loads(request.body)["customer"]["id"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return False
    return isinstance(customer, str) and customer.startswith("ch-")


def _connection_handler(route: Route, on_connect: Callable[[], None] | None = None) -> RawHandler:
    """Serve requests on one connection until the client leaves or `route` says the connection is done."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if on_connect is not None:
            on_connect()
        try:
            while (request := await read_request(reader)) is not None:
                if not await route(request, writer):
                    break
                await writer.drain()
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass  # the client left (a deadline passed), or the test server is stopping
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
                await writer.wait_closed()

    return handle


@dataclass
class Hostile:
    """A bulk-issue target whose answers turn hostile after `good_first` good ones (see the module docstring).

    `kind`: "endless" (a chunked 200 that never ends, 64 KiB chunks as fast as the client reads), "drip-body"
    (the head at once with Content-Length 1 MB, then one byte every `interval` s), "drip-headers" (status line
    and headers one byte every `interval` s), "gzip-bomb" (a 200 whose gzip body decodes to 512 MiB), "drop" (no
    answer: the connection is reset)."""

    kind: str
    good_first: int = 0
    interval: float = 1.0
    #: Hostile on every path (the token endpoint, the sandbox discovery), not on the bulk issue alone.
    every_path: bool = False
    #: Bulk issues this says yes to are answered well, whatever their number (e.g. `from_contract_client`).
    good_when: Callable[[Request], bool] | None = None
    issues: int = 0
    hostile_answers: int = 0
    connections: int = 0

    def __post_init__(self) -> None:
        if self.kind not in HOSTILE_KINDS:
            raise ValueError(f"unknown hostile kind {self.kind!r}; known: {HOSTILE_KINDS}")
        if self.kind == "gzip-bomb":
            bomb()  # made before serving, not in the event loop's first answer

    def _connected(self) -> None:
        self.connections += 1

    async def route(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.path != ENDPOINT and not self.every_path:
            writer.write(json_answer(404, {"message": "not found"}))
            return True
        self.issues += 1
        if self.issues <= self.good_first or (self.good_when is not None and self.good_when(request)):
            writer.write(valid_issue(request))
            return True
        self.hostile_answers += 1
        await getattr(self, "_" + self.kind.replace("-", "_"))(writer)
        return self.kind == "gzip-bomb"  # a bomb is a complete answer: the connection stays open

    async def _endless(self, writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
        chunk = b'{"response": [' + b" " * (65536 - 14)
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        while True:
            writer.write(framed)
            await writer.drain()

    async def _drip_body(self, writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, {"Content-Type": "application/json", "Content-Length": str(1024 * 1024)}))
        await writer.drain()
        writer.write(b"{")
        while True:
            await writer.drain()
            await asyncio.sleep(self.interval)
            writer.write(b" ")

    async def _drip_headers(self, writer: asyncio.StreamWriter) -> None:
        answer = head(200, {"Content-Type": "application/json", "Content-Length": "2",
                            "X-Padding": "a header long enough to drip for a minute and more at a byte a second"})
        for byte in answer + b"{}":
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(self.interval)

    async def _gzip_bomb(self, writer: asyncio.StreamWriter) -> None:
        data = bomb()
        writer.write(head(200, {"Content-Type": "application/json", "Content-Encoding": "gzip",
                                "Content-Length": str(len(data))}) + data)

    async def _drop(self, writer: asyncio.StreamWriter) -> None:
        sock = writer.transport.get_extra_info("socket")
        if sock is not None:  # an RST rather than a FIN: the hardest way to lose a connection
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    @property
    def handler(self) -> RawHandler:
        return _connection_handler(self.route, self._connected)


@dataclass
class Recorder:
    """The other host: every connection it accepts is recorded, with the request it read; it answers as a
    redirected client would hope (a token, a sandbox description naming other series and credentials, valid
    issues)."""

    connections: int = 0
    requests: list[Request] = field(default_factory=list)

    def _connected(self) -> None:
        self.connections += 1

    async def route(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        self.requests.append(request)
        if request.path == TOKEN_PATH:
            writer.write(json_answer(200, {"data": {"accessToken": "token-from-the-other-host", "ttlSeconds": 300}}))
        elif request.path == INFO_PATH:
            writer.write(json_answer(200, {"sandbox": "coupon-harness", "validSeries": [4242, 4343],
                                           "invalidSeries": [9090], "genericSeries": [],
                                           "defaultUser": "other-host-user", "defaultPassword": "other-host-pass"}))
        elif request.path == ENDPOINT:
            writer.write(valid_issue(request))
        else:
            writer.write(json_answer(404, {"message": "not found"}))
        return True

    @property
    def handler(self) -> RawHandler:
        return _connection_handler(self.route, self._connected)


@dataclass
class TokenRedirect:
    """A target whose OAuth token endpoint answers 307 to `elsewhere` (the same path there); its bulk issues are
    valid (so a client that followed, and used the other host's token, would run on as if nothing happened)."""

    elsewhere: str
    status: int = 307
    token_requests: int = 0

    async def route(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.path == TOKEN_PATH:
            self.token_requests += 1
            writer.write(head(self.status, {"Location": self.elsewhere.rstrip("/") + TOKEN_PATH,
                                            "Content-Length": "0"}))
        elif request.path == ENDPOINT:
            writer.write(valid_issue(request))
        else:
            writer.write(json_answer(404, {"message": "not found"}))
        return True

    @property
    def handler(self) -> RawHandler:
        return _connection_handler(self.route)


@dataclass
class DiscoveryRedirect:
    """A target whose `GET /sandbox/info` answers 302 to `elsewhere` (which would hand out other series and
    credentials); its bulk issues are valid."""

    elsewhere: str
    status: int = 302
    info_requests: int = 0

    async def route(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.path == INFO_PATH:
            self.info_requests += 1
            writer.write(head(self.status, {"Location": self.elsewhere.rstrip("/") + INFO_PATH,
                                            "Content-Length": "0"}))
        elif request.path == ENDPOINT:
            writer.write(valid_issue(request))
        else:
            writer.write(json_answer(404, {"message": "not found"}))
        return True

    @property
    def handler(self) -> RawHandler:
        return _connection_handler(self.route)


@contextlib.contextmanager
def serving(target: Hostile | Recorder | TokenRedirect | DiscoveryRedirect) -> Iterator[str]:
    """Serve one of the above on 127.0.0.1; yields its base URL."""
    with serving_raw(target.handler) as url:
        yield url
