"""Hypothesis-driven business scenarios over the series and customers the harness was told about."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from coupon_harness.contract.invariants import IssueCall
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.exchange import Exchange

__all__ = ["EXTRA_FIELDS", "EXTRA_VALUES", "JSON_INTEGERS", "SCENARIOS", "run_scenarios"]

INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)

# Extra fields carry no constraint, so a correct target answers 200 whatever JSON they hold: floats are drawn
# finite and text() draws no lone surrogate (both a correct target may refuse).
#: Integers anywhere in a double's range: Hypothesis' own, the 64-bit edges and far past them.
JSON_INTEGERS = st.integers() | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1,
                                                 10**300, -(10**300)])
#: Any value an extra field may carry.
EXTRA_VALUES = st.recursive(
    st.none() | st.booleans() | JSON_INTEGERS | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)
#: Keys the contract names (metadata: an object, on newer pages): a random extra field never takes them.
_REQUEST_KEYS = frozenset({"seriesIds", "customer", "metadata"})
#: The extra fields of one request: Capillary's own optional ones, a known unknown key, and keys of any name.
EXTRA_FIELDS = st.builds(
    lambda named, other: {**other, **named},
    st.fixed_dictionaries({}, optional={
        "metadata": st.fixed_dictionaries({"sourceType": st.just("WEB"), "notes": st.text(max_size=20)}),
        "unknownKey": EXTRA_VALUES}),
    st.dictionaries(st.text(max_size=12).filter(lambda key: key not in _REQUEST_KEYS), EXTRA_VALUES, max_size=2))
SCENARIOS = ("mixed-batch", "repeated-series", "two-customers", "same-customer-twice", "large-batch", "extra-fields")


# Complexity allowed: one branch per business scenario, drawn in one Hypothesis test.
def run_scenarios(client: Client, progress: Callable[[str], None]) -> int:  # noqa: C901
    """Run every scenario; returns the number of requests sent."""
    expectations = client.judge.expectations
    known = sorted(expectations.valid_series | expectations.invalid_series)
    series = st.sampled_from(known) | INT32 if known else INT32
    valid = sorted(expectations.valid_series)
    pool = client.settings.customer_ids
    start = client.judge.collector.requests

    # With --customer-ids the target may know no other customer: every scenario draws from that pool.
    draws = itertools.count()

    def customer(draw_index: int | None = None) -> tuple[str, bool]:
        if pool:
            return pool[(next(draws) if draw_index is None else draw_index) % len(pool)], False
        return client.fresh_customer(), True

    budget = max(5, client.settings.max_examples // 4)
    config = settings(max_examples=budget, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck), derandomize=False)
    seeded = seed(client.settings.seed)

    def stopped() -> bool:
        return client.judge.collector.stopped is not None

    # Drawn here in order, sent through the lane, judged back in order: nothing drawn depends on an answer, so the
    # cases are the same for any number of workers.
    lane = client.lane()

    def issue(asks: list[tuple[list[int], str, bool]], source: str, *, extra: dict[str, object] | None = None,
              query: str = "") -> None:
        def send() -> list[tuple[Exchange, IssueCall]]:
            return [client.send_issue(batch, who, fresh, source=source, extra=extra, query=query)
                    for batch, who, fresh in asks]

        def judge(issued: list[tuple[Exchange, IssueCall]]) -> None:
            for one in issued:
                client.judge_issue(one, source)
        lane.submit(send, judge)

    @seeded
    @config
    @given(batch=st.lists(series, min_size=1, max_size=12), who=st.integers(0, 1000))
    def mixed_batch(batch: list[int], who: int) -> None:
        if not stopped():
            issue([(batch, *customer(who))], "scenario/mixed-batch")

    @seeded
    @config
    @given(first=series, times=st.integers(2, 4), tail=st.lists(series, max_size=3))
    def repeated_series(first: int, times: int, tail: list[int]) -> None:
        if not stopped():
            issue([([first] * times + tail, *customer())], "scenario/repeated-series")

    @seeded
    @config
    @given(batch=st.lists(st.sampled_from(valid) if valid else INT32, min_size=1, max_size=4))
    def two_customers(batch: list[int]) -> None:
        if not stopped() and len(pool) != 1:
            first = customer()
            second = customer()
            while second[0] == first[0]:
                second = customer()
            issue([(batch, *first)], "scenario/two-customers")
            issue([(batch, *second)], "scenario/two-customers")

    @seeded
    @config
    @given(batch=st.lists(series, min_size=1, max_size=4))
    def same_customer_twice(batch: list[int]) -> None:
        if not stopped():
            who = customer()
            # One job: the second ask goes once the first is answered (the customer then holds its coupons).
            issue([(batch, *who), (batch, who[0], False)], "scenario/same-customer-twice")

    @seeded
    @settings(config, max_examples=3)
    @given(batch=st.lists(series, min_size=client.settings.large_batch, max_size=client.settings.large_batch))
    def large_batch(batch: list[int]) -> None:
        if not stopped():
            issue([(batch, *customer())], "scenario/large-batch")

    @seeded
    @settings(config, max_examples=max(3, budget // 2))
    @given(batch=st.lists(series, min_size=1, max_size=3),
           source=st.sampled_from(["", "?source=INSTORE", "?source=WEBSITE&accountId=1"]),
           extra=EXTRA_FIELDS)
    def extra_fields(batch: list[int], source: str, extra: dict[str, object]) -> None:
        if not stopped():
            issue([(batch, *customer())], "scenario/extra-fields", extra=extra, query=source)

    with lane:
        for name, scenario in zip(SCENARIOS, (mixed_batch, repeated_series, two_customers, same_customer_twice,
                                              large_batch, extra_fields), strict=True):
            if stopped():
                break
            before = client.judge.collector.requests
            scenario()
            lane.drain()
            progress(f"scenario/{name}: {client.judge.collector.requests - before} requests")
    return client.judge.collector.requests - start
