"""Raw targets that answer garbage at the HTTP level: each a connection handler for `serving_raw`.

Every handler reads the request (headers and Content-Length body), then answers badly: wrong media, a
truncated or empty body, wrong types at some depth, a huge body, no answer in time, a dropped
connection, a lying Content-Length, bytes that are not HTTP at all.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson

from targets.serving import RawHandler

__all__ = ["GARBAGE", "Garbage"]

Writer = Callable[[asyncio.StreamWriter], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Garbage:
    name: str
    #: Rules the report may name for it (at least one must be FAILED).
    rules: frozenset[str]
    handler: RawHandler
    #: The passes that run against it (all by default).
    passes: tuple[str, ...] = ("property-positive", "property-negative", "scenarios", "auth", "malformed")


async def _read_request(reader: asyncio.StreamReader) -> bool:
    """Consume one request; False when the client went away."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return False
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            with contextlib.suppress(ValueError):
                length = int(value.strip())
    if length:
        try:
            await reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return False
    return True


def _handler(write: Writer) -> RawHandler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if await _read_request(reader):
                await write(writer)
                await writer.drain()
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass  # the client left, or the test server is stopping
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
                await writer.wait_closed()

    return handle


def _http(status: int, body: bytes, content_type: str | None = "application/json",
          length: int | None = None) -> bytes:
    reason = {200: "OK", 400: "Bad Request"}.get(status, "Whatever")
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body) if length is None else length}",
             "Connection: close"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def answer(status: int, body: bytes, content_type: str | None = "application/json") -> RawHandler:
    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(_http(status, body, content_type))

    return _handler(write)


def json_answer(body: object) -> RawHandler:
    return answer(200, orjson.dumps(body))


def huge(size: int) -> RawHandler:
    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(_http(200, b"", length=size))
        chunk = b'{"response": [' + b" " * (1024 * 1024 - 14)
        sent = 0
        while sent < size:
            part = chunk[: size - sent]
            writer.write(part)
            await writer.drain()
            sent += len(part)

    return _handler(write)


def hang(seconds: float) -> RawHandler:
    async def write(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(seconds)

    return _handler(write)


def trickle(seconds: float, body: bytes = b'{"response": [], "totalCount": 0, "failureCount": 0}') -> RawHandler:
    """Headers at once, then one byte of body every `seconds`: the answer is not complete in time."""
    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(_http(200, b"", length=len(body)))
        for byte in body:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(seconds)

    return _handler(write)


def endless_trickle(seconds: float, give_up_after: float) -> RawHandler:
    """Content-Length 1 MB, then one byte every `seconds`; the connection closes after `give_up_after` s."""
    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(_http(200, b"", length=1024 * 1024))
        deadline = asyncio.get_running_loop().time() + give_up_after
        while asyncio.get_running_loop().time() < deadline:
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(seconds)

    return _handler(write)


def drop() -> RawHandler:
    async def write(writer: asyncio.StreamWriter) -> None:
        transport = writer.transport
        with contextlib.suppress(OSError):
            # An RST rather than a FIN: the hardest way to lose a connection.
            sock = transport.get_extra_info("socket")
            if sock is not None:
                import socket
                import struct

                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()

    return _handler(write)


def short_body() -> RawHandler:
    """Content-Length promises 1000 bytes; 20 arrive, then the connection closes."""
    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(_http(200, b'{"response": [], "to', length=1000))

    return _handler(write)


def not_http() -> RawHandler:
    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n")

    return _handler(write)


VALID_RESULT: dict[str, object] = {"code": "X", "seriesId": 101, "description": "", "discountCode": "",
                "validTill": "2099-01-01T00:00:00Z", "discountType": "ABS", "discountValue": 1, "discountUpto": 0,
                "discountOn": "BILL",
                "detailedInfo": "", "redemptionCount": 0, "id": 0}

TRANSPORT = frozenset({"transport"})
CONTENT = frozenset({"json-content-type"})
SCHEMA = frozenset({"response-schema", "errors-warnings-arrays", "total-count", "entity-order", "entity-shape"})

GARBAGE: tuple[Garbage, ...] = (
    Garbage("html-page-200", CONTENT, answer(200, b"<!doctype html><html><body>Welcome</body></html>",
                                             "text/html")),
    Garbage("html-labelled-json", CONTENT, answer(200, b"<html><body>Oops</body></html>")),
    Garbage("truncated-json", CONTENT, answer(200, b'{"response": [{"entityId": 101, "result": {"co')),
    Garbage("empty-200", CONTENT, answer(200, b"")),
    Garbage("no-content-type", CONTENT, answer(200, b'{"response": []}', None)),
    Garbage("json-null", SCHEMA, json_answer(None)),
    Garbage("json-array", SCHEMA, json_answer([1, 2, 3])),
    Garbage("response-as-string", SCHEMA, json_answer({"response": "ok", "totalCount": 1, "failureCount": 0})),
    Garbage("entities-as-numbers", SCHEMA, json_answer({"response": [101, 102], "totalCount": 2,
                                                        "failureCount": 0})),
    Garbage("result-as-list", SCHEMA, json_answer({"response": [{"entityId": 101, "result": [1, "x"],
                                                                 "errors": [], "warnings": []}],
                                                   "totalCount": 1, "failureCount": 0})),
    Garbage("deep-wrong-types", SCHEMA, json_answer({
        "response": [{"entityId": "101", "result": VALID_RESULT | {"validTill": 20990101, "redemptionCount": "0",
                                                    "discountOn": None},
                      "errors": ["boom", {"code": "x"}], "warnings": {"a": 1}}],
        "totalCount": "1", "failureCount": [0]})),
    Garbage("huge-body", TRANSPORT, huge(20 * 1024 * 1024)),
    Garbage("hangs", TRANSPORT, hang(30)),
    # Not the property passes: they do not bound a trickling answer (see test_trickle_in_property_pass).
    Garbage("trickles", TRANSPORT, trickle(0.1, b'{"response": []}'), passes=("scenarios", "auth", "malformed")),
    Garbage("drops-connection", TRANSPORT, drop()),
    Garbage("short-body", TRANSPORT, short_body()),
    Garbage("not-http", TRANSPORT, not_http()),
)
