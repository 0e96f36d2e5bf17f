"""A target cheaper to serve than the checked load generator is to drive: a bare asyncio protocol answering every
POST with one valid entity of series 101 (a fresh code each time), no parsing beyond the request head.

The capacity search's self-test of its generator guard runs it on one core and the generator on the other: the
generator's CPU saturates long before this target slows, so the search must report the generator's limit, not a
capacity. Run: `python -m tests.targets.fast_static --port P` (127.0.0.1 only; 0: a free one, printed), or
`--fd N` to serve on an inherited socket already listening (tests/sockets.py). The request must carry exactly
`{"seriesIds": [101], ...}` (load settings: series 101, batch size 1); nothing else is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import socket

_BODY = (b'{"response":[{"entityId":101,"result":{"code":"FAST%dX","seriesId":101,"description":"Fast coupon",'
         b'"discountCode":"FAST","validTill":"2099-12-31T00:00:00Z","discountType":"ABS","discountValue":500,'
         b'"discountUpto":0,"discountOn":"BILL","detailedInfo":"static","redemptionCount":0,"id":%d},'
         b'"errors":[],"warnings":[]}],"totalCount":1,"failureCount":0}')
_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
_codes = itertools.count(1)


class _Answer(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            start = head.find(b"content-length:")
            length = int(head[start + 15:head.find(b"\r\n", start) if head.find(b"\r\n", start) > 0 else None]
                         ) if start >= 0 else 0
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            number = next(_codes)
            body = _BODY % (number, number)
            assert self.transport is not None
            self.transport.write(_HEAD % len(body) + body)


async def _serve(port: int, fd: int | None) -> None:
    loop = asyncio.get_running_loop()
    if fd is not None:
        server = await loop.create_server(_Answer, sock=socket.socket(fileno=fd), backlog=4096)
    else:
        server = await loop.create_server(_Answer, "127.0.0.1", port, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    print(f"fast target listening on http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", type=int)
    where.add_argument("--fd", type=int, help="a listening socket inherited from the parent")
    args = parser.parse_args()
    asyncio.run(_serve(args.port or 0, args.fd))


if __name__ == "__main__":
    main()
