"""Ports for tests without a race: a socket handed over already listening, a port that refuses, and the real port
of a child that bound port 0 itself.

Never bind port 0, read the number, close, and hand the number on (the old `_free_port`): between the close and
the server's bind any other process on the machine may take the port, and on a busy CI machine one does.
Instead, one of these:

- `listening_socket()`: bound and listening on 127.0.0.1; give it to the server (aiohttp `web.SockSite`,
  `loop.create_server(sock=...)`, or `pass_fds` to a child that serves on an inherited fd).
- `refusing_port()`: a port bound but not listening, held for the block: a connection to it is refused (what a
  closed port does) and no one else can take it meanwhile.
- `listening_port(process)`: a child told `--port 0` (or locust's `--master-bind-port 0`) binds a free port
  itself; this waits until it listens and returns the port, read from the process's own sockets.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator

import psutil

__all__ = ["announced_url", "listening_port", "listening_socket", "refusing_port"]

LOOPBACK = "127.0.0.1"


@contextlib.contextmanager
def listening_socket(host: str = LOOPBACK, backlog: int = 1024) -> Iterator[socket.socket]:
    """A TCP socket bound to a free port of `host` and listening, closed when the block ends."""
    sock = socket.create_server((host, 0), backlog=backlog)
    try:
        yield sock
    finally:
        sock.close()


@contextlib.contextmanager
def refusing_port(host: str = LOOPBACK) -> Iterator[int]:
    """A port of `host` that refuses connections (bound, never listening) and stays so until the block ends."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        yield int(sock.getsockname()[1])


def _listening(pid: int, host: str) -> set[int]:
    try:
        process = psutil.Process(pid)
        found = {c.laddr.port for c in process.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN and c.laddr.ip in (host, "0.0.0.0", "::")}
    except psutil.Error:
        return set()
    return found


def listening_port(process: subprocess.Popen[str] | subprocess.Popen[bytes] | int, *, host: str = LOOPBACK,
                   exclude: frozenset[int] = frozenset(), timeout: float = 60.0) -> int:
    """The one port `process` (a child, or a pid) listens on, once it does: for a child that bound port 0.

    `exclude`: ports it listens on that are not the one sought (e.g. its web UI). Raises if the child ends
    first or does not listen within `timeout` seconds (a hang guard, not a measurement).
    """
    pid = process if isinstance(process, int) else process.pid
    deadline = time.monotonic() + timeout
    while True:
        ports = _listening(pid, host) - exclude
        if len(ports) == 1:
            return ports.pop()
        if len(ports) > 1:
            raise AssertionError(f"process {pid} listens on several ports: {sorted(ports)}")
        if not isinstance(process, int) and process.poll() is not None:
            raise AssertionError(f"process {pid} ended (exit {process.returncode}) before it listened")
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} did not listen within {timeout:.0f} s")
        time.sleep(0.05)


def announced_url(process: subprocess.Popen[str], marker: str = "listening on ") -> str:
    """The URL a child told `--port 0` prints once it listens (`coupon-harness serve`: "sandbox listening on
    http://HOST:PORT"), read from its stdout (a pipe, text mode)."""
    assert process.stdout is not None, "start it with stdout=subprocess.PIPE, text=True"
    for line in process.stdout:
        if marker in line:
            return line.split(marker, 1)[1].strip()
    raise AssertionError(f"process {process.pid} ended (exit {process.wait()}) without printing {marker!r}")
