"""Hygiene under abuse: request-head and keep-alive timeouts, the batch-size cap, a bounded token store,
and no traceback in the log when a client goes away mid-request."""

from __future__ import annotations

import base64
import logging
import socket
import struct
import time
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path

import orjson
import pytest
import requests
from tests.sandbox.sandbox_helpers import AUTH, issue

from coupon_harness.sandbox import (
    Answer,
    RunningSandbox,
    SandboxConfig,
    SandboxConfigError,
    load_config,
    running_sandbox,
)
from coupon_harness.sandbox.auth import Authenticator

# Generous bound on how long a server-side close may take to be seen; the timeouts under test are short.
_SEEN_S = 10.0
_BASIC = "Basic " + base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()


def _request(series: list[int], customer: str = "hygiene") -> tuple[bytes, bytes]:
    """(head, body) of one bulk-issue request."""
    body = orjson.dumps({"seriesIds": series, "customer": {"id": customer}})
    head = (f"POST /v2/coupon/bulk/issue HTTP/1.1\r\nHost: sandbox\r\nAuthorization: {_BASIC}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return head, body


def _closed_by_server(sock: socket.socket) -> bool:
    """True when the server closes the connection (EOF or reset) before _SEEN_S."""
    sock.settimeout(_SEEN_S)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _connect(sandbox: RunningSandbox) -> socket.socket:
    return socket.create_connection((sandbox.host, sandbox.port), timeout=_SEEN_S)


@pytest.fixture(scope="module")
def quick_heads() -> Iterator[RunningSandbox]:
    """Heads must arrive within 0.3 s; idle keep-alive connections are kept 60 s."""
    with running_sandbox(SandboxConfig(header_timeout_s=0.3, keepalive_timeout_s=60)) as running:
        yield running


# 1. Timeouts ------------------------------------------------------------------------------------------

def test_a_silent_connection_is_closed_after_the_header_timeout(quick_heads: RunningSandbox) -> None:
    with _connect(quick_heads) as sock:
        assert _closed_by_server(sock)


def test_a_trickled_head_is_closed_after_the_header_timeout(quick_heads: RunningSandbox) -> None:
    head, _ = _request([101])
    with _connect(quick_heads) as sock:
        sock.sendall(head[:30])  # a request line and no end of headers
        assert _closed_by_server(sock)


def test_a_slow_body_is_not_cut_by_the_header_timeout(quick_heads: RunningSandbox) -> None:
    head, body = _request([101])
    with _connect(quick_heads) as sock:
        sock.sendall(head)
        time.sleep(0.6)  # twice the header timeout: the head is complete, the body may take its time
        sock.sendall(body)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_a_keep_alive_connection_idle_past_the_header_timeout_still_serves(quick_heads: RunningSandbox) -> None:
    connection = HTTPConnection(quick_heads.host, quick_heads.port, timeout=_SEEN_S)
    try:
        _, body = _request([101])
        headers = {"Authorization": _BASIC, "Content-Type": "application/json"}
        for _ in range(2):
            connection.request("POST", "/v2/coupon/bulk/issue", body=body, headers=headers)
            answer = connection.getresponse()
            assert answer.status == 200 and answer.getheader("Connection") != "close"
            answer.read()
            time.sleep(0.6)  # idle longer than the header timeout, far shorter than the keep-alive one
    finally:
        connection.close()


def test_an_idle_keep_alive_connection_is_closed_after_the_keepalive_timeout() -> None:
    head, body = _request([101])
    with running_sandbox(SandboxConfig(header_timeout_s=60, keepalive_timeout_s=0.3)) as sandbox, \
            _connect(sandbox) as sock:
        sock.sendall(head + body)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert _closed_by_server(sock)


def test_default_timeouts_and_the_config_file(tmp_path: Path) -> None:
    config = SandboxConfig()
    assert (config.header_timeout_s, config.keepalive_timeout_s, config.max_batch) == (15.0, 75.0, 1000)
    path = tmp_path / "sandbox.yaml"
    path.write_text("header_timeout_s: 5\nkeepalive_timeout_s: 30.5\nmax_batch: 50\n", encoding="utf-8")
    loaded = load_config(path)
    assert (loaded.header_timeout_s, loaded.keepalive_timeout_s, loaded.max_batch) == (5, 30.5, 50)


@pytest.mark.parametrize(("options", "names"), [
    ({"header_timeout_s": 0}, "header_timeout_s"),
    ({"keepalive_timeout_s": -1}, "keepalive_timeout_s"),
    ({"max_batch": 0}, "max_batch"),
    ({"max_batch": 10.5}, "max_batch"),
])
def test_bad_limits_are_refused(options: dict[str, float], names: str) -> None:
    with pytest.raises(SandboxConfigError, match=names):
        SandboxConfig(**options)  # type: ignore[arg-type]


# 2. Batch size ----------------------------------------------------------------------------------------

def test_a_batch_over_the_maximum_is_400_naming_the_limit(sandbox: RunningSandbox, http: requests.Session) -> None:
    answer = issue(http, sandbox, [101] * 1001)
    assert answer.status_code == 400
    assert answer.json() == {"errors": [{"status": False, "code": 756, "message":
                                         "seriesIds has 1001 entries; at most 1000 per request"}], "warnings": []}
    assert issue(http, sandbox, [102] * 1000).status_code == 200


def test_the_maximum_is_configurable_and_nothing_is_issued_over_it(http: requests.Session) -> None:
    with running_sandbox(SandboxConfig(max_batch=3)) as sandbox:
        over = issue(http, sandbox, [101, 102, 105, 101])
        assert over.status_code == 400
        assert over.json()["errors"][0]["message"] == "seriesIds has 4 entries; at most 3 per request"
        assert sandbox.issuer.codes_issued == 0
        assert issue(http, sandbox, [101, 102, 105]).status_code == 200
        assert sandbox.issuer.codes_issued == 3


def test_the_hooked_path_caps_batches_too(http: requests.Session) -> None:
    def same(answer: Answer) -> Answer:
        return answer

    with running_sandbox(SandboxConfig(max_batch=2), mutate=same) as sandbox:
        assert issue(http, sandbox, [101] * 3).status_code == 400


# 3. Tokens --------------------------------------------------------------------------------------------

class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_tokens_issued_and_expired_stay_bounded() -> None:
    clock = _Clock()
    auth = Authenticator({}, {"key": "secret"}, token_ttl_s=10, clock=clock)
    per_second = 200
    for _ in range(60):  # a minute of 200 tokens a second with a 10 s lifetime
        for _ in range(per_second):
            assert auth.issue_token("key", "secret") is not None
        clock.now += 1.0
    # Tokens of the last ttl (10 s), plus the second being issued when purging last ran.
    assert auth.tokens_held <= per_second * 11
    latest = auth.issue_token("key", "secret")
    assert auth.identify({"X-CAP-API-OAUTH-TOKEN": latest or ""}) == "key"
    clock.now += 10.0
    assert auth.identify({"X-CAP-API-OAUTH-TOKEN": latest or ""}) is None
    auth.issue_token("key", "secret")
    assert auth.tokens_held == 1, "everything older than the ttl is purged by the next issue"


def test_an_expired_token_found_by_lookup_is_purged_once() -> None:
    clock = _Clock()
    auth = Authenticator({}, {"key": "secret"}, token_ttl_s=5, clock=clock)
    first = auth.issue_token("key", "secret") or ""
    clock.now += 5.0
    assert auth.identify({"X-CAP-API-OAUTH-TOKEN": first}) is None  # dropped from the dict
    second = auth.issue_token("key", "secret") or ""                # purges the queue entry too
    assert auth.tokens_held == 1
    assert auth.identify({"X-CAP-API-OAUTH-TOKEN": second}) == "key"


def test_wrong_secret_gets_no_token() -> None:
    auth = Authenticator({}, {"key": "secret"}, token_ttl_s=5)
    assert auth.issue_token("key", "nope") is None and auth.tokens_held == 0


# 4. Client disconnects leave no traceback -------------------------------------------------------------

def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a killed client does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.mark.parametrize("how", ["mid-body-fin", "mid-body-rst", "before-reading-rst", "before-reading-fin"])
def test_a_client_that_disconnects_leaves_no_traceback(sandbox: RunningSandbox, http: requests.Session,
                                                       caplog: pytest.LogCaptureFixture, how: str) -> None:
    head, body = _request([101, 102, 105] * 300, customer=f"gone-{how}")
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    for _ in range(5):
        sock = _connect(sandbox)
        if how.startswith("mid-body"):
            sock.sendall(head + body[: len(body) // 2])
            time.sleep(0.1)  # let the handler start reading the body
        else:
            sock.sendall(head + body)
        if how.endswith("rst"):
            _reset(sock)
        else:
            sock.close()
    time.sleep(0.3)  # let the server notice
    assert issue(http, sandbox, [101]).status_code == 200, "the sandbox still serves"
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def test_other_handler_errors_still_log_their_traceback(http: requests.Session,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """The filter is narrow: a bug in the server (here a hook that raises) is still logged in full."""
    def broken(answer: Answer) -> Answer:
        raise RuntimeError("a bug in a hook")

    caplog.set_level(logging.ERROR, logger="aiohttp")
    with running_sandbox(mutate=broken) as sandbox:
        assert issue(http, sandbox, [101]).status_code == 500
    assert "Traceback" in caplog.text and "a bug in a hook" in caplog.text


def test_a_later_head_gets_the_header_timeout_from_its_first_byte(quick_heads: RunningSandbox) -> None:
    """Idle past the header timeout after an answer (no deadline), then a trickled head: closed."""
    head, body = _request([101])
    with _connect(quick_heads) as sock:
        sock.sendall(head + body)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        time.sleep(0.6)
        sock.sendall(head[:30])
        assert _closed_by_server(sock)
