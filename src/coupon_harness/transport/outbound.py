"""The one way out: every HTTP client of the harness is built here, and each keeps one policy.

- **Redirects are never followed.** A 3xx on the endpoint is an answer (judged); on a setup request (OAuth
  token, sandbox discovery) it is `RedirectRefused`. The adapter's responses never read as redirects, so
  requests neither follows one nor reads its body whole; geventhttpclient's `HTTPClient` follows none.
- **One origin per client**, the production guard applied to it when the client is built: its credentials go
  only there, and a request to another origin is `ForeignOrigin` (nothing sent).
- **One deadline**, `--request-timeout`, covers connect, status line, headers and body: urllib3 bounds each
  socket read only, so a reaper thread shuts down the socket of a request past its `Deadline` (attached by the
  adapter's own connection classes) and the reader reports `timeout`. The gevent client uses `gevent.Timeout`.
- **The decoded body is capped** (`max_body_bytes`): urllib3's `read1(amt, decode_content=True)` decodes at
  most `amt` bytes a call, so a decompression bomb costs the cap plus one chunk. The gevent load client asks
  for `identity` and caps the raw body.

`tests/test_architecture.py` checks that no other module of the package creates an HTTP client.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import logging
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import orjson
import requests
import requests.adapters
import requests.auth
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error

from coupon_harness.errors import ConfigError, HarnessError
from coupon_harness.safety import AmbiguousTarget, refuse_production, target_host
from coupon_harness.transport.credentials import TlsOptions

__all__ = ["CHUNK", "CUT", "DEFAULT_MAX_BODY", "REFUSED", "SETUP_MAX_BODY", "UNRESOLVED", "BoundedClient", "Cut",
           "Deadline", "ForeignOrigin", "Origin", "OutboundPolicy", "RedirectRefused", "Reply", "TlsFailure", "begin",
           "deadline", "end", "harden_session", "read_capped", "setup_request", "tls_message"]

#: The decoded body a client reads at most, unless told otherwise (the contract runner's `max_body_bytes`).
DEFAULT_MAX_BODY = 8 * 1024 * 1024
#: What a setup answer (an OAuth token, the sandbox's description) may weigh: a few hundred bytes are expected.
SETUP_MAX_BODY = 1024 * 1024
#: Bytes asked of a stream per read (read1 returns whatever has arrived, up to this, decoded).
CHUNK = 65536
#: Why reading an answer stopped early: more than the cap arrived, or the deadline passed.
Cut: TypeAlias = Literal["too-large", "timeout"]
#: How much of a redirect's Location a message quotes.
_LOCATION_SHOWN = 200
#: Attribute of a requests.Response the adapter read itself (no deadline set by the caller): why it was cut, or None.
CUT = "coupon_harness_cut"
_log = logging.getLogger(__name__)


class ForeignOrigin(HarnessError):
    """A client was asked to send to another origin than the one it was built for: refused, nothing sent."""


class TlsFailure(ConfigError):
    """The TLS handshake with the target failed: exit 2, the message names the option that fixes it."""


_TLS_REASON = re.compile(r"\[SSL: ([A-Z_]+)\] ([^(')\]]+)")


def tls_message(url: str, exc: BaseException, tls: TlsOptions) -> str:
    """One line: what failed in the handshake with `url`'s origin, and the option that fixes it."""
    found = _TLS_REASON.search(str(exc))
    reason = found.group(2).strip().rstrip(".") if found else type(exc).__name__
    origin = _shown(str(Origin.of(url)))
    if found is not None and found.group(1) == "CERTIFICATE_VERIFY_FAILED":
        trusted = f"the CA bundle of --cacert {tls.cacert}" if tls.cacert else "the default CA bundle"
        return (f"TLS: the certificate of {origin} is not trusted ({reason}; checked against {trusted}): give "
                "--cacert FILE with the CA that signed it, or --no-tls-verify for a test server")
    return (f"TLS: the handshake with {origin} failed ({reason[:100]}): check --client-cert/--client-key if it "
            "asks for a client certificate, and --cacert")


