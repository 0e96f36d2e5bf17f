"""The comparison of two answers to one case: what is normalised away, what is a difference, and its group."""

from __future__ import annotations

import random
import string
from typing import Any

import orjson

from coupon_harness.runners.contract.diff_compare import Comparer, Delta, TargetAnswer
from coupon_harness.runners.contract.diff_mapping import BodyMap, coupon_bound

SENT = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def _label(series: Any) -> str:
    return f"series {series}" if series in (101, 102, 103, 999) else "an unknown series"


def _coupon(series: int = 102, **changes: Any) -> dict[str, Any]:
    result = {"code": "K7Q2M9XA1B", "seriesId": series, "description": "Ten percent off", "discountCode": "PERC10",
              "validTill": "2027-02-14T08:00:00Z", "discountType": "PERC", "discountValue": 10, "discountUpto": 200,
              "discountOn": "BILL", "detailedInfo": "10% off, up to 200", "redemptionCount": 0, "id": 7}
    result.update(changes)
    return {k: v for k, v in result.items() if v is not None}


def _ok(*entities: dict[str, Any]) -> TargetAnswer:
    body = {"response": list(entities), "totalCount": len(entities),
            "failureCount": sum(1 for e in entities if e.get("errors"))}
    return TargetAnswer(200, None, "application/json", orjson.dumps(body), SENT)


def _issued(series: int = 102, **changes: Any) -> dict[str, Any]:
    return {"entityId": series, "result": _coupon(series, **changes), "errors": [], "warnings": []}


def _refused(series: int, code: float = 707, **extra: Any) -> dict[str, Any]:
    return {"entityId": series, "errors": [{"code": code, "message": f"series {series} is refused"}],
            "warnings": [], **extra}


def _compare(a: TargetAnswer, b: TargetAnswer, series_map: dict[int, int] | None = None) -> list[Delta]:
    body_map = BodyMap(series_map or {}, {})
    return Comparer[str](_label, body_map.series_id).compare(a, b, "case")


def test_identical_answers_and_per_issue_values_do_not_differ() -> None:
    other = _issued(code="ZZZZ9999QQ", id=12345, validTill="2027-02-14T08:00:01Z")
    reworded = _refused(999)
    reworded["errors"][0]["message"] = "Coupon Series ID = 999 is invalid"
    assert _compare(_ok(_issued(), _refused(999)), _ok(other, reworded)) == []


def test_numbers_by_value_key_order_offsets_and_null_result_are_normalised() -> None:
    a = _ok(_issued(discountValue=500, discountUpto=0), _refused(999))
    reordered = dict(reversed(list(_coupon(discountValue=500.0, discountUpto=0.0,
                                           validTill="2027-02-14T13:30:00+05:30").items())))
    b = _ok({"warnings": [], "errors": [], "result": reordered, "entityId": 102}, _refused(999, result=None))
    assert _compare(a, b) == []


def test_status_differences_come_alone() -> None:
    error = TargetAnswer(400, None, "application/json", b'{"errors": [{"code": 756, "message": "bad"}]}', SENT)
    assert _compare(_ok(_issued()), error) == [Delta("status", "status", "200", "400")]
    hung = TargetAnswer(None, "timeout", "", b"", SENT)
    assert _compare(error, hung) == [Delta("status", "status", "400", "no answer (timeout)")]


def test_a_changed_attribute_is_named_with_its_series_and_values() -> None:
    assert _compare(_ok(_issued()), _ok(_issued(discountValue=15))) == [
        Delta("attributes", "series 102: result.discountValue", "10", "15")]
    assert _compare(_ok(_issued()), _ok(_issued(description="Ten percent off!"))) == [
        Delta("attributes", "series 102: result.description", '"Ten percent off"', '"Ten percent off!"')]


def test_validity_is_compared_relative_to_the_issue_time() -> None:
    later = TargetAnswer(200, None, "application/json", _ok(_issued(validTill="2027-02-14T08:00:02Z")).body, SENT + 2)
    assert _compare(_ok(_issued()), later) == []  # B was asked 2 s later: the same 30 days
    assert _compare(_ok(_issued()), _ok(_issued(validTill="2027-03-16T08:00:00Z"))) == [
        Delta("attributes", "series 102: result.validTill", "30 days after issue", "60 days after issue")]


def test_entity_outcome_and_error_codes() -> None:
    assert _compare(_ok(_issued()), _ok(_refused(102, 712))) == [
        Delta("entity outcome", "series 102", "issued", "refused (712)")]
    assert _compare(_ok(_refused(999)), _ok(_refused(999, 708))) == [
        Delta("error codes", "series 999: errors[].code", "707", "708")]
    assert _compare(_ok(_refused(48123)), _ok(_refused(48123, 708))) == [
        Delta("error codes", "an unknown series: errors[].code", "707", "708")]
    assert _compare(_ok(_refused(999, 707.0)), _ok(_refused(999))) == []
    assert _compare(_ok(_issued(), _issued(101)), _ok(_issued())) == [
        Delta("entity outcome", "number of entities", "2", "1")]


