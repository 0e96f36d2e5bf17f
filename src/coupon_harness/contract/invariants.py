"""The per-response rules: schema, then the named invariants of contracts/rules.yaml, in one pass.

`check_response` is on the load runner's hot path (every response of a load run goes through it), so
it walks the body once and allocates little; the rules that need memory across responses (unique codes
across customers, stable series attributes) live in `ledger.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeGuard

from coupon_harness.contract.catalog import RuleId
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.ledger import series_attributes
from coupon_harness.contract.schemas import response_validator, schema_errors
from coupon_harness.contract.violations import Violation, shown

__all__ = ["RESPONSE_RULES", "EntityTally", "IssueCall", "check_response", "is_number", "parse_valid_till", "shown"]

#: Rules judged on every 200 body by check_response (those with `needs` only when the need is met).
RESPONSE_RULES = (
    RuleId.RESPONSE_SCHEMA,
    RuleId.ERRORS_WARNINGS_ARRAYS,
    RuleId.TOTAL_COUNT,
    RuleId.ENTITY_ORDER,
    RuleId.FAILURE_COUNT,
    RuleId.ENTITY_SHAPE,
    RuleId.RESULT_SERIES_ID,
    RuleId.CODE_NON_EMPTY,
    RuleId.VALID_TILL_FUTURE,
    RuleId.REDEMPTION_COUNT_ZERO,
    RuleId.DISCOUNT_RANGE,
    RuleId.VALID_SERIES_ISSUES,
    RuleId.INVALID_SERIES_REFUSED,
    RuleId.UNIQUE_CODES,
)

# A timestamp without an offset could be in any zone from UTC-12 to UTC+14; it is surely past only when
# it is past even read in the westernmost zone, UTC-12, where its UTC instant is 12 hours later.
_NAIVE_ALLOWANCE = timedelta(hours=12)


@dataclass(slots=True)
class IssueCall:
    """The request side of one bulk issue, as the invariants need it."""

    series_ids: Sequence[int]
    customer_id: str | None
    issued_at: datetime
    #: The harness made this customer up for this run, so it holds no coupon yet and
    #: a valid series must issue to it (the first time in the run).
    fresh_customer: bool = False
    #: The answer's own Date header (POSIX seconds: the server's clock, so no skew allowance), when it sent one.
    #: A coupon must outlive it: validTill at or before it is a coupon dead on arrival.
    answered_at: float | None = None


@dataclass(slots=True)
class EntityTally:
    """Per-entity figures a load run counts, gathered during the same walk as the checks."""

    invalid_series: frozenset[int]
    entities: int = 0
    failures: int = 0
    expected_entities: int = 0
    expected_failures: int = 0
    other_entities: int = 0
    unexpected_failures: int = 0
    error_codes: list[int] = field(default_factory=list)
    #: Coupons issued: (series id, code).
    coupons: list[tuple[int, str]] = field(default_factory=list)
    #: The series attributes of each coupon (`ledger.series_attributes`), in the order of `coupons`.
    attributes: list[tuple[Any, ...]] = field(default_factory=list)


_NUMBER_TYPES = frozenset({int, float})


def is_number(value: object) -> TypeGuard[int | float]:
    return type(value) in _NUMBER_TYPES


@lru_cache(maxsize=4096)
def _valid_till_seconds(value: str) -> tuple[float, bool] | None:
    """validTill -> (POSIX seconds, it had no offset), or None when it does not parse. Cached: a series answers
    the same validTill to many calls (the load runner's hot path)."""
    parsed = parse_valid_till(value)
    if parsed is None:
        return None
    naive = parsed.tzinfo is None
    return (parsed.replace(tzinfo=UTC) if naive else parsed).timestamp(), naive


def parse_valid_till(value: object) -> datetime | None:
    """ISO 8601, any offset (or none), and every RFC 3339 form: `t`/`z` in lower case and the leap second `:60`
    (read as :59), which Python's fromisoformat refuses; whether the form is RFC 3339 is response-schema's
    question (a strict format), not this one's."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    text = value.upper()
    if len(text) > 19 and text[10] == "T" and text[16:19] == ":60":
        text = text[:17] + "59" + text[19:]
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


#: What a format violation expected, in words a reader can act on (contract.schemas asserts the formats).
_FORMAT_EXPECTED = {
    "date-time": "an RFC 3339 date-time (2027-12-07T02:07:58Z, 2027-12-07T08:07:58.250+05:30: T, an offset Z or "
                 "+HH:MM with its colon)",
}


def _schema_violations(body: Any) -> list[Violation]:
    found: list[Violation] = []
    try:
        errors = schema_errors("response", body, limit=5)
    except ValueError as exc:  # jsonschema-rs cannot read the body: nested 256+ deep, a lone surrogate
        return [Violation(RuleId.RESPONSE_SCHEMA, "unreadable", "the response schema",
                          f"a body the schema validator cannot read: {str(exc)[:120]}")]
    for error in errors:
        tail = error.pointer.rsplit("/", 1)[-1]
        if error.pointer.count("/") == 3 and tail in ("errors", "warnings") and error.keyword in (
            "type",
            "required",
        ):
            found.append(Violation(RuleId.ERRORS_WARNINGS_ARRAYS, tail, "an array", error.message))
        elif error.keyword == "required" and ('"errors"' in error.message or '"warnings"' in error.message):
            found.append(Violation(RuleId.ERRORS_WARNINGS_ARRAYS, "absent", "an array",
                                   f"{error.pointer}: {error.message}"))
        else:
            # The key keeps the location without indexes, so entity 0 and entity 7 count as one kind.
            shape = "/".join("*" if part.isdigit() else part for part in error.pointer.split("/"))
            expected = _FORMAT_EXPECTED.get(error.message.rsplit(" ", 1)[-1].strip('"'), "the response schema") \
                if error.keyword == "format" else "the response schema"
            found.append(Violation(RuleId.RESPONSE_SCHEMA, f"{shape}:{error.keyword}", expected,
                                   f"{error.pointer}: {error.message}"))
    return found


# Complexity allowed: the load runner's hot path: every rule of one answer in one pass over its body.
def check_response(call: IssueCall, body: Any, expectations: Expectations,  # noqa: C901, PLR0912
                   tally: EntityTally | None = None) -> list[Violation]:
    """Every per-response rule for a 200 answer whose body parsed as JSON; `tally`, when given, also
    counts the entities (the load runner's figures) in the same walk."""
    try:
        valid = response_validator().is_valid(body)
    except ValueError:  # a lone surrogate (json.loads reads "\ud800"): not UTF-8, so jsonschema-rs cannot take it
        valid = False
    found: list[Violation] = [] if valid else _schema_violations(body)
    if not isinstance(body, dict):
        return found
    entities = body.get("response")
    if not isinstance(entities, list):
        return found
    requested = call.series_ids
    total = body.get("totalCount")
    if is_number(total) and total != len(entities):
        found.append(Violation(RuleId.TOTAL_COUNT, "vs-entries", f"{len(entities)} (entries)",
                               f"totalCount {shown(total)}"))
    if len(entities) != len(requested):
        found.append(Violation(RuleId.TOTAL_COUNT, "entries-vs-request",
                               f"{len(requested)} entries (one per requested series)", f"{len(entities)} entries"))
    failures = 0
    seen_series: set[int] = set()
    codes: dict[str, int] = {}
    min_valid_till = call.issued_at - expectations.clock_skew
    min_seconds = min_valid_till.timestamp()
    for index, entity in enumerate(entities):
        if not isinstance(entity, dict):
            continue
        entity_id = entity.get("entityId")
        requested_id = requested[index] if index < len(requested) else None
        if requested_id is not None and entity_id != requested_id and is_number(entity_id):
            found.append(Violation(RuleId.ENTITY_ORDER, "order", f"entityId {requested_id} at position {index}",
                                   f"entityId {shown(entity_id)}"))
        errors = entity.get("errors")
        result = entity.get("result")
        failed = isinstance(errors, list) and len(errors) > 0
        if failed:
            failures += 1
        # An entity beyond the request names its own series, if it is a number at all (never a list or object).
        series_id = requested_id if requested_id is not None else (entity_id if is_number(entity_id) else None)
        if tally is not None:
            _tally(tally, series_id, errors if failed else None, result)
        if isinstance(errors, list):
            if failed and result is not None:
                found.append(Violation(RuleId.ENTITY_SHAPE, "result-with-errors", "result absent or null beside errors",
                                       f"entity {index}: a result and {len(errors)} error(s)"))
            elif not failed and result is None:
                found.append(Violation(RuleId.ENTITY_SHAPE, "no-result-no-errors", "a result, or non-empty errors",
                                       f"entity {index}: no result and no errors"))
        first_in_batch = series_id not in seen_series
        seen_series.add(series_id)  # type: ignore[arg-type]
        coupon = result if isinstance(result, dict) and not failed else None
        if series_id in expectations.invalid_series and isinstance(result, dict):
            found.append(Violation(RuleId.INVALID_SERIES_REFUSED, "coupon", "an entity error",
                                   f"series {shown(series_id)} issued coupon {shown(result.get('code'))}"))
        if (call.fresh_customer and first_in_batch and series_id in expectations.valid_series
                and coupon is None and isinstance(errors, list)):
            hint = (" (the target does not know made-up customers? pass --customer-ids)"
                    if errors and all(isinstance(e, dict) and e.get("code") in (701, 721) for e in errors) else "")
            found.append(Violation(RuleId.VALID_SERIES_ISSUES, "refused", "a coupon",
                                   f"series {shown(series_id)} answered errors {_codes(errors)}{hint}"))
        if coupon is not None:
            _check_coupon(found, index, entity_id, coupon, min_valid_till, min_seconds, call.answered_at)
            code = coupon.get("code")
            if isinstance(code, str) and code:
                if code in codes and series_id not in expectations.generic_series:
                    found.append(Violation(RuleId.UNIQUE_CODES, "within-response", "distinct codes within a response",
                                           f"code {code!r} at entities {codes[code]} and {index}"))
                codes[code] = index
    failure_count = body.get("failureCount")
    if is_number(failure_count) and failure_count != failures:
        found.append(Violation(RuleId.FAILURE_COUNT, "mismatch", f"{failures} (entries with errors)",
                               f"failureCount {shown(failure_count)}"))
    return found


def _tally(tally: EntityTally, series: Any, errors: list[Any] | None, result: Any) -> None:
    tally.entities += 1
    if series in tally.invalid_series:
        tally.expected_entities += 1
        tally.expected_failures += errors is not None
    else:
        tally.other_entities += 1
        tally.unexpected_failures += errors is not None
    if errors is not None:
        tally.failures += 1
        for error in errors:
            code = error.get("code") if isinstance(error, dict) else None
            if type(code) is int:
                tally.error_codes.append(code)
    elif isinstance(result, dict):
        code = result.get("code")
        if isinstance(code, str) and code and type(series) is int:
            tally.coupons.append((series, code))
            tally.attributes.append(series_attributes(result))


def _codes(errors: list[Any]) -> str:
    codes = [error.get("code") if isinstance(error, dict) else "?" for error in errors[:3]]
    return ",".join(code[:40] if isinstance(code, str) else shown(code, 40) for code in codes) or "[]"


def _check_coupon(found: list[Violation], index: int, entity_id: Any, result: dict[str, Any],
                  min_valid_till: datetime, min_seconds: float, answered_at: float | None = None) -> None:
    numbers = _NUMBER_TYPES
    series_id = result.get("seriesId")
    if type(series_id) in numbers and series_id != entity_id:
        found.append(Violation(RuleId.RESULT_SERIES_ID, "mismatch", f"seriesId {shown(entity_id)} (the entityId)",
                               f"seriesId {shown(series_id)}"))
    code = result.get("code")
    if code is not None and (not isinstance(code, str) or not code.strip()):
        found.append(Violation(RuleId.CODE_NON_EMPTY, "empty", "a non-empty code",
                               f"entity {index}: code {shown(code)}"))
    raw_till = result.get("validTill")
    if type(raw_till) is str:
        till = _valid_till_seconds(raw_till)
        if till is None:
            found.append(Violation(RuleId.VALID_TILL_FUTURE, "unparseable", "an ISO 8601 timestamp",
                                   f"validTill {raw_till!r}"))
        else:
            seconds, naive = till
            if seconds < (min_seconds - _NAIVE_ALLOWANCE.total_seconds() if naive else min_seconds):
                found.append(Violation(RuleId.VALID_TILL_FUTURE, "past", f"after {min_valid_till.isoformat()}",
                                       f"validTill {raw_till}"))
            elif answered_at is not None and not naive and seconds <= answered_at:
                dated = datetime.fromtimestamp(answered_at, UTC).isoformat()
                found.append(Violation(RuleId.VALID_TILL_FUTURE, "dead-on-arrival",
                                       f"after the answer's own Date, {dated}", f"validTill {raw_till}"))
    redemptions: Any = result.get("redemptionCount")
    if type(redemptions) in numbers and redemptions != 0:
        found.append(Violation(RuleId.REDEMPTION_COUNT_ZERO, "non-zero", "redemptionCount 0",
                               f"redemptionCount {shown(redemptions)}"))
    value: Any = result.get("discountValue")
    upto: Any = result.get("discountUpto")
    value_is_number = type(value) in numbers
    if value_is_number and value < 0:
        found.append(Violation(RuleId.DISCOUNT_RANGE, "negative-value", "discountValue >= 0",
                               f"discountValue {shown(value)}"))
    if type(upto) in numbers and upto < 0:
        found.append(Violation(RuleId.DISCOUNT_RANGE, "negative-upto", "discountUpto >= 0",
                               f"discountUpto {shown(upto)}"))
    if value_is_number and value > 100 and result.get("discountType") == "PERC":
        found.append(Violation(RuleId.DISCOUNT_RANGE, "perc-over-100", "a PERC discountValue <= 100",
                               f"discountValue {shown(value)}"))

