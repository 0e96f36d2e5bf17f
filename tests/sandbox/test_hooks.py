"""Broken variants through `mutate` / `before`, and fault injection (latency, 5xx)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import requests
from aiohttp import web
from tests.sandbox.sandbox_helpers import expectations, fresh_customer, issue

from coupon_harness.contract.invariants import IssueCall, check_response
from coupon_harness.sandbox import Answer, Faults, SandboxConfig, create_app, running_sandbox
from coupon_harness.sandbox.app import ISSUER_KEY


def test_mutate_can_break_the_order_and_the_contract_sees_it(http: requests.Session) -> None:
    def reverse(answer: Answer) -> Answer:
        if answer.status == 200:
            answer.body["response"].reverse()
        return answer

    with running_sandbox(mutate=reverse) as sandbox:
        customer = fresh_customer()
        issued_at = datetime.now(UTC)
        body = issue(http, sandbox, [101, 102], customer).json()
        violations = check_response(IssueCall([101, 102], customer, issued_at, fresh_customer=True), body,
                                    expectations(sandbox.config))
    assert {violation.rule_id for violation in violations} == {"entity-order"}


def test_mutate_sees_the_parsed_request_and_may_send_bytes(http: requests.Session) -> None:
    seen: list[object] = []

    def html(answer: Answer) -> Answer:
        seen.append(answer.request_json)
        answer.status = 200
        answer.body = b"<html>oops</html>"
        answer.headers["Content-Type"] = "text/html"
        answer.headers.pop("Allow", None)
        return answer

    with running_sandbox(mutate=html) as sandbox:
        posted = issue(http, sandbox, [101], "c-html")
        other = http.delete(sandbox.issue_url, timeout=5)
    assert (posted.status_code, posted.text, posted.headers["Content-Type"]) == (200, "<html>oops</html>",
                                                                                 "text/html")
    assert other.status_code == 200 and "Allow" not in other.headers
    assert seen == [{"seriesIds": [101], "customer": {"id": "c-html"}}, None]


def test_before_hook_may_answer_first(http: requests.Session) -> None:
    async def teapot(request: web.Request) -> web.StreamResponse | None:
        return web.Response(status=418) if request.headers.get("X-Teapot") else None

    with running_sandbox(before=teapot) as sandbox:
        assert issue(http, sandbox, [101], headers={"X-Teapot": "1"}).status_code == 418
        assert issue(http, sandbox, [101]).status_code == 200
        assert http.put(sandbox.issue_url, timeout=5).status_code == 405


def test_no_hooks_means_the_plain_handlers() -> None:
    async def before(request: web.Request) -> None:
        return None

    plain = create_app(SandboxConfig())
    hooked = create_app(SandboxConfig(), before=before)
    assert [r.method for r in plain.router.routes()][:2] == ["POST", "*"]
    assert [r.method for r in hooked.router.routes()][:1] == ["*"]
    assert plain[ISSUER_KEY] is not hooked[ISSUER_KEY], "each app has its own state"


def test_error_rate_one_answers_injected_5xx_and_issues_nothing(http: requests.Session) -> None:
    config = SandboxConfig(faults=Faults(error_rate=1.0, error_statuses=(503,)), seed=1)
    with running_sandbox(config) as sandbox:
        answers = [issue(http, sandbox, [101]) for _ in range(3)]
        assert sandbox.issuer.coupons_issued(101) == 0
    assert [a.status_code for a in answers] == [503, 503, 503]
    assert answers[0].json()["errors"][0]["code"] == 503


def test_error_after_issue_leaves_coupons_issued(http: requests.Session) -> None:
    config = SandboxConfig(faults=Faults(error_rate=1.0, error_after_issue=True))
    with running_sandbox(config) as sandbox:
        statuses = {issue(http, sandbox, [101, 102]).status_code for _ in range(2)}
        assert sandbox.issuer.coupons_issued(101) == 2
    assert statuses <= {500, 503}


def test_partial_error_rate_mixes_200_and_5xx(http: requests.Session) -> None:
    with running_sandbox(SandboxConfig(faults=Faults(error_rate=0.5), seed=7)) as sandbox:
        statuses = [issue(http, sandbox, [101]).status_code for _ in range(40)]
    assert 200 in statuses and {500, 503} & set(statuses)
    assert set(statuses) <= {200, 500, 503}


def test_latency_is_added(http: requests.Session) -> None:
    with running_sandbox(SandboxConfig(faults=Faults(latency_ms=(60, 80)))) as sandbox:
        issue(http, sandbox, [101])
        started = time.perf_counter()
        assert issue(http, sandbox, [101]).status_code == 200
        elapsed = time.perf_counter() - started
    assert elapsed >= 0.06


def test_a_concurrency_limit_serves_that_many_at_once_and_queues_the_rest() -> None:
    """faults.concurrency with a fixed latency is a known service capacity (the capacity search's self-test):
    12 requests at once, 3 served at a time for 200 ms each, take 4 rounds (800 ms); without the limit, one (the
    bounds leave room for threads that start late and a busy machine: a lower bound, and one burst against the
    other)."""
    from concurrent.futures import ThreadPoolExecutor

    def burst(config: SandboxConfig) -> list[float]:
        with running_sandbox(config) as sandbox, ThreadPoolExecutor(12) as pool:
            sessions = [requests.Session() for _ in range(12)]
            for session in sessions:  # connections open first: the burst measures serving, not connecting
                issue(session, sandbox, [101])

            def timed(session: requests.Session) -> float:
                started = time.perf_counter()
                assert issue(session, sandbox, [101]).status_code == 200
                return time.perf_counter() - started

            return sorted(pool.map(timed, sessions))

    limited = Faults(latency_ms=200, concurrency=3)
    assert limited.capacity_rps == 15.0 and limited.active
    times = burst(SandboxConfig(faults=limited))
    assert times[-1] >= 0.55, times  # at least three rounds of waiting behind the others
    free = burst(SandboxConfig(faults=Faults(latency_ms=200)))
    # One round: far sooner than the limited burst's four. Judged against that burst, not a wall-clock bound: a busy
    # machine slows both alike (the limit's own effect, 600 ms at least, is what would have to vanish).
    assert free[-1] < times[-1] - 0.3, (free, times)