def test_a_missing_or_retyped_field_is_a_shape_difference() -> None:
    assert _compare(_ok(_issued()), _ok(_issued(detailedInfo=None))) == [
        Delta("response shape", "series 102: result.detailedInfo", "present", "missing")]
    assert _compare(_ok(_issued()), _ok(_issued(discountValue="10"))) == [
        Delta("response shape", "series 102: result.discountValue", "number", "string")]
    assert _compare(_ok(_issued()), _ok(_issued(couponType="DISC_CODE"))) == [
        Delta("response shape", "series 102: result.couponType", "missing", "present")]


def test_error_envelopes_compare_codes_not_messages() -> None:
    def error(body: bytes, content_type: str = "application/json") -> TargetAnswer:
        return TargetAnswer(400, None, content_type, body, SENT)

    envelope = b'{"errors": [{"code": 756, "message": "bad"}], "warnings": []}'
    assert _compare(error(envelope), error(envelope.replace(b"bad", b"other"))) == []
    assert _compare(error(envelope), error(envelope.replace(b"756", b"757"))) == [
        Delta("error codes", "errors[].code", "756", "757")]
    assert _compare(error(envelope), error(b"<html>bad</html>", "text/html")) == [
        Delta("response shape", "Content-Type", "application/json", "text/html"),
        Delta("response shape", "body", "JSON", "not JSON")]


def test_mapped_series_line_up() -> None:
    b = _ok(_issued(5002))
    assert _compare(_ok(_issued()), b, {102: 5002}) == []
    assert _compare(_ok(_issued()), b) == [Delta("attributes", "series 102: entityId", "102", "5002"),
                                            Delta("attributes", "series 102: result.seriesId", "102", "5002")]


def test_codes_are_compared_by_their_shape_over_the_run() -> None:
    comparer = Comparer[str](_label, lambda s: s)
    for n in range(10):
        a = _ok(_issued(code=f"CH{n:010d}"))
        b = _ok(_issued(code=f"{n:012d}"))
        assert comparer.compare(a, b, f"case {n}") == []
    deltas = dict((d.where, (d.base, d.against, case)) for d, case in comparer.codes.deltas())
    assert deltas == {"series 102: result.code prefix": ('"CH000000000"', '"00000000000"', "case 0")}
    rng = random.Random(5)
    alphabet = string.ascii_uppercase + string.digits
    other_alphabet = Comparer[str](_label, lambda s: s)
    for n in range(10):
        digits = "".join(rng.choice(string.digits) for _ in range(10))
        mixed = "".join(rng.choice(alphabet) for _ in range(10))
        other_alphabet.compare(_ok(_issued(code=f"CH{digits}")), _ok(_issued(code=f"CH{mixed}")), f"case {n}")
    assert [d for d, _ in other_alphabet.codes.deltas()] == [
        Delta("attributes", "series 102: result.code characters after the prefix", "digits",
              "digits, upper-case letters")]
    same = Comparer[str](_label, lambda s: s)
    for n in range(10):
        same.compare(_ok(_issued(code=f"{n}ABCDEFGH{n}")), _ok(_issued(code=f"{(n + 1) % 10}QRSTUVWX{n}")), "c")
    assert same.codes.deltas() == []
    short = Comparer[str](_label, lambda s: s)
    short.compare(_ok(_issued(code="ABCDEFGHIJ")), _ok(_issued(code="ABCDEFGH")), "c")
    assert [d for d, _ in short.codes.deltas()] == [
        Delta("attributes", "series 102: result.code length", "10 characters", "8 characters")]


def test_the_body_map_rewrites_series_and_customers_only() -> None:
    body_map = BodyMap({101: 5001, 102: 5002}, {"c1": "d1"})
    assert body_map.body(b'{"seriesIds":[101,102,1010,101.0,101.5,-101],"customer":{"id":"c1"},"n":101}') == \
        b'{"seriesIds":[5001,5002,1010,5001.0,101.5,-101],"customer":{"id":"d1"},"n":101}'
    assert body_map.body(b'{"SeriesIds":" 101","customer":{"id":"c1x"}}') == \
        b'{"SeriesIds":" 5001","customer":{"id":"c1x"}}'
    assert body_map.body(b'{"seriesIds":[101e0,0x65],"customer":{"id":"c1"}}') == \
        b'{"seriesIds":[101e0,0x65],"customer":{"id":"d1"}}'
    assert BodyMap({}, {}).body(b"\xff not json") == b"\xff not json"
    assert coupon_bound(b'{"seriesIds":[1,2,3],"customer":{"id":"c"}}') == 3
    assert coupon_bound(b'{"seriesIds":[1],"seriesIds":[2,3]}') == 3
    assert coupon_bound(b"not json") == 1
    assert coupon_bound(None) == 0
