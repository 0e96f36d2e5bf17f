"""valid-till-future against the answer's own Date: a coupon that does not outlive its answer is dead on arrival,
whatever the clock skew between the harness and the server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.invariants import IssueCall, check_response
from coupon_harness.runners.contract.judge import _date_of

ISSUED = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
EXPECT = Expectations(valid_series=frozenset({101}))


def _answer(valid_till: str) -> dict[str, Any]:
    coupon = {"code": "ABC123", "seriesId": 101, "description": "d", "discountCode": "D", "validTill": valid_till,
              "discountType": "ABS", "discountValue": 500, "discountUpto": 0, "discountOn": "BILL",
              "detailedInfo": "x", "redemptionCount": 0, "id": 0}
    return {"response": [{"entityId": 101, "result": coupon, "errors": [], "warnings": []}], "totalCount": 1,
            "failureCount": 0}


def _keys(valid_till: str, answered_at: float | None) -> set[str]:
    call = IssueCall([101], "c1", ISSUED, fresh_customer=True, answered_at=answered_at)
    return {v.key for v in check_response(call, _answer(valid_till), EXPECT) if v.rule_id == "valid-till-future"}


def test_a_coupon_at_or_before_the_answers_date_is_dead_on_arrival() -> None:
    date = ISSUED.timestamp()
    assert _keys("2026-12-07T12:00:00Z", date) == {"dead-on-arrival"}
    assert _keys("2026-12-07T17:29:59+05:30", date) == {"dead-on-arrival"}
    assert _keys("2026-12-07T12:00:01Z", date) == set()
    assert _keys("2027-01-06T12:00:00Z", date) == set()


def test_without_a_date_or_an_offset_only_the_skew_allowance_judges() -> None:
    assert _keys("2026-12-07T12:00:00Z", None) == set()  # within the 5-minute allowance of the harness's clock
    assert _keys("2026-12-07T12:00:00", ISSUED.timestamp()) == set()  # no offset: any zone, not judged by Date


def test_the_date_header_is_read_as_rfc_9110_writes_it() -> None:
    assert _date_of("Mon, 07 Dec 2026 12:00:00 GMT") == ISSUED.timestamp()
    assert _date_of(None) is None
    assert _date_of("yesterday") is None
    assert _date_of("Mon, 07 Dec 2026 12:00:00 -0000") is None  # no zone stated
