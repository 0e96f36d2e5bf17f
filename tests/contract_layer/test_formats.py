"""Every declared format of an answer is asserted strictly: date-time is RFC 3339 section 5.6, not what a lenient
parser (Python's fromisoformat) reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jsonschema_rs
import pytest

from coupon_harness.contract.schemas import ASSERTED_FORMATS, load_schema, schema_errors

#: Accepted: T or t, Z or z, an offset with its colon (-00:00 too), fractional seconds of any length, the leap
#: second, real calendar dates.
ACCEPTED = (
    "2027-12-07T02:07:58Z",
    "2027-12-07t02:07:58z",
    "2027-12-07T02:07:58+00:00",
    "2027-12-07T07:37:58+05:30",
    "2027-12-07T02:07:58-00:00",
    "2027-12-07T02:07:58.5Z",
    "2027-12-07T02:07:58.123456789Z",
    "2028-02-29T00:00:00Z",
    "2016-12-31T23:59:60Z",
)
#: Refused, though Python 3.11's fromisoformat reads most of them (and Java's OffsetDateTime.parse refuses them).
REFUSED = (
    "2027-12-07T02:07:58+0000",
    "2027-12-07 02:07:58Z",
    "2027-12-07T02:07:58",
    "2027-12-07T02:07:58,250Z",
    "2027-12-07",
    "20271207T020758Z",
    "2027-12-07T02:07Z",
    "2027-02-29T00:00:00Z",
    "2027-12-07T24:00:00Z",
    "2027-12-07T02:07:58+24:00",
    "2027-12-07T02:07:58.Z",
    "",
)


def _body(till: str) -> dict[str, Any]:
    result = {"code": "A", "seriesId": 1, "description": "", "discountCode": "", "validTill": till,
              "discountType": "ABS", "discountValue": 1, "discountUpto": 1, "discountOn": "", "detailedInfo": "",
              "redemptionCount": 0, "id": 1}
    return {"response": [{"entityId": 1, "result": result, "errors": [], "warnings": []}], "totalCount": 1,
            "failureCount": 0}


@pytest.mark.parametrize("till", ACCEPTED)
def test_rfc_3339_forms_are_accepted(till: str) -> None:
    assert schema_errors("response", _body(till)) == []


@pytest.mark.parametrize("till", REFUSED)
def test_forms_only_a_lenient_parser_reads_are_refused(till: str) -> None:
    errors = schema_errors("response", _body(till))
    assert [(e.pointer, e.keyword) for e in errors] == [("/response/0/result/validTill", "format")]


def test_the_lenient_parser_would_have_read_most_of_them() -> None:
    """The point of the strict check: a check built on fromisoformat passes these."""
    read = 0
    for till in REFUSED:
        try:
            datetime.fromisoformat(till)
        except ValueError:
            continue
        read += 1
    assert read >= 6


def _formats(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        for value in node.values():
            found |= _formats(value)
        return found
    if isinstance(node, list):
        return set().union(*(_formats(item) for item in node)) if node else set()
    return set()


def test_the_response_schema_declares_date_time() -> None:
    assert "date-time" in _formats(load_schema("response"))


@pytest.mark.parametrize("name", sorted(ASSERTED_FORMATS))
def test_every_format_of_an_answer_schema_is_asserted(name: str) -> None:
    """The validators are built with unknown formats refused: a format the schema grows is checked or the
    validator cannot be built at all, never silently skipped."""
    for fmt in _formats(load_schema(name)):
        jsonschema_rs.Draft202012Validator({"format": fmt}, validate_formats=True, ignore_unknown_formats=False)
    with pytest.raises(ValueError, match="Unknown format"):
        jsonschema_rs.Draft202012Validator({"format": "int32"}, validate_formats=True, ignore_unknown_formats=False)


@pytest.mark.parametrize("till", ACCEPTED)
def test_valid_till_future_reads_every_accepted_form(till: str) -> None:
    """No rule may call an RFC 3339 form unreadable: valid-till-future reads lower case and the leap second too."""
    from coupon_harness.contract.invariants import parse_valid_till

    assert parse_valid_till(till) is not None
