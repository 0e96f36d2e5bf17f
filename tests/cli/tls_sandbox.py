"""A sandbox served over HTTPS with a self-signed certificate made for the test by the openssl CLI."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from coupon_harness.sandbox.app import create_app
from coupon_harness.sandbox.config import default_config

HAVE_OPENSSL = shutil.which("openssl") is not None


@dataclass(frozen=True)
class TlsSandbox:
    base_url: str
    cert: Path


def make_cert(folder: Path, name: str = "") -> tuple[Path, Path]:
    cert, key = folder / f"{name}cert.pem", folder / f"{name}key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@contextmanager
def https_sandbox(folder: Path, client_ca: Path | None = None) -> Iterator[TlsSandbox]:
    """`client_ca`: the server asks for a client certificate signed by it (mutual TLS)."""
    cert, key = make_cert(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=client_ca)
        # TLS 1.2: a missing client certificate fails the handshake itself. Under TLS 1.3 the client has finished
        # its handshake when the server's alert comes, so the refusal reaches it as an SSL error or, on a busy
        # machine, as a bare reset of a request already sent (a transport finding, exit 1): a race, not a test.
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(create_app(default_config()), access_log=None, handle_signals=False)
    ready = threading.Event()
    port: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        port.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(30)
    try:
        yield TlsSandbox(f"https://127.0.0.1:{port[0]}", cert)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
