"""Running a sandbox: `serve` blocks (the CLI and `python -m coupon_harness.sandbox`), `running_sandbox`
serves from a background thread with its own event loop (tests, in-process rehearsals)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.web_protocol import RequestHandler

from coupon_harness import ENDPOINT
from coupon_harness.sandbox.app import ISSUER_KEY, TOKEN_PATH, Before, Mutate, create_app
from coupon_harness.sandbox.config import SandboxConfig, default_config
from coupon_harness.sandbox.issuer import Issuer

__all__ = ["RunningSandbox", "running_sandbox", "serve"]

# In-flight requests get this long to finish when a sandbox stops.
_SHUTDOWN_S = 2.0


def _not_a_client_fault(record: logging.LogRecord) -> bool:
    """Drop aiohttp's tracebacks of two client faults: an unparseable request (answered 400) and a client that
    went away mid-request (ConnectionResetError). Any other error keeps its traceback."""
    exc = record.exc_info[1] if record.exc_info else None
    return not isinstance(exc, http_exceptions.HttpProcessingError | ConnectionError)


logging.getLogger("aiohttp.server").addFilter(_not_a_client_fault)
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


#: The aiohttp minor version whose RequestHandler internals `_Handler` reads (tests/sandbox/test_aiohttp_pin.py).
AIOHTTP_PINNED = "3.14"


class _Handler(RequestHandler):
    """aiohttp's connection handler with a deadline on each request head (aiohttp 3.14 has no public one): a
    head must be complete `header_timeout_s` after the connection opened (first request) or after its first
    byte (later ones), else the connection is closed; keepalive_timeout alone lets a trickling client stay.

    The one override of aiohttp internals in the package: asyncio's protocol methods are extended, three private
    attributes of RequestHandler 3.14 read (none written); one timer per connection, re-armed lazily. Pinned by
    tests/sandbox/test_aiohttp_pin.py and the timeout tests of tests/sandbox/test_hygiene.py.
    """

    __slots__ = ("_clock", "_head_handle", "_head_since", "_header_timeout_s")

    def __init__(self, manager: web.Server, *, loop: asyncio.AbstractEventLoop, header_timeout_s: float,
                 **kwargs: Any) -> None:
        super().__init__(manager, loop=loop, **kwargs)
        self._clock = loop  # its own reference: RequestHandler's `_loop` is one more internal
        self._header_timeout_s = header_timeout_s
        #: When the pending head began (the connection's opening, or a later head's first byte); None: none.
        self._head_since: float | None = None
        self._head_handle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._head_since = now = self._clock.time()
        self._head_handle = self._clock.call_at(now + self._header_timeout_s, self._check_head)

    def data_received(self, data: bytes) -> None:
        heads = self._request_count
        RequestHandler.data_received(self, data)
        if self._request_count != heads:
            self._head_since = None  # a head is complete: the next one starts with its first byte
        elif data and self._head_since is None and self._idle():
            self._head_since = self._clock.time()  # the first byte of a new request

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._head_handle is not None:  # a cancelled timer lets go of this handler at once
            self._head_handle.cancel()
            self._head_handle = None
        super().connection_lost(exc)

    def _idle(self) -> bool:
        """No request parsed and waiting, none being handled: waiting for (the rest of) a head."""
        return not self._messages and not self._request_in_progress

    def _check_head(self) -> None:
        self._head_handle = None
        if self.transport is None:  # the connection is gone
            return
        now = self._clock.time()
        since = self._head_since if self._idle() else None  # None: no head pending, check again later
        due = (now if since is None else since) + self._header_timeout_s
        if since is not None and now >= due:
            self.force_close()
        else:
            self._head_handle = self._clock.call_at(due, self._check_head)


class _Site(web.SockSite):
    """A SockSite whose connections are `_Handler`s with the sandbox's timeouts."""

    __slots__ = ("_config",)

    def __init__(self, runner: web.AppRunner, sock: socket.socket, config: SandboxConfig) -> None:
        super().__init__(runner, sock, backlog=_BACKLOG)
        self._config = config

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with the runner
        loop = asyncio.get_running_loop()
        assert self._runner.server is not None
        # What AppRunner(app, access_log=None) hands aiohttp's own handlers, plus the two timeouts.
        handler = functools.partial(_Handler, self._runner.server, loop=loop, access_log=None,
                                    keepalive_timeout=self._config.keepalive_timeout_s,
                                    header_timeout_s=self._config.header_timeout_s)
        self._server = await loop.create_server(handler, sock=self._sock, backlog=self._backlog)


async def _serve(app: web.Application, config: SandboxConfig, sock: socket.socket, ready: Callable[[], None],
                 stop: asyncio.Event) -> None:
    """Serve `app` on `sock`, call `ready` once it listens, stop serving when `stop` is set."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=_SHUTDOWN_S)
    try:
        await runner.setup()
        await _Site(runner, sock, config).start()
        ready()
        await stop.wait()
    finally:
        await runner.cleanup()


@contextlib.contextmanager
def running_sandbox(config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0, *,
                    mutate: Mutate | None = None, before: Before | None = None) -> Iterator[RunningSandbox]:
    """Serve a fresh sandbox on host:port (0 picks a free port) until the block exits, from a daemon thread
    on its own event loop (usable from synchronous code, any number of times)."""
    config = config if config is not None else default_config()
    app = create_app(config, mutate=mutate, before=before)
    sock = _bind(host, port)
    loop = asyncio.new_event_loop()
    started, stop = threading.Event(), asyncio.Event()
    failures: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(_serve(app, config, sock, started.set, stop))
        except BaseException as exc:
            failures.append(exc)
        finally:
            started.set()
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
            loop.call_soon_threadsafe(stop.set)
        thread.join(_START_TIMEOUT_S + _SHUTDOWN_S)
        sock.close()


def _loop_factory(use_uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when asked for and installed (it serves ~10-20% more requests per core)."""
    if use_uvloop:
        with contextlib.suppress(ImportError):
            import uvloop

            return uvloop.new_event_loop
    return None


async def _serve_until_stopped(app: web.Application, config: SandboxConfig, host: str, port: int) -> None:
    sock = _bind(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    url = _base_url(host, sock.getsockname()[1])
    try:
        await _serve(app, config, sock, lambda: print(f"sandbox listening on {url}", flush=True), stop)
    finally:
        sock.close()


def serve(host: str = "127.0.0.1", port: int = 8080, config: SandboxConfig | None = None, *,
          use_uvloop: bool = True, mutate: Mutate | None = None, before: Before | None = None) -> None:
    """Serve a sandbox until SIGINT or SIGTERM; prints `sandbox listening on http://HOST:PORT` once up."""
    config = config if config is not None else default_config()
    app = create_app(config, mutate=mutate, before=before)
    with asyncio.Runner(loop_factory=_loop_factory(use_uvloop)) as runner:
        try:
            runner.run(_serve_until_stopped(app, config, host, port))
        except KeyboardInterrupt:  # a second Ctrl-C while stopping
            sys.stderr.write("sandbox interrupted\n")
