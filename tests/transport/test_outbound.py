"""The outbound policy (transport/outbound.py) on its own: each hostile answer ends at the deadline or at the body
cap as a transport failure, redirects are answers (never followed) and a setup error on the token and discovery
requests, a client sends only to its origin, and a correct target is read whole, none of it firing.

Deadlines here are 1 s. No test times a request: a deadline is seen by its outcome (the reply's error is
"timeout" where the hostile answer would otherwise go on for minutes), a hang by pytest's timeout; the bench
(scripts/bench_hostile.py) measures durations.
"""

from __future__ import annotations

import asyncio
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import requests

from coupon_harness import ENDPOINT
from coupon_harness.cli.sandbox_target import discover_sandbox
from coupon_harness.errors import ConfigError, HarnessError
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.runners.load.discovery import sandbox_description
from coupon_harness.sandbox.server import running_sandbox
from coupon_harness.transport.auth import AuthError, TokenRedirected, TokenSource
from coupon_harness.transport.outbound import (
    CUT,
    BoundedClient,
    ForeignOrigin,
    Origin,
    OutboundPolicy,
    RedirectRefused,
    Reply,
    harden_session,
)
from targets.hostile import (
    DiscoveryRedirect,
    Hostile,
    Recorder,
    TokenRedirect,
    head,
    read_request,
    serving,
)
from targets.serving import serving_raw

DEADLINE = 1.0
BODY = orjson.dumps({"seriesIds": [101, 102], "customer": {"id": "c-1"}})
JSON = {"Content-Type": "application/json"}


def _issue(client: BoundedClient, url: str) -> tuple[Reply, float]:
    started = time.monotonic()
    reply = client.send("POST", url + ENDPOINT, headers=JSON, body=BODY)
    return reply, time.monotonic() - started


@pytest.fixture
def recorder() -> Iterator[tuple[Recorder, str]]:
    other = Recorder()
    with serving(other) as url:
        yield other, url


# --- the deadline and the cap ---------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "error"), [("drip-body", "timeout"), ("drip-headers", "timeout"),
                                             ("endless", "too-large"), ("gzip-bomb", "too-large")])
def test_a_hostile_answer_ends_as_a_transport_failure(kind: str, error: str) -> None:
    # A byte every 0.2 s: no socket read ever waits as long as the deadline, so only the deadline can end it.
    target = Hostile(kind, good_first=1, interval=0.2)
    with serving(target) as url:
        client = BoundedClient(url, OutboundPolicy(timeout=DEADLINE, max_body_bytes=256 * 1024))
        try:
            good, _ = _issue(client, url)
            tracemalloc.start()
            try:
                bad, _ = _issue(client, url)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        finally:
            client.close()
    assert good.error is None and good.status == 200 and orjson.loads(good.body)["totalCount"] == 2, good
    assert bad.error == error, bad
    assert len(bad.body) <= 256 * 1024
    # The bomb decodes to 512 MiB and the endless body never ends: what was held is the cap and a chunk or two.
    assert peak < 8 * 1024 * 1024, f"{kind}: {peak / 1e6:.1f} MB allocated while reading"
    assert target.hostile_answers == 1


def test_the_deadline_covers_a_wait_for_the_status_line_too() -> None:
    """Nothing sent back at all for 30 s: the per-read timeout would also end it; the deadline ends it first."""
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.sleep(30)
        finally:
            writer.close()

    with serving_raw(silent) as url:
        client = BoundedClient(url, OutboundPolicy(timeout=DEADLINE))
        try:
            reply, _ = _issue(client, url)
        finally:
            client.close()
    assert reply.error == "timeout" and reply.status is None, reply


