"""Running a sandbox: `serve` blocks (the CLI and `python -m coupon_harness.sandbox`), `running_sandbox`
serves from a background thread with its own event loop (tests, in-process rehearsals)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from aiohttp import http_exceptions, web

from coupon_harness import ENDPOINT
from coupon_harness.sandbox.app import ISSUER_KEY, TOKEN_PATH, Before, Mutate, create_app
from coupon_harness.sandbox.config import SandboxConfig, default_config
from coupon_harness.sandbox.issuer import Issuer

__all__ = ["RunningSandbox", "running_sandbox", "serve"]

# In-flight requests get this long to finish when a sandbox stops.
_SHUTDOWN_S = 2.0


class _QuietBadRequests(logging.Filter):
    """aiohttp answers an unparseable request (a NUL in a header, an unknown method) with 400 and also
    logs it with a traceback. For a test server that is the client's fault, not an error: drop it."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, http_exceptions.HttpProcessingError)


logging.getLogger("aiohttp.server").addFilter(_QuietBadRequests())
_START_TIMEOUT_S = 10.0
_BACKLOG = 1024


@dataclass(frozen=True, slots=True)
class RunningSandbox:
    host: str
    port: int
    config: SandboxConfig
    app: web.Application

    @property
    def base_url(self) -> str:
        return _base_url(self.host, self.port)

    @property
    def issue_url(self) -> str:
        return self.base_url + ENDPOINT

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def issuer(self) -> Issuer:
        """The sandbox's state: codes and coupons issued so far."""
        return self.app[ISSUER_KEY]


def _base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=_BACKLOG)


async def _start(runner: web.AppRunner, sock: socket.socket) -> None:
    await runner.setup()
    await web.SockSite(runner, sock, backlog=_BACKLOG).start()


@contextlib.contextmanager
def running_sandbox(config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0, *,
                    mutate: Mutate | None = None, before: Before | None = None) -> Iterator[RunningSandbox]:
    """Serve a fresh sandbox on host:port (0 picks a free port) until the block exits.

    The server runs in a daemon thread on its own event loop, so it works from synchronous code and
    from inside pytest, and can be started any number of times in one process.
    """
    config = config if config is not None else default_config()
    app = create_app(config, mutate=mutate, before=before)
    sock = _bind(host, port)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=_SHUTDOWN_S)
    started = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            try:
                loop.run_until_complete(_start(runner, sock))
            except BaseException as exc:
                failures.append(exc)
                return
            finally:
                started.set()
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, name=f"sandbox-{sock.getsockname()[1]}", daemon=True)
    thread.start()
    try:
        if not started.wait(_START_TIMEOUT_S):
            raise RuntimeError(f"sandbox did not start within {_START_TIMEOUT_S:.0f} s")
        if failures:
            raise failures[0]
        yield RunningSandbox(host, sock.getsockname()[1], config, app)
    finally:
        if not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(_START_TIMEOUT_S + _SHUTDOWN_S)
        sock.close()


def _loop_factory(use_uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when asked for and installed (it serves ~10-20% more requests per core)."""
    if not use_uvloop:
        return None
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def _serve_until_stopped(app: web.Application, host: str, port: int) -> None:
    sock = _bind(host, port)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=_SHUTDOWN_S)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await _start(runner, sock)
        print(f"sandbox listening on {_base_url(host, sock.getsockname()[1])}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
        sock.close()


def serve(host: str = "127.0.0.1", port: int = 8080, config: SandboxConfig | None = None, *,
          use_uvloop: bool = True, mutate: Mutate | None = None, before: Before | None = None) -> None:
    """Serve a sandbox until SIGINT or SIGTERM; prints `sandbox listening on http://HOST:PORT` once up."""
    app = create_app(config, mutate=mutate, before=before)
    with asyncio.Runner(loop_factory=_loop_factory(use_uvloop)) as runner:
        try:
            runner.run(_serve_until_stopped(app, host, port))
        except KeyboardInterrupt:  # a second Ctrl-C while stopping
            sys.stderr.write("sandbox interrupted\n")