class RedirectRefused(ConfigError):
    """A setup request (OAuth token, sandbox discovery) was answered with a redirect: never followed."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Scheme, host and port, the host read as `safety.target_host` reads it (the production guard's reading)."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        """ForeignOrigin for a URL whose origin cannot be read one way (a URL no client here should send to)."""
        try:
            host = target_host(url)
            parts = urllib3.util.parse_url(url)
        except (AmbiguousTarget, ValueError) as exc:
            raise ForeignOrigin(f"{_shown(url)}: not a URL to send to ({exc})") from None
        scheme = (parts.scheme or "http").lower()
        if scheme not in ("http", "https"):
            raise ForeignOrigin(f"{_shown(url)}: only http and https URLs are sent to")
        return cls(scheme, host, parts.port or (443 if scheme == "https" else 80))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def _shown(url: str) -> str:
    """A URL as a message may quote it: no userinfo, cut short."""
    with contextlib.suppress(ValueError):
        parts = urllib3.util.parse_url(url)
        if parts.auth:
            url = parts._replace(auth=None).url
    return url if len(url) <= _LOCATION_SHOWN else url[:_LOCATION_SHOWN] + "…"


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """What every client of a run keeps: the deadline of one request, the body cap, and the production guard."""

    #: Seconds for a whole request: connect, status line, headers and body (--request-timeout).
    timeout: float
    max_body_bytes: int = DEFAULT_MAX_BODY
    allow_production: bool = False
    #: The flags a refusal names (the way in's: --base-url, --against-url, --host under plain Locust).
    url_flag: str = "--base-url"
    allow_flag: str = "--allow-production"
    #: The user's extra headers (`-H`), on the setup requests too (a token, the sandbox's description).
    headers: tuple[tuple[str, str], ...] = ()
    #: TLS verification, CA bundle and client certificate, for every request of every client under the policy.
    tls: TlsOptions = field(default_factory=TlsOptions)

    def guard(self, url: str) -> Origin:
        """The production guard for `url`, then its origin (ConfigError for a refused host)."""
        refuse_production(url, allow=self.allow_production, url_flag=self.url_flag, allow_flag=self.allow_flag)
        return Origin.of(url)


@dataclass(slots=True)
class Reply:
    """One answer as read under the policy: the status and headers (names lower-cased) and at most the cap of
    the decoded body; `error` "timeout", "connection" or "too-large" when no whole answer arrived in time."""

    status: int | None
    headers: dict[str, str]
    body: bytes
    error: str | None = None
    detail: str = ""


#: Attribute of an urllib3 connection: the Deadline its socket belongs to now (only that one may shut it).
_OWNER = "_coupon_harness_deadline"


class Deadline:
    """The end of one request: once it passes, the reaper shuts down the sockets attached to it (`fired`)."""

    __slots__ = ("_lock", "_sockets", "at", "done", "fired", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.fired = False
        self.done = False
        self._lock = threading.Lock()
        #: (owner, socket, owned): `owned` sockets are duplicates made for the reaper, closed at `finish`.
        self._sockets: list[tuple[object, socket.socket, bool]] = []

    @property
    def passed(self) -> bool:
        return self.fired or time.monotonic() >= self.at

    def attach(self, owner: object, sock: socket.socket | None, *, owned: bool = False) -> None:
        """From now on `sock` (the socket of connection `owner`) is shut down when this deadline passes."""
        if sock is None:
            return
        with self._lock:
            if self.done:
                if owned:
                    sock.close()
                return
            setattr(owner, _OWNER, self)
            self._sockets.append((owner, sock, owned))
            fired = self.fired
        if fired:
            _shutdown(sock)

    def expire(self) -> None:
        with self._lock:
            if self.done or self.fired:
                return
            self.fired = True
            sockets = [sock for owner, sock, _ in self._sockets if getattr(owner, _OWNER, None) is self]
        _log.debug("deadline of %g s passed: %d connection(s) shut down", self.seconds, len(sockets))
        for sock in sockets:
            _shutdown(sock)

    def finish(self) -> None:
        with self._lock:
            self.done = True
            owned = [sock for _, sock, mine in self._sockets if mine]
            self._sockets.clear()
        for sock in owned:
            with contextlib.suppress(OSError):
                sock.close()


def _shutdown(sock: socket.socket) -> None:
    """Both directions of the connection shut: a read blocked on it returns (EOF) in whichever thread it waits."""
    with contextlib.suppress(OSError, ValueError):
        if isinstance(sock, ssl.SSLSocket):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the TCP connection, without tearing the TLS object
        else:
            sock.shutdown(socket.SHUT_RDWR)


class _Reaper:
    """One daemon thread (a greenlet under gevent's patching) that expires deadlines when they pass."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def watch(self, deadline: Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="coupon-harness-reaper", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                heap = self._heap
                while heap and heap[0][2].done:
                    heapq.heappop(heap)
                if not heap:
                    self._cond.wait(60.0)
                    continue
                wait = heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                due = heapq.heappop(heap)[2]
            due.expire()


_reaper = _Reaper()
_current = threading.local()


def _active() -> Deadline | None:
    found: Deadline | None = getattr(_current, "deadline", None)
    return found if found is not None and not found.done else None


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Run one request (sending, and reading its answer) under a deadline of `seconds`, in this thread."""
    started = begin(seconds)
    try:
        yield started
    finally:
        end(started)


def begin(seconds: float) -> Deadline:
    """A deadline for this thread's next request (finishing one left open); `deadline()`'s first half, for
    hooks that start and end a request apart (the Schemathesis adapter)."""
    previous = _active()
    if previous is not None:
        previous.finish()
    started = Deadline(seconds)
    _current.deadline = started
    _reaper.watch(started)
    return started


def end(started: Deadline) -> None:
    started.finish()
    if getattr(_current, "deadline", None) is started:
        _current.deadline = None


class _DeadlineMixin:
    """Attach the socket to the current request's deadline; a status line cut by the reaper is a timeout."""

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        active = _active()
        if active is not None:
            active.attach(self, sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        active = _active()
        if active is not None:
            active.attach(self, self.sock)  # a kept-alive connection: its socket serves this request now
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        try:
            return super().getresponse()  # type: ignore[misc]
        except (OSError, http.client.HTTPException) as exc:
            active = _active()
            if active is not None and active.passed:
                # As a socket timeout, which urllib3 and requests report as a read timeout (never "dropped").
                raise TimeoutError(f"no status line and headers within {active.seconds:g} s") from exc
            raise


class _DeadlineConnection(_DeadlineMixin, HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_DeadlineMixin, HTTPSConnection):
    """The reaper gets a duplicate of the TCP socket before TLS wraps it: a dripped handshake is cut too."""

    def _new_conn(self) -> socket.socket:
        sock = HTTPSConnection._new_conn(self)
        active = _active()
        if active is not None:
            try:
                duplicate = sock.dup()
            except OSError:
                pass
            else:
                active.attach(self, duplicate, owned=True)
        return sock


class _DeadlinePool(HTTPConnectionPool):
    ConnectionCls = _DeadlineConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


_POOLS = {"http": _DeadlinePool, "https": _DeadlineHTTPSPool}


class _Unredirected(requests.Response):
    """Never a redirect: requests neither follows it nor reads its body whole (which it does for a 3xx)."""

    @property
    def is_redirect(self) -> bool:
        return False

    @property
    def is_permanent_redirect(self) -> bool:
        return False


class _BoundedAdapter(requests.adapters.HTTPAdapter):
    """requests' transport for one origin, under one policy (see the module's docstring)."""

    def __init__(self, origin: Origin, policy: OutboundPolicy) -> None:
        self.origin = origin
        self.policy = policy
        if not policy.tls.verify:  # asked for (--no-tls-verify): not a warning on every request
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)  # this adapter's pools only

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        response = super().build_response(req, resp)
        response.__class__ = _Unredirected
        return response

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        url = request.url or ""
        if Origin.of(url) != self.origin:
            _log.debug("refused to send to %s: not %s", _shown(url), self.origin)
            raise ForeignOrigin(f"refused to send to {_shown(url)}: this client sends only to {self.origin}, the "
                                "origin it was configured for (its credentials go nowhere else)")
        # TLS as the policy says, whatever the session (the harness's, Schemathesis') was told.
        verify, cert = self.policy.tls.requests_verify(verify), self.policy.tls.requests_cert()
        active = _active()
        if active is not None:  # the caller's deadline (it reads the body itself, capped, before it ends)
            return super().send(request, stream, self._clipped(active), verify, cert, proxies)
        # A caller that set no deadline: this request's own, and the body read here, capped, before it ends.
        with deadline(self.policy.timeout) as own:
            response = super().send(request, True, self._clipped(own), verify, cert, proxies)
            try:
                body, cut = read_capped(response.raw, self.policy.max_body_bytes, own)
            except urllib3.exceptions.ProtocolError as exc:  # as requests' own reading raises them
                raise requests.exceptions.ChunkedEncodingError(exc) from exc
            except urllib3.exceptions.DecodeError as exc:
                raise requests.exceptions.ContentDecodingError(exc) from exc
            except (Urllib3Error, OSError) as exc:
                raise requests.exceptions.ConnectionError(exc) from exc
            response._content = body
            response._content_consumed = True  # type: ignore[attr-defined]
            setattr(response, CUT, cut)
            if cut is not None:
                response.raw.close()  # the rest is never read: the connection goes, not back to the pool
            return response

    def _clipped(self, active: Deadline) -> float:
        """Connect and per-read timeouts never longer than what is left of the deadline."""
        left = active.at - time.monotonic()
        if left <= 0:
            raise requests.exceptions.ReadTimeout(f"no answer within {active.seconds:g} s")
        return min(left, self.policy.timeout)


class _NoNetrc(requests.auth.AuthBase):
    """A session auth that adds nothing: with one set, requests never adds ~/.netrc credentials."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def harden_session(session: requests.Session, base_url: str, policy: OutboundPolicy) -> requests.Session:
    """Put `session` under the policy for the origin of `base_url` (guarded first)."""
    origin = policy.guard(base_url)
    adapter = _BoundedAdapter(origin, policy)
    session.adapters.clear()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if session.auth is None:
        session.auth = _NoNetrc()
    session.max_redirects = 0
    return session


def read_capped(raw: urllib3.HTTPResponse, max_bytes: int, active: Deadline | None) -> tuple[bytes, Cut | None]:
    """At most `max_bytes` of the decoded body, and why reading stopped early; urllib3's errors are raised,
    unless the deadline passed (then it is a `timeout`)."""
    chunks: list[bytes] = []
    size = 0
    cut: Cut | None = None
    try:
        while chunk := raw.read1(min(CHUNK, max_bytes + 1 - size), decode_content=True):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                cut = "too-large"
                chunks[-1] = chunk[: len(chunk) - (size - max_bytes)]
                break
            if active is not None and active.passed:
                cut = "timeout"
                break
    except (Urllib3Error, OSError):
        if active is None or not active.passed:
            raise
        cut = "timeout"
    if cut is None and active is not None and active.fired:
        cut = "timeout"  # a body without a length ends at EOF: the reaper's shutdown looks like one
    return b"".join(chunks), cut


class BoundedClient:
    """A requests session under the policy, bound to the origin of `base_url` (guarded when built). `send`
    never raises for what a target does: an unfinished, oversized or refused answer is a `Reply` with `error`."""

    def __init__(self, base_url: str, policy: OutboundPolicy) -> None:
        self.base_url = base_url
        self.policy = policy
        self._session = harden_session(requests.Session(), base_url, policy)
        self.origin = Origin.of(base_url)

    def send(self, method: str, url: str, *, headers: Mapping[str, str | None], body: bytes | None,
             max_bytes: int | None = None, exact: bool = False) -> Reply:
        """`exact`: the URL's path and query go on the request line as given (see `_open`)."""
        cap = self.policy.max_body_bytes if max_bytes is None else max_bytes
        timeout = self.policy.timeout
        with deadline(timeout) as active:
            try:
                with self._open(method, url, headers, body, exact, timeout) as answer:
                    try:
                        content, cut = read_capped(answer.raw, cap, active)
                    except (Urllib3Error, OSError) as exc:
                        return Reply(None, {}, b"", "connection", f"answer cut short: {_reason(exc)}")
                    lowered = {str(name).lower(): str(value) for name, value in answer.headers.items()}
                    reply = Reply(answer.status_code, lowered, content)
                    if 300 <= answer.status_code < 400:
                        _log.debug("%s %s answered %d: the redirect is not followed", method, _shown(url),
                                   answer.status_code)
                    if cut == "too-large":
                        reply.error, reply.detail = cut, f"body larger than {cap} bytes"
                    elif cut == "timeout":
                        reply.error, reply.detail = cut, f"answer not complete within {timeout:g} s"
                    return reply
            except requests.exceptions.SSLError as exc:  # a setup problem (exit 2), not what the target answers
                raise TlsFailure(tls_message(url, exc, self.policy.tls)) from None
            except (requests.Timeout, TimeoutError):
                _log.debug("%s %s: no answer within the deadline of %g s", method, _shown(url), timeout)
                return Reply(None, {}, b"", "timeout", f"no answer within {timeout:g} s")
            except requests.RequestException as exc:
                truncated = isinstance(exc, requests.exceptions.ChunkedEncodingError)
                if active.passed:
                    return Reply(None, {}, b"", "timeout",
                                 f"{'answer not complete' if truncated else 'no answer'} within {timeout:g} s")
                return Reply(None, {}, b"", "connection", f"truncated answer: {_reason(exc)}" if truncated
                             else _reason(exc))

    def _open(self, method: str, url: str, headers: Mapping[str, str | None], body: bytes | None, exact: bool,
              timeout: float) -> requests.Response:
        """The answer's head, its body left to stream. requests normalises a URL (dot segments, `%62` to `b`),
        so with `exact` the prepared request gets back the URL as given, byte for byte (not through a proxy)."""
        if not exact:
            return self._session.request(method, url, headers=dict(headers), data=body, stream=True,
                                         allow_redirects=False, timeout=timeout)
        if not url.isascii() or any(char <= " " or char == "\x7f" for char in url) or "#" in url:
            raise ValueError(f"{_shown(url)}: not sendable as is (only printable ASCII, no fragment)")
        session = self._session
        prepared = session.prepare_request(requests.Request(method.upper(), url, headers=dict(headers),
                                                            data=body or {}))
        prepared.url = url
        settings = session.merge_environment_settings(url, {}, True, None, None)
        return session.send(prepared, allow_redirects=False, timeout=timeout, **settings)

    def close(self) -> None:
        self._session.close()


def setup_request(method: str, url: str, policy: OutboundPolicy, *, what: str, json_body: object = None,
                  fix: str = "") -> Reply:
    """One setup request under the policy, at most SETUP_MAX_BODY read; a redirect is `RedirectRefused` naming
    `what`, the URL and where it pointed, `fix` ending the message."""
    body = None if json_body is None else orjson.dumps(json_body)
    headers = {**dict(policy.headers), "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    with contextlib.closing(BoundedClient(url, policy)) as client:
        reply = client.send(method, url, headers=headers, body=body, max_bytes=SETUP_MAX_BODY)
    if reply.status is not None and 300 <= reply.status < 400:
        location = reply.headers.get("location")
        pointed = f"to {_shown(location)}" if location else "(without a Location)"
        _log.debug("%s %s answered %d %s: refused", what, _shown(url), reply.status, pointed)
        raise RedirectRefused(f"{what} {_shown(url)} answered {reply.status}, a redirect {pointed}: coupon-harness "
                              "never follows a redirect (what it sends would reach a host nobody configured)"
                              + (f"; {fix}" if fix else ""))
    return reply


#: Transport failures that mean nothing is listening there (a harness error), not a misbehaving server.
REFUSED = "Connection refused"
UNRESOLVED = "host name not found"


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "NameResolutionError" in text or "Failed to resolve" in text or "Name or service not known" in text:
        return UNRESOLVED
    for marker in (REFUSED, "Connection reset", "RemoteDisconnected", "IncompleteRead",
                   "Connection aborted", "Read timed out"):
        if marker in text:
            return marker
    return type(exc).__name__
