"""Each per-response invariant fires on the breakage it names and stays quiet on legitimate variation."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.invariants import IssueCall, check_response
from coupon_harness.contract.ledger import Ledger

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
EXPECT = Expectations(valid_series=frozenset({544770, 553379}), invalid_series=frozenset({999}))


def coupon(series: int, code: str, **overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "code": code, "seriesId": series, "description": "Festival coupon", "discountCode": "erg123",
        "validTill": "2029-05-09T00:00:00Z", "discountType": "ABS", "discountValue": 500, "discountUpto": 0,
        "discountOn": "BILL", "detailedInfo": "Evil coupon", "redemptionCount": 0, "id": 0,
    }
    result.update(overrides)
    return {"entityId": series, "result": result, "errors": [], "warnings": []}


def refused(series: int) -> dict[str, Any]:
    return {"entityId": series, "errors": [{"code": 707, "message": "Coupon Series ID is invalid"}], "warnings": []}


def body(*entities: dict[str, Any]) -> dict[str, Any]:
    failures = sum(1 for e in entities if e["errors"])
    return {"response": list(entities), "totalCount": len(entities), "failureCount": failures}


GOOD = body(coupon(544770, "TPLPYOEYOT"), coupon(553379, "9WJIGHOBRL"))
CALL = IssueCall([544770, 553379], "c1", NOW, fresh_customer=True)


def rules_broken(call: IssueCall, answer: Any) -> set[str]:
    return {v.rule_id for v in check_response(call, answer, EXPECT)}


def test_reference_sample_passes() -> None:
    assert rules_broken(CALL, GOOD) == set()


@pytest.mark.parametrize("variant", [
    lambda b: b["response"][0]["result"].update(discountValue=500.0, discountUpto=0.0),
    lambda b: b["response"][0]["result"].update(validTill="2029-05-09T05:30:00+05:30"),
    lambda b: b["response"][0]["result"].update(validTillDateTime="2029-05-09 00:00:00", extra={"x": 1}),
    lambda b: b.update(totalCount=2.0, extraTopLevel=True),
    lambda b: b["response"][1]["result"].update(code="1234567890"),
])
def test_legitimate_variations_pass(variant: Any) -> None:
    answer = copy.deepcopy(GOOD)
    variant(answer)
    assert rules_broken(CALL, answer) == set()


def test_failed_entity_with_null_or_absent_result_passes() -> None:
    call = IssueCall([544770, 999], "c1", NOW, fresh_customer=True)
    absent = body(coupon(544770, "A1"), refused(999))
    null = copy.deepcopy(absent)
    null["response"][1]["result"] = None
    assert rules_broken(call, absent) == set()
    assert rules_broken(call, null) == set()


BREAKAGES: list[tuple[str, Any]] = [
    ("total-count", lambda b: b.update(totalCount=3)),
    ("total-count", lambda b: b["response"].pop()),
    ("entity-order", lambda b: b["response"].reverse()),
    ("failure-count", lambda b: b.update(failureCount=1)),
    ("entity-shape", lambda b: b["response"][0].update(errors=[{"code": 1, "message": "x"}])),
    ("entity-shape", lambda b: b["response"][0].update(result=None)),
    ("result-series-id", lambda b: b["response"][0]["result"].update(seriesId=1)),
    ("code-non-empty", lambda b: b["response"][0]["result"].update(code="")),
    ("valid-till-future", lambda b: b["response"][0]["result"].update(validTill="2020-01-01T00:00:00Z")),
    ("valid-till-future", lambda b: b["response"][0]["result"].update(validTill="next tuesday")),
    ("redemption-count-zero", lambda b: b["response"][0]["result"].update(redemptionCount=1)),
    ("discount-range", lambda b: b["response"][0]["result"].update(discountValue=-1)),
    ("discount-range", lambda b: b["response"][0]["result"].update(discountUpto=-5)),
    ("discount-range", lambda b: b["response"][0]["result"].update(discountType="PERC", discountValue=150)),
    ("unique-codes", lambda b: b["response"][1]["result"].update(code="TPLPYOEYOT")),
    ("errors-warnings-arrays", lambda b: b["response"][0].update(errors=None)),
    ("errors-warnings-arrays", lambda b: b["response"][0].pop("warnings")),
    ("response-schema", lambda b: b["response"][0]["result"].update(discountValue="500")),
    ("response-schema", lambda b: b["response"][0]["result"].pop("discountCode")),
    ("response-schema", lambda b: b.pop("failureCount")),
    ("valid-series-issues", lambda b: b["response"].__setitem__(0, refused(544770)) or b.update(failureCount=1)),
]


@pytest.mark.parametrize(("rule", "breakage"), BREAKAGES)
def test_each_breakage_names_its_rule(rule: str, breakage: Any) -> None:
    answer = copy.deepcopy(GOOD)
    breakage(answer)
    assert rule in rules_broken(CALL, answer)


def test_invalid_series_answered_with_coupon_is_flagged() -> None:
    call = IssueCall([999], "c1", NOW)
    assert rules_broken(call, body(coupon(999, "X"))) == {"invalid-series-refused"}


def test_valid_series_refusal_is_not_flagged_for_known_customers_or_repeats() -> None:
    refusal = body(refused(544770))
    assert rules_broken(IssueCall([544770], "c1", NOW, fresh_customer=False), refusal) == set()
    repeat = body(coupon(544770, "A"), refused(544770))
    assert rules_broken(IssueCall([544770, 544770], "c1", NOW, fresh_customer=True), repeat) == set()


def test_valid_till_clock_skew_and_naive_timestamps() -> None:
    slightly_past = (NOW - timedelta(minutes=2)).isoformat()
    answer = body(coupon(544770, "A", validTill=slightly_past))
    assert rules_broken(IssueCall([544770], "c", NOW), answer) == set()
    # No offset: its time is read as UTC (valid-till-future holds), but it is not an RFC 3339 date-time.
    naive = body(coupon(544770, "A", validTill="2026-11-26T03:00:00"))
    assert rules_broken(IssueCall([544770], "c", NOW), naive) == {"response-schema"}


def test_garbage_bodies_do_not_crash() -> None:
    for garbage in (None, [], "x", 1, {"response": "x"}, {"response": [1, None, "x"]}, {"response": [{}]}):
        found = check_response(CALL, garbage, EXPECT)
        assert found, garbage


def test_ledger_flags_codes_shared_across_customers_only() -> None:
    ledger = Ledger(EXPECT)
    assert ledger.observe([544770], "c1", body(coupon(544770, "SAME"))) == []
    assert ledger.observe([544770], "c1", body(coupon(544770, "SAME"))) == []  # same customer, same coupon
    found = ledger.observe([544770], "c2", body(coupon(544770, "SAME")))
    assert [v.rule_id for v in found] == ["unique-codes"]


def test_ledger_exempts_generic_series_unless_told_not_to() -> None:
    generic = Expectations(generic_series=frozenset({544770}))
    ledger = Ledger(generic)
    ledger.observe([544770], "c1", body(coupon(544770, "GEN")))
    assert ledger.observe([544770], "c2", body(coupon(544770, "GEN"))) == []
    strict = Ledger(Expectations(generic_series=frozenset({544770}), unique_generic=True))
    strict.observe([544770], "c1", body(coupon(544770, "GEN")))
    assert [v.rule_id for v in strict.observe([544770], "c2", body(coupon(544770, "GEN")))] == ["unique-codes"]


def test_ledger_flags_changed_series_attributes() -> None:
    ledger = Ledger(EXPECT)
    ledger.observe([544770], "c1", body(coupon(544770, "A")))
    assert ledger.observe([544770], "c2", body(coupon(544770, "B", discountValue=500.0))) == []
    found = ledger.observe([544770], "c3", body(coupon(544770, "C", discountValue=400)))
    assert [v.rule_id for v in found] == ["series-attributes-stable"]


@pytest.mark.parametrize("entity_id", [[], {}, [1, 2], None, "x", True])
def test_an_extra_entity_with_an_odd_entity_id_is_a_finding_not_a_crash(entity_id: Any) -> None:
    answer = copy.deepcopy(GOOD)
    answer["response"].append({"entityId": entity_id, "errors": [], "warnings": [], "result": {"code": "X"}})
    answer["totalCount"] = 3
    broken = rules_broken(CALL, answer)
    assert "total-count" in broken
    ledger = Ledger(EXPECT)
    assert ledger.observe(CALL.series_ids, "c1", answer) == []
