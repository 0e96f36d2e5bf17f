"""The outbound client sends a route variant byte for byte (`exact`), still to its own origin only; it reads
what RFC 9110 lets a server send: gzip, deflate and br (decoded within the body cap), chunked bodies, HTTP/1.0
with Connection: close, and a HEAD answer whose Content-Length announces a body it never sends."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable, Iterator

import brotli
import pytest

from coupon_harness import ENDPOINT
from coupon_harness.runners.contract.routes import OVERRIDES, ROUTES
from coupon_harness.transport.outbound import BoundedClient, ForeignOrigin, OutboundPolicy
from targets.serving import serving_raw

Answer = Callable[[bytes], bytes]
DEADLINE = 2.0


def _recording(answer: Answer, lines: list[bytes]) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                                                  Awaitable[None]]:
    """A raw server that records each request's line and headers, and answers `answer(request head)`."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                if length:
                    await reader.readexactly(length)
                lines.append(head)
                writer.write(answer(head))
                await writer.drain()
                if b"Connection: close" in answer(head):
                    return
        finally:
            writer.close()
    return handler


def _always(answer: bytes) -> Answer:
    return lambda _head: answer


def _plain(status: int = 401, body: bytes = b"{}", extra: bytes = b"") -> Answer:
    return lambda _head: (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                          .encode() + extra + b"\r\n" + body)


@pytest.fixture
def recorded() -> Iterator[tuple[str, list[bytes], BoundedClient]]:
    lines: list[bytes] = []
    with serving_raw(_recording(_plain(), lines)) as url:
        client = BoundedClient(url, OutboundPolicy(timeout=DEADLINE))
        try:
            yield url, lines, client
        finally:
            client.close()


def test_every_route_variant_goes_out_byte_for_byte(recorded: tuple[str, list[bytes], BoundedClient]) -> None:
    url, lines, client = recorded
    for _name, route in ROUTES:
        reply = client.send("POST", url + route, headers={"Content-Type": "application/json"}, body=b"{}", exact=True)
        assert reply.status == 401, reply
    sent = [head.split(b"\r\n", 1)[0] for head in lines]
    assert sent == [f"POST {route} HTTP/1.1".encode() for _, route in ROUTES]


def test_without_exact_the_client_normalises_as_requests_does(recorded: tuple[str, list[bytes], BoundedClient]) -> None:
    """Why `exact` exists: requests resolves dot segments and decodes escapes of unreserved characters."""
    url, lines, client = recorded
    for route in ("/v2/coupon/x/../bulk/issue", "/v2/coupon/%62ulk/issue"):
        client.send("POST", url + route, headers={}, body=b"{}")
    assert [head.split(b"\r\n", 1)[0] for head in lines] == [f"POST {ENDPOINT} HTTP/1.1".encode()] * 2


def test_a_method_override_goes_out_with_the_method_of_the_request_line(
        recorded: tuple[str, list[bytes], BoundedClient]) -> None:
    url, lines, client = recorded
    for header, method, named in OVERRIDES:
        client.send(method, url + ENDPOINT, headers={header: named}, body=b"{}", exact=True)
    for head, (header, method, named) in zip(lines, OVERRIDES, strict=True):
        assert head.startswith(f"{method} {ENDPOINT} HTTP/1.1\r\n".encode())
        assert f"\r\n{header}: {named}\r\n".encode() in head


def test_exact_keeps_the_origin_check(recorded: tuple[str, list[bytes], BoundedClient]) -> None:
    url, lines, client = recorded
    port = int(url.rsplit(":", 1)[1])
    for foreign in (f"http://127.0.0.2:{port}{ENDPOINT}", f"http://localhost:{port + 1}{ENDPOINT}",
                    f"https://127.0.0.1:{port}{ENDPOINT}"):
        with pytest.raises(ForeignOrigin):
            client.send("POST", foreign, headers={}, body=b"{}", exact=True)
    for unsendable in (url + ENDPOINT + " x", url + ENDPOINT + "#f", url + "/v2/coupon/bülk/issue"):
        with pytest.raises(ValueError, match="not sendable as is"):
            client.send("POST", unsendable, headers={}, body=b"{}", exact=True)
    assert lines == []


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_every_content_coding_is_decoded_chunked_or_not(coding: str) -> None:
    body = b'{"response": [], "totalCount": 0, "failureCount": 0}' * 50
    encoders = {"gzip": lambda b: zlib.compress(b, wbits=31), "deflate": zlib.compress, "br": brotli.compress}
    encoded = encoders[coding](body)
    chunked = b"".join(f"{len(encoded[i:i + 100]):x}\r\n".encode() + encoded[i:i + 100] + b"\r\n"
                       for i in range(0, len(encoded), 100)) + b"0\r\n\r\n"
    answers = [
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Encoding: {coding}\r\n"
        f"Content-Length: {len(encoded)}\r\n\r\n".encode() + encoded,
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: {coding}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode() + chunked,
        f"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: {coding}\r\nConnection: close\r\n"
        "\r\n".encode() + encoded,
    ]
    for answer in answers:
        lines: list[bytes] = []
        with serving_raw(_recording(_always(answer), lines)) as url:
            client = BoundedClient(url, OutboundPolicy(timeout=DEADLINE))
            try:
                reply = client.send("POST", url + ENDPOINT, headers={}, body=b"{}")
            finally:
                client.close()
        assert reply.error is None and reply.status == 200 and reply.body == body, (answer[:80], reply)
        assert coding.encode() in lines[0].lower().split(b"accept-encoding:", 1)[1].split(b"\r\n", 1)[0]


def test_a_brotli_bomb_is_cut_at_the_cap() -> None:
    bomb = brotli.compress(b"\0" * (64 * 1024 * 1024), quality=1)
    answer = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: br\r\n"
              f"Content-Length: {len(bomb)}\r\n\r\n").encode() + bomb
    with serving_raw(_recording(_always(answer), [])) as url:
        client = BoundedClient(url, OutboundPolicy(timeout=DEADLINE, max_body_bytes=256 * 1024))
        try:
            reply = client.send("POST", url + ENDPOINT, headers={}, body=b"{}")
        finally:
            client.close()
    assert reply.error == "too-large" and len(reply.body) <= 256 * 1024, reply.error


def test_a_head_answer_announcing_a_body_ends_at_its_head() -> None:
    """RFC 9110 §9.3.2: a HEAD answer has no body, whatever its Content-Length says; the client does not wait."""
    lines: list[bytes] = []
    answer = _plain(405, b"", b"Allow: POST\r\n")
    head_answer = lambda head: answer(head).replace(b"Content-Length: 0", b"Content-Length: 120")  # noqa: E731
    with serving_raw(_recording(head_answer, lines)) as url:
        client = BoundedClient(url, OutboundPolicy(timeout=DEADLINE))
        try:
            first = client.send("HEAD", url + ENDPOINT, headers={}, body=None)
            second = client.send("HEAD", url + ENDPOINT, headers={}, body=None)  # on the same connection
        finally:
            client.close()
    # A client waiting for the 120 bytes announced would end at the deadline: error "timeout", not None.
    assert (first.status, first.body, first.error) == (405, b"", None)
    assert (second.status, second.error) == (405, None) and len(lines) == 2
