"""A load run keeps the base URL's path prefix, and never issues more coupons than --max-coupons: each
request reserves its batch before it is sent, and distributed workers' shares sum to the cap exactly."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import pytest
from aiohttp import web
from tests.sockets import listening_port

from coupon_harness import ENDPOINT
from coupon_harness.runners.load.runner import run_load, run_worker
from coupon_harness.safety import coupon_share
from coupon_harness.sandbox.app import ISSUER_KEY, create_app
from coupon_harness.sandbox.issuer import Issuer
from coupon_harness.sandbox.server import running_sandbox
from load.support import VALID, coupon_rows, describe, load_settings
from targets.serving import serving_app

PREFIX = "/api"


@contextmanager
def _prefixed_sandbox() -> Iterator[tuple[str, Issuer]]:
    """A sandbox that serves the API (bulk issue and OAuth token) only under /api."""
    sandbox = create_app()
    root = web.Application()
    root.add_subapp(PREFIX, sandbox)
    with serving_app(root) as base_url:
        yield base_url, sandbox[ISSUER_KEY]


def _status_of_post(url: str) -> int:
    request = urllib.request.Request(url, data=b"{}", method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _master_port() -> int:
    """The port of the load master this process started with master_port=0 (it bound a free one itself)."""
    deadline = time.monotonic() + 60  # a hang guard
    while time.monotonic() < deadline:
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "master" in child.cmdline() and "coupon_harness.runners.load.process" in child.cmdline():
                    return listening_port(child.pid)
        time.sleep(0.05)
    raise AssertionError("no load master started")


def _issued(issuer: Issuer) -> int:
    return sum(issuer.coupons_issued(series) for series in VALID)


@pytest.mark.parametrize("auth", ["basic", "oauth"])
def test_a_load_run_sends_under_the_base_urls_path_prefix(auth: str, tmp_path: Path) -> None:
    credentials: dict[str, Any] = {"user": "sandbox", "password": "sandbox"} if auth == "basic" else {
        "user": None, "password": None, "oauth_key": "sandbox-key", "oauth_secret": "sandbox-secret"}
    with _prefixed_sandbox() as (base_url, issuer):
        # The target is one a run without the prefix cannot reach: the bare path answers 404.
        assert _status_of_post(base_url + ENDPOINT) == 404
        assert _status_of_post(base_url + PREFIX + ENDPOINT) == 401
        out = tmp_path / "out"
        result = run_load(load_settings(base_url + PREFIX + "/", users=5, run_time_s=2.0, **credentials), out)
        issued = _issued(issuer)
    why = describe(result)
    assert result.requests > 0, why
    assert set(result.status_counts) == {"200"}, why
    assert result.coupons_issued > 0 and result.coupons_issued == issued, why
    assert len(coupon_rows(out)) - 1 == issued, why


def test_the_cap_is_exact_with_many_users_and_large_batches(tmp_path: Path) -> None:
    """50 users, batches of 3 (every valid series), cap 100: before, the run issued ~300."""
    out = tmp_path / "out"
    with running_sandbox() as sandbox:
        result = run_load(load_settings(sandbox.base_url, users=50, spawn_rate=1000.0, run_time_s=10.0,
                                        batch_min=3, batch_max=3, invalid_share=0.2, max_coupons=100), out)
        issued = _issued(sandbox.issuer)
    why = describe(result)
    assert issued == result.coupons_issued == len(coupon_rows(out)) - 1, why
    assert issued <= 100, why
    # Each batch holds invalid series some of the time, yet the run reaches the cap: reservations of
    # coupons the target did not issue are given back.
    assert issued == 100, why
    assert result.stopped_reason == "--max-coupons reached (100)", why


def test_a_batch_larger_than_what_is_left_is_cut(tmp_path: Path) -> None:
    """Cap 7 with batches of 3 valid series: 3 + 3 + 1, never 9."""
    out = tmp_path / "out"
    with running_sandbox() as sandbox:
        result = run_load(load_settings(sandbox.base_url, invalid_series_ids=(), users=1, run_time_s=10.0,
                                        batch_min=3, batch_max=3, max_coupons=7), out)
        issued = _issued(sandbox.issuer)
    why = describe(result)
    assert issued == result.coupons_issued == 7, why
    assert result.requests == 3, why
    assert result.stopped_reason == "--max-coupons reached (7)", why


@pytest.mark.parametrize("cap", [101, 1])
def test_two_workers_share_the_cap_exactly(cap: int, tmp_path: Path) -> None:
    """The shares sum to the cap (51 + 50; 1 + 0): the run stops at the cap, never beyond."""
    out = tmp_path / "out"
    with running_sandbox() as sandbox:
        result = run_load(load_settings(sandbox.base_url, workers=2, users=20, spawn_rate=1000.0, run_time_s=10.0,
                                        batch_min=3, batch_max=3, max_coupons=cap), out)
        issued = _issued(sandbox.issuer)
    why = describe(result)
    assert result.workers == 2, why
    assert issued == result.coupons_issued == len(coupon_rows(out)) - 1, why
    assert issued == cap, why
    assert result.stopped_reason == f"--max-coupons reached ({cap})", why


def test_workers_that_do_not_know_their_number_take_the_masters_shares(tmp_path: Path) -> None:
    """Remote workers (`load --worker`) are not told how many workers there are: the master hands each one its
    share before its users start."""
    codes: list[int] = []
    out = tmp_path / "out"
    with running_sandbox() as sandbox:
        settings = load_settings(sandbox.base_url, workers=2, users=20, spawn_rate=1000.0, run_time_s=10.0,
                                 batch_min=3, batch_max=3, max_coupons=51)
        remote = replace(settings, workers=0)
        threads = [threading.Thread(target=lambda: codes.append(run_worker(remote, "127.0.0.1", _master_port())))
                   for _ in range(2)]
        for thread in threads:
            thread.start()
        try:
            result = run_load(settings, out, master_bind="127.0.0.1", master_port=0)
        finally:
            for thread in threads:
                thread.join(60)
        issued = _issued(sandbox.issuer)
    why = describe(result)
    assert result.workers == 2, why
    assert issued == result.coupons_issued == 51, why
    assert result.stopped_reason == "--max-coupons reached (51)", why


def test_shares_sum_to_the_cap() -> None:
    for cap in (0, 1, 7, 100, 101, 10_000):
        for workers in (1, 2, 3, 7, 16):
            shares = [coupon_share(cap, workers, position) for position in range(workers)]
            assert sum(shares) == cap and max(shares) - min(shares) <= 1, (cap, workers, shares)
            assert coupon_share(cap, workers, workers) == 0


def test_requests_without_an_answer_count_against_the_cap(tmp_path: Path) -> None:
    """A target that answers after the client gave up still issues: a request that got no answer keeps its
    reservation, so such a target cannot be driven past the cap by timeouts (before: the run went on sending)."""

    async def late(request: web.Request) -> None:
        await asyncio.sleep(1.5)  # past the 0.5 s request timeout; then the sandbox issues as usual

    with running_sandbox(before=late) as sandbox:
        settings = load_settings(sandbox.base_url, invalid_series_ids=(), users=2, run_time_s=6.0,
                                 request_timeout=0.5, batch_min=3, batch_max=3, max_coupons=10)
        result = run_load(settings, tmp_path / "out")
        time.sleep(2.0)  # the late answers' coupons
        issued = _issued(sandbox.issuer)
    why = describe(result)
    assert result.coupons_issued == 0, why
    assert issued <= 10, why
    assert result.stopped_reason == ("--max-coupons reached (10), counting 10 coupons of requests that got no "
                                     "answer (the target may have issued them)"), why
