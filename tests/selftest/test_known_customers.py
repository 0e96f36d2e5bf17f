"""A target that knows only some customers (as Capillary does: 701 for an unknown one).

With --customer-ids the harness must issue to those customers only and raise no false alarm; without
them, or with customers the target does not know, the preflight stops the run as a setup error (exit 2)
that names the flag: the target is not to blame for the configuration.
"""

from __future__ import annotations

from typing import Any

import pytest

from coupon_harness.errors import ConfigError
from coupon_harness.results.contract import Outcome
from coupon_harness.sandbox.app import Answer
from selftest.harness import describe, run_against_sandbox

KNOWN = ("cust-1", "cust-2", "cust-3")


class OnlyKnownCustomers:
    def __init__(self) -> None:
        self.customers: set[str] = set()

    def __call__(self, answer: Answer) -> Answer:
        body: Any = answer.request_json
        if answer.status != 200 or not isinstance(body, dict):
            return answer
        customer = str(body["customer"]["id"])
        self.customers.add(customer)
        if customer not in KNOWN:
            entities = [{"entityId": s, "errors": [{"code": 701, "message": "Customer not found"}], "warnings": []}
                        for s in body["seriesIds"]]
            answer.body = {"response": entities, "totalCount": len(entities), "failureCount": len(entities)}
        return answer


def test_with_customer_ids_only_those_customers_are_used_and_nothing_is_flagged() -> None:
    target = OnlyKnownCustomers()
    result = run_against_sandbox(mutate=target, customer_ids=KNOWN, passes=("scenarios", "auth"))
    assert result.holds, describe(result)
    assert target.customers == set(KNOWN), target.customers
    # Known customers may already hold coupons, so a refusal to them proves nothing: the rule is not judged.
    rule = next(r for r in result.rules if r.rule.id == "valid-series-issues")
    assert rule.outcome is Outcome.NOT_RUN, describe(result)


def test_without_customer_ids_the_refusal_is_a_setup_error_naming_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"refuses made-up customers \(entity error 701\): pass --customer-ids"):
        run_against_sandbox(mutate=OnlyKnownCustomers(), passes=("scenarios",))


def test_unknown_customer_ids_are_a_setup_error_naming_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"^--customer-ids: the target does not know customer 'nobody-1'"):
        run_against_sandbox(mutate=OnlyKnownCustomers(), customer_ids=("nobody-1",), passes=("scenarios",))
