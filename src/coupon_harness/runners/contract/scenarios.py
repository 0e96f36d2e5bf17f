"""Hypothesis-driven business scenarios over the series and customers the harness was told about."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from coupon_harness.runners.contract.client import Client

__all__ = ["SCENARIOS", "run_scenarios"]

F = TypeVar("F", bound=Callable[..., Any])


def _seeded(value: int) -> Callable[[F], F]:
    decorator: Callable[[F], F] = seed(value)
    return decorator

INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
SCENARIOS = ("mixed-batch", "repeated-series", "two-customers", "same-customer-twice", "large-batch", "extra-fields")


def run_scenarios(client: Client, progress: Callable[[str], None]) -> int:
    """Run every scenario; returns the number of requests sent."""
    expectations = client.judge.expectations
    known = sorted(expectations.valid_series | expectations.invalid_series)
    series = st.sampled_from(known) | INT32 if known else INT32
    valid = sorted(expectations.valid_series)
    pool = client.settings.customer_ids
    start = client.judge.collector.requests

    # With --customer-ids the target may know no other customer (Capillary answers 701 for an unknown
    # one): every scenario then draws from that pool, and those customers may already hold coupons.
    draws = itertools.count()

    def customer(draw_index: int | None = None) -> tuple[str, bool]:
        if pool:
            return pool[(next(draws) if draw_index is None else draw_index) % len(pool)], False
        return client.fresh_customer(), True

    budget = max(5, client.settings.max_examples // 4)
    config = settings(max_examples=budget, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck), derandomize=False)
    seeded: Callable[[F], F] = _seeded(client.settings.seed)

    def stopped() -> bool:
        return client.judge.collector.stopped is not None

    @seeded
    @config
    @given(batch=st.lists(series, min_size=1, max_size=12), who=st.integers(0, 1000))
    def mixed_batch(batch: list[int], who: int) -> None:
        if not stopped():
            client.issue(batch, *customer(who), source="scenario/mixed-batch")

    @seeded
    @config
    @given(first=series, times=st.integers(2, 4), tail=st.lists(series, max_size=3))
    def repeated_series(first: int, times: int, tail: list[int]) -> None:
        if not stopped():
            client.issue([first] * times + tail, *customer(), source="scenario/repeated-series")

    @seeded
    @config
    @given(batch=st.lists(st.sampled_from(valid) if valid else INT32, min_size=1, max_size=4))
    def two_customers(batch: list[int]) -> None:
        if not stopped() and len(pool) != 1:
            first = customer()
            second = customer()
            while second[0] == first[0]:
                second = customer()
            client.issue(batch, *first, source="scenario/two-customers")
            client.issue(batch, *second, source="scenario/two-customers")

    @seeded
    @config
    @given(batch=st.lists(series, min_size=1, max_size=4))
    def same_customer_twice(batch: list[int]) -> None:
        if not stopped():
            who = customer()
            client.issue(batch, *who, source="scenario/same-customer-twice")
            client.issue(batch, who[0], fresh=False, source="scenario/same-customer-twice")

    @seeded
    @settings(config, max_examples=3)
    @given(batch=st.lists(series, min_size=client.settings.large_batch, max_size=client.settings.large_batch))
    def large_batch(batch: list[int]) -> None:
        if not stopped():
            client.issue(batch, *customer(), source="scenario/large-batch")

    @seeded
    @settings(config, max_examples=max(3, budget // 2))
    @given(batch=st.lists(series, min_size=1, max_size=3),
           source=st.sampled_from(["", "?source=INSTORE", "?source=WEBSITE&accountId=1"]),
           extra=st.fixed_dictionaries({}, optional={
               "metadata": st.fixed_dictionaries({"sourceType": st.just("WEB"), "notes": st.text(max_size=20)}),
               "unknownKey": st.integers() | st.text(max_size=5)}))
    def extra_fields(batch: list[int], source: str, extra: dict[str, object]) -> None:
        if not stopped():
            client.issue(batch, *customer(), source="scenario/extra-fields", extra=extra, query=source)

    for name, scenario in zip(SCENARIOS, (mixed_batch, repeated_series, two_customers, same_customer_twice,
                                          large_batch, extra_fields), strict=True):
        if stopped():
            break
        before = client.judge.collector.requests
        scenario()
        progress(f"scenario/{name}: {client.judge.collector.requests - before} requests")
    return client.judge.collector.requests - start
