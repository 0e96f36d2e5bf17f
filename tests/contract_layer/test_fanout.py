"""A contract run's concurrency (runners/contract/fanout.py): answers judged in the order the requests were built
whatever order they come back in, nothing judged after a stop, a bounded number open, and the --max-rps pacing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from coupon_harness.runners.contract.fanout import Gauge, Lane, Pacer


def test_answers_are_judged_in_submission_order_whatever_order_they_come_back_in() -> None:
    # Job i waits for job i+1 to finish, so the answers come back in reverse; the judging order is still 0..5.
    count = 6
    done = [threading.Event() for _ in range(count)]
    sent_order: list[int] = []
    judged: list[int] = []

    def job(i: int) -> int:
        if i + 1 < count:
            assert done[i + 1].wait(10)
        sent_order.append(i)
        done[i].set()
        return i

    with ThreadPoolExecutor(count) as pool, Lane(pool, count, lambda: False) as lane:
        for i in range(count):
            lane.submit(lambda i=i: job(i), judged.append)
    assert sent_order == list(reversed(range(count)))
    assert judged == list(range(count))


def test_one_worker_sends_and_judges_each_in_turn_in_the_calling_thread() -> None:
    events: list[str] = []
    caller = threading.get_ident()
    with Lane(None, 1, lambda: False) as lane:
        for i in range(3):
            lane.submit(lambda i=i: events.append(f"send {i}") or threading.get_ident(),
                        lambda ident, i=i: events.append(f"judge {i} here={ident == caller}"))
    assert events == ["send 0", "judge 0 here=True", "send 1", "judge 1 here=True", "send 2", "judge 2 here=True"]


def test_answers_after_a_stop_are_not_judged() -> None:
    judged: list[int] = []
    with ThreadPoolExecutor(4) as pool, Lane(pool, 8, lambda: len(judged) >= 3) as lane:
        for i in range(8):
            lane.submit(lambda i=i: i, judged.append)
    assert judged == [0, 1, 2]


def test_a_failing_send_raises_in_order_and_nothing_after_it_is_judged() -> None:
    judged: list[int] = []

    def job(i: int) -> int:
        if i == 2:
            raise RuntimeError("a harness bug")
        return i

    with ThreadPoolExecutor(4) as pool, pytest.raises(RuntimeError, match="a harness bug"), \
            Lane(pool, 8, lambda: False) as lane:
        for i in range(6):
            lane.submit(lambda i=i: job(i), judged.append)
    assert judged == [0, 1]


def test_the_window_bounds_what_is_outstanding() -> None:
    gauge = Gauge()
    release = threading.Event()

    def job(i: int) -> int:
        with gauge:
            release.wait(0.05)
        return i

    with ThreadPoolExecutor(3) as pool, Lane(pool, 6, lambda: False) as lane:
        for i in range(20):
            lane.submit(lambda i=i: job(i), lambda _: None)
    assert 1 <= gauge.peak <= 3
    assert gauge.open == 0


def test_the_pacer_spaces_requests_by_one_over_the_rate() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    pacer = Pacer(10.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        pacer.wait()
    assert slept == [0.1, 0.2, 0.3]  # the first goes at once, each next one 0.1 s after the one before
    now[0] += 5.0  # idle a while: no burst is saved up, the next one goes at once and the one after 0.1 s later
    slept.clear()
    pacer.wait()
    pacer.wait()
    assert slept == [0.1]


def test_the_pacer_books_distinct_slots_for_threads() -> None:
    now = [0.0]
    lock = threading.Lock()
    slots: list[float] = []

    def sleep(seconds: float) -> None:
        with lock:
            slots.append(round(seconds, 6))

    pacer = Pacer(4.0, clock=lambda: now[0], sleep=sleep)
    threads = [threading.Thread(target=pacer.wait) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(slots) == [0.25 * n for n in range(1, 8)]  # one went at once, seven each a quarter second apart


def test_no_rate_never_waits_and_a_rate_must_be_positive() -> None:
    Pacer(None, sleep=lambda _: pytest.fail("slept")).wait()
    with pytest.raises(ValueError, match="above 0"):
        Pacer(0.0)


def test_passes_beside_each_other_only_with_workers_and_only_next_to_one_another() -> None:
    from coupon_harness.runners.contract.runner import pass_groups

    order = ("classics", "property-positive", "property-negative", "stateful")
    assert pass_groups(order, 1) == [(name,) for name in order]
    assert pass_groups(order, 3) == [("classics",), ("property-positive", "property-negative"), ("stateful",)]
    assert pass_groups(("property-negative", "scenarios", "property-positive"), 3) == [
        ("property-negative",), ("scenarios",), ("property-positive",)]
    # From 4 workers on, the deterministic passes before the stateful one join the generated ones next to them.
    everything = ("classics", "strings", "property-positive", "property-negative", "scenarios", "stateful", "auth")
    assert pass_groups(everything, 4) == [everything[:5], ("stateful",), ("auth",)]
    assert pass_groups(("property-negative", "scenarios", "property-positive"), 4) == [
        ("property-negative", "scenarios", "property-positive")]
    assert pass_groups(("classics", "strings", "stateful", "scenarios"), 8) == [
        ("classics",), ("strings",), ("stateful",), ("scenarios",)]  # no generated pass to go beside


def test_a_pass_collector_merges_as_if_its_findings_came_after() -> None:
    from coupon_harness.contract.catalog import RuleId
    from coupon_harness.contract.violations import Violation
    from coupon_harness.results.request import RequestSample
    from coupon_harness.runners.contract.collector import Collector, PassCollector
    from coupon_harness.runners.contract.exchange import sample
    from coupon_harness.transport.auth import Credentials, Redactor

    def request(body: str) -> RequestSample:
        return sample("POST", "http://127.0.0.1:9/x", {}, body.encode(), Redactor(Credentials()))

    run = Collector(seed=1, max_transport_failures=4)
    broken = Violation(RuleId.TOTAL_COUNT, "off", "n", "n+1")
    run.record(broken, request("a-long-body"), 200, "", "classics")
    beside = PassCollector(run)
    beside.record(broken, request("short"), 200, "", "property/positive")
    beside.record(Violation(RuleId.NO_SERVER_ERROR, "status-500", "no 5xx", "500"), request("x"), 500, "",
                  "property/positive")
    beside.sent(transport_ok=False)
    assert run.findings[0].occurrences == 1 and run.requests == 1  # requests count at once, findings wait
    run.absorb(beside)
    first, second = run.findings
    assert (first.rule_id, first.occurrences, first.source) == (RuleId.TOTAL_COUNT, 2, "property/positive")
    assert first.request is not None and first.request.body == "short"  # the smaller reproducer
    assert second.rule_id == RuleId.NO_SERVER_ERROR  # after what the run had
    beside.stopped = "the target stopped answering"
    assert run.stopped == "the target stopped answering"
