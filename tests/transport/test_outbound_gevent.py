"""The outbound policy inside a load process (gevent monkey-patched): the load user's client and a requests client
(the OAuth token fetch of a load run) each end a hostile answer at the deadline or the body cap, and a redirect
is an answer whose location gets nothing.

The targets are served here; the clients run in a child process that monkey-patches first, as the load process
does, and prints what each request got (one JSON line).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from coupon_harness import ENDPOINT
from targets.hostile import Hostile, Recorder, serving

DEADLINE = 1.0

_CHILD = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()
    import json, sys, time
    import orjson
    from coupon_harness.transport.outbound import BoundedClient, OutboundPolicy
    from coupon_harness.transport.outbound_gevent import LoadClient

    targets = json.loads(sys.argv[1])
    policy = OutboundPolicy(timeout=float(sys.argv[2]), max_body_bytes=256 * 1024)
    body = orjson.dumps({"seriesIds": [101], "customer": {"id": "c-1"}})
    headers = {"Content-Type": "application/json"}
    out = {}
    for name, url in targets.items():
        load = LoadClient(url, policy)
        got = []
        for _ in range(2):
            started = time.monotonic()
            reply = load.post("/v2/coupon/bulk/issue", body, headers)
            got.append([reply.status, reply.error, len(reply.body), time.monotonic() - started,
                        type(reply.exception).__name__ if reply.exception else None])
        load.close()
        plain = BoundedClient(url, policy)
        started = time.monotonic()
        reply = plain.send("POST", url + "/v2/coupon/bulk/issue", headers=headers, body=body)
        got.append([reply.status, reply.error, len(reply.body), time.monotonic() - started, None])
        plain.close()
        out[name] = got
    # Requests that each end well within the deadline, for three deadlines in a row: none may time out (a deadline
    # is each request's own, never one left over from an earlier request of the same client).
    steady = LoadClient(targets["good"], OutboundPolicy(timeout=0.3))
    until, errors, sent = time.monotonic() + 0.9, [], 0
    while time.monotonic() < until:
        sent += 1
        reply = steady.post("/v2/coupon/bulk/issue", body, headers)
        if reply.error is not None:
            errors.append(reply.error)
    out["steady"] = [[sent, errors]]
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def seen() -> Iterator[tuple[dict[str, list[list[Any]]], Recorder]]:
    """Each hostile kind (its first answer good, each client's next ones hostile), and a target that redirects
    every bulk issue to the recorder."""
    other = Recorder()
    with ExitStack() as stack:
        elsewhere = stack.enter_context(serving(other))
        targets = {kind: stack.enter_context(serving(Hostile(kind, good_first=1, interval=0.2)))
                   for kind in ("drip-body", "drip-headers", "endless", "gzip-bomb")}
        targets["redirect"] = stack.enter_context(serving(_Redirect(elsewhere)))
        targets["good"] = stack.enter_context(serving(Hostile("endless", good_first=1_000_000)))
        done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(targets), str(DEADLINE)],
                              capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    yield json.loads(done.stdout.strip().splitlines()[-1]), other


class _Redirect(Recorder):
    """Answers every bulk issue 302 to `elsewhere` (it records nothing: it is the target, not the other host)."""

    def __init__(self, elsewhere: str) -> None:
        super().__init__()
        self.elsewhere = elsewhere

    async def route(self, request: Any, writer: Any) -> bool:
        from targets.hostile import head

        writer.write(head(302, {"Location": self.elsewhere + ENDPOINT, "Content-Length": "0"}))
        return True


@pytest.mark.parametrize(("kind", "load_error", "plain_error"), [
    ("drip-body", "timeout", "timeout"), ("drip-headers", "timeout", "timeout"),
    # The load client asks for identity and decodes nothing: the bomb's 0.5 MB of gzip pass the cap as bytes.
    ("endless", "too-large", "too-large"), ("gzip-bomb", "too-large", "too-large")])
def test_each_hostile_answer_ends_at_the_deadline_or_the_cap(seen: tuple[dict[str, list[list[Any]]], Recorder],
                                                              kind: str, load_error: str, plain_error: str) -> None:
    (good, bad, plain) = seen[0][kind]
    assert good[:2] == [200, None] and good[2] > 0, good
    assert bad[1] == load_error and bad[0] is None, bad
    assert bad[4] == {"timeout": "DeadlineExceeded", "too-large": "BodyTooLarge"}[load_error], bad
    assert plain[1] == plain_error, plain


def test_a_redirect_is_an_answer_and_its_location_gets_nothing(
        seen: tuple[dict[str, list[list[Any]]], Recorder]) -> None:
    answers, other = seen
    assert [row[:2] for row in answers["redirect"]] == [[302, None], [302, None], [302, None]], answers["redirect"]
    assert other.connections == 0


def test_each_request_has_a_deadline_of_its_own(seen: tuple[dict[str, list[list[Any]]], Recorder]) -> None:
    """Many quick requests over three times the deadline: not one times out (gevent's Timeout, stopped and started
    again, keeps only its remaining time: a client that reused one timed out a request at its first start's end)."""
    [[sent, errors]] = seen[0]["steady"]
    assert sent > 10 and errors == [], (sent, errors)