def test_deadlines_of_concurrent_requests_are_their_own() -> None:
    """Two threads, one on a dripping target, one on a correct one: only the dripping request is cut."""
    results: dict[str, Reply] = {}
    took: dict[str, float] = {}
    with running_sandbox() as sandbox, serving(Hostile("drip-headers", interval=0.2)) as dripping:
        def one(name: str, url: str) -> None:
            client = BoundedClient(url, OutboundPolicy(timeout=DEADLINE))
            try:
                replies = [_issue(client, url) for _ in range(3 if name == "correct" else 1)]
                results[name], took[name] = replies[-1]
            finally:
                client.close()

        threads = [threading.Thread(target=one, args=("dripping", dripping)),
                   threading.Thread(target=one, args=("correct", sandbox.base_url))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert results["dripping"].error == "timeout", results
    assert results["correct"].error is None and results["correct"].status in (200, 401), results


def test_a_correct_target_is_read_whole_on_a_kept_alive_connection() -> None:
    with running_sandbox() as sandbox:
        client = BoundedClient(sandbox.base_url, OutboundPolicy(timeout=DEADLINE))
        try:
            replies = [_issue(client, sandbox.base_url)[0] for _ in range(5)]
        finally:
            client.close()
    assert all(r.error is None and r.status == 401 and r.body for r in replies), replies  # no credentials sent


# --- redirects, origins, the production guard -----------------------------------------------------------

def test_a_redirect_on_the_endpoint_is_an_answer_and_nothing_reaches_its_location(
        recorder: tuple[Recorder, str]) -> None:
    """A 302 pointing at the other host, with a body that never ends: judged as the 302 it is, at once."""
    other, elsewhere = recorder

    async def redirect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if await read_request(reader) is None:
            return
        writer.write(head(302, {"Location": elsewhere + ENDPOINT, "Transfer-Encoding": "chunked"}))
        try:
            while True:
                writer.write(b"10000\r\n" + b" " * 65536 + b"\r\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    with serving_raw(redirect) as url:
        client = BoundedClient(url, OutboundPolicy(timeout=DEADLINE, max_body_bytes=64 * 1024))
        try:
            reply, _ = _issue(client, url)
        finally:
            client.close()
    assert reply.status == 302 and reply.headers["location"] == elsewhere + ENDPOINT, reply
    assert reply.error == "too-large"  # its body was read as any other, up to the cap
    assert other.connections == 0 and not other.requests


def test_a_client_sends_only_to_its_origin(recorder: tuple[Recorder, str]) -> None:
    other, elsewhere = recorder
    with running_sandbox() as sandbox:
        client = BoundedClient(sandbox.base_url, OutboundPolicy(timeout=DEADLINE))
        try:
            with pytest.raises(ForeignOrigin, match=r"sends only to http://127\.0\.0\.1:"):
                client.send("POST", elsewhere + ENDPOINT, headers={"Authorization": "Basic c2VjcmV0"}, body=BODY)
            ok, _ = _issue(client, sandbox.base_url)
        finally:
            client.close()
    assert other.connections == 0
    assert ok.status == 401


def test_origins_compare_as_the_production_guard_reads_hosts() -> None:
    assert Origin.of("http://127.0.0.1:8080/api") == Origin.of("HTTP://127.0.0.1:8080/v2/x?y=1")
    assert Origin.of("https://Example.COM./a") == Origin.of("https://example.com:443")
    assert Origin.of("http://example.com") != Origin.of("https://example.com")
    assert Origin.of("http://example.com:8080") != Origin.of("http://example.com")
    with pytest.raises(ForeignOrigin):
        Origin.of("http://eu.api.capillarytech.com\\@127.0.0.1/")
    with pytest.raises(ForeignOrigin):
        Origin.of("ftp://example.com/")


def test_a_production_host_is_refused_before_any_request() -> None:
    with pytest.raises(ConfigError, match="production host"):
        BoundedClient("https://eu.api.capillarytech.com", OutboundPolicy(timeout=DEADLINE))
    with pytest.raises(ConfigError, match="--against-url"):
        BoundedClient("https://eu.api.capillarytech.com", OutboundPolicy(timeout=DEADLINE, url_flag="--against-url"))
    BoundedClient("https://eu.api.capillarytech.com", OutboundPolicy(timeout=DEADLINE, allow_production=True)).close()


def test_no_netrc_credentials_ride_along(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         recorder: tuple[Recorder, str]) -> None:
    """requests adds ~/.netrc credentials for the host to a request that has none: not these clients."""
    other, url = recorder
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-password\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = BoundedClient(url, OutboundPolicy(timeout=DEADLINE))
    try:
        reply, _ = _issue(client, url)
    finally:
        client.close()
    assert reply.status == 200
    assert [r.headers.get("authorization") for r in other.requests] == [None]


# --- setup requests: the OAuth token, the sandbox discovery ---------------------------------------------

def test_a_token_endpoint_that_redirects_is_a_setup_error_and_the_other_host_gets_nothing(
        recorder: tuple[Recorder, str]) -> None:
    other, elsewhere = recorder
    for status in (307, 302):
        target = TokenRedirect(elsewhere, status=status)
        with serving(target) as url:
            tokens = TokenSource(url, "the-key", "the-secret", DEADLINE)
            with pytest.raises(TokenRedirected) as caught:
                tokens.token()
        message = str(caught.value)
        assert isinstance(caught.value, HarnessError) and isinstance(caught.value, AuthError)
        assert f"{url}/v3/oauth/token/generate" in message and f"to {elsewhere}/v3/oauth/token/generate" in message
        assert f"answered {status}" in message and "the-secret" not in message
        assert target.token_requests == 1
    assert other.connections == 0 and not other.requests


def test_the_sandboxs_token_endpoint_still_gives_a_token() -> None:
    with running_sandbox() as sandbox:
        tokens = TokenSource(sandbox.base_url, "sandbox-key", "sandbox-secret", DEADLINE)
        assert tokens.token() and tokens.fetched == [tokens.token()]
        with pytest.raises(AuthError, match="answered 401"):
            TokenSource(sandbox.base_url, "sandbox-key", "wrong", DEADLINE).token()


def test_a_discovery_that_redirects_is_a_setup_error_and_the_other_host_gets_nothing(
        recorder: tuple[Recorder, str]) -> None:
    other, elsewhere = recorder
    target = DiscoveryRedirect(elsewhere)
    with serving(target) as url:
        with pytest.raises(RedirectRefused) as plain:
            sandbox_description(url, OutboundPolicy(timeout=DEADLINE))
        with pytest.raises(RedirectRefused) as cli:
            discover_sandbox(ContractSettings(url, request_timeout=DEADLINE))
    for caught in (plain, cli):
        message = str(caught.value)
        assert f"{url}/sandbox/info answered 302" in message and f"to {elsewhere}/sandbox/info" in message, message
        assert "--series-ids" in message
    assert target.info_requests == 2
    assert other.connections == 0 and not other.requests


def test_a_sandbox_is_still_discovered() -> None:
    with running_sandbox() as sandbox:
        settings = discover_sandbox(ContractSettings(sandbox.base_url, request_timeout=DEADLINE))
        info = sandbox_description(sandbox.base_url, OutboundPolicy(timeout=DEADLINE))
    assert settings.credentials.user == "sandbox" and settings.expectations.valid_series
    assert info is not None and info["validSeries"]


def test_a_dripping_discovery_ends_at_its_deadline() -> None:
    """A target that drips its headers to every request: the discovery gives up at its deadline (not a hang)."""
    target = Hostile("drip-headers", interval=0.2, every_path=True)
    with serving(target) as url:
        # without a deadline: a hang (pytest's timeout)
        assert sandbox_description(url, OutboundPolicy(timeout=DEADLINE)) is None
    assert target.hostile_answers >= 1


@pytest.mark.parametrize(("kind", "cut"), [("drip-body", "timeout"), ("endless", "too-large"),
                                           ("gzip-bomb", "too-large")])
def test_a_hardened_session_used_without_a_deadline_still_keeps_one(kind: str, cut: str) -> None:
    """A session put under the policy (as Schemathesis' are) and used plainly, `session.post(...)`: the adapter
    sets the request's deadline itself and reads the body there, capped, before the deadline ends."""
    with serving(Hostile(kind, interval=0.2)) as url:
        session = harden_session(requests.Session(), url, OutboundPolicy(timeout=DEADLINE, max_body_bytes=64 * 1024))
        try:
            answer = session.post(url + ENDPOINT, data=BODY, headers=JSON, timeout=30)
        finally:
            session.close()
    assert answer.status_code == 200 and len(answer.content) <= 64 * 1024, answer
    assert getattr(answer, CUT) == cut  # not the 30 s given: the policy's deadline or its cap
