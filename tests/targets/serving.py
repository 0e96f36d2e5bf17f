"""Serving a test target on 127.0.0.1 (a free port) from a daemon thread with its own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator

from aiohttp import web

__all__ = ["RawHandler", "serving_app", "serving_raw"]

#: A raw connection handler: it reads the request itself and writes whatever bytes it likes (or none).
RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.contextmanager
def _loop_thread() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="selftest-target", daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@contextlib.contextmanager
def serving_app(app: web.Application) -> Iterator[str]:
    """Serve an aiohttp application; yields its base URL."""
    with _loop_thread() as loop:
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)

        sock = socket.create_server(("127.0.0.1", 0))

        async def start() -> None:
            await runner.setup()
            await web.SockSite(runner, sock).start()

        asyncio.run_coroutine_threadsafe(start(), loop).result(10)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
            sock.close()


@contextlib.contextmanager
def serving_raw(handler: RawHandler) -> Iterator[str]:
    """Serve raw TCP connections with `handler`; yields the base URL."""
    with _loop_thread() as loop:
        async def start() -> asyncio.Server:
            return await asyncio.start_server(handler, "127.0.0.1", 0)

        server = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
        try:
            yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        finally:
            async def stop() -> None:
                server.close()

            asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
