"""A mutation self-test of check_response: every mutant of a correct answer must be flagged by its rule.

The mutants are generated, not listed: the schema walk (contracts/schemas/) drops, nulls, retypes and
extends every field of a correct 200 answer, and the rule catalog (contracts/rules.yaml) supplies the
bounds, counts and relations that only the named invariants can see. Whether a schema mutant breaks the
schema is decided by a small interpreter of the schema keywords below, not by the validator under test.

A change the contract documents as legitimate is an equivalent mutant: it is kept (and must pass with no
violation at all) but is not counted. EXCLUSIONS lists every such reason; nothing is excluded because
it survived.
"""

from __future__ import annotations

import calendar
import copy
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any

import pytest

from coupon_harness.contract.catalog import rules
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.invariants import RESPONSE_RULES, IssueCall, check_response
from coupon_harness.contract.schemas import load_schema

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
VALID, OTHER_VALID, INVALID = 544770, 553379, 999
EXPECT = Expectations(valid_series=frozenset({VALID, OTHER_VALID}), invalid_series=frozenset({INVALID}))
CALL = IssueCall([VALID, INVALID], "c-mutant", NOW, fresh_customer=True)
TWO_VALID_CALL = IssueCall([VALID, OTHER_VALID, INVALID], "c-mutant", NOW, fresh_customer=True)

Path = tuple[str | int, ...]


def coupon(series: int, code: str) -> dict[str, Any]:
    return {
        "code": code, "seriesId": series, "description": "Festival coupon", "discountCode": "erg123",
        "validTill": "2029-05-09T00:00:00Z", "discountType": "ABS", "discountValue": 500, "discountUpto": 0,
        "discountOn": "BILL", "detailedInfo": "Evil coupon", "redemptionCount": 0, "id": 0,
    }


def success(series: int, code: str) -> dict[str, Any]:
    return {"entityId": series, "result": coupon(series, code), "errors": [], "warnings": []}


def failure(series: int, code: int = 707) -> dict[str, Any]:
    return {"entityId": series, "errors": [{"code": code, "message": "Coupon Series ID is invalid"}], "warnings": []}


def _failed(entity: Any) -> bool:
    return isinstance(entity, dict) and isinstance(entity.get("errors"), list) and len(entity["errors"]) > 0


def answer(*entities: Any) -> dict[str, Any]:
    """A body whose counts agree with its entities."""
    return {"response": list(entities), "totalCount": len(entities),
            "failureCount": sum(1 for entity in entities if _failed(entity))}


BASE = answer(success(VALID, "TPLPYOEYOT"), failure(INVALID))
TWO_VALID_BASE = answer(success(VALID, "TPLPYOEYOT"), success(OTHER_VALID, "9WJIGHOBRL"), failure(INVALID))
ROLES = {index: "failure" if _failed(entity) else "success" for index, entity in enumerate(BASE["response"])}
SUCCESS, FAILURE = (next(i for i, role in ROLES.items() if role == wanted) for wanted in ("success", "failure"))

#: The equivalent mutants: variations the contract documents as legitimate (where, in brackets).
#: A mutant classified here must pass check_response with no violation at all.
EXCLUSIONS = {
    "integral-float": "an integer sent as an integral float such as 500.0 [response schema: 'numbers may be "
                      "sent as 500.0']",
    "number-fraction": "discountValue/discountUpto are of type number: a fraction is as good as an integer "
                       "[response schema]",
    "failure-result": "result absent or null on a failed entity [rules.yaml entity-shape]",
    "optional-field": "a field the schema does not require (error.status) may be absent, or present with its "
                      "type [error schema]",
    "warnings-items": "warnings[] items are unconstrained [response schema: warnings has no items]",
    "extra-field": "extra fields are allowed everywhere [response schema: 'Extra fields ... are allowed']",
    "abs-over-100": "only a PERC discountValue is capped at 100; an ABS one may be any amount >= 0 "
                    "[rules.yaml discount-range]",
    "in-range": "a value on or inside the bound a rule states (>= 0 and <= 100 are inclusive, a code of "
                "digits is a code, validTill may lag the issue time by the clock skew) [rules.yaml]",
    "valid-till-forms": "validTill with any UTC offset [rules.yaml valid-till-future; response schema: format "
                        "date-time, RFC 3339]",
    "generic-code": "GENERIC series may repeat one code [rules.yaml unique-codes: 'GENERIC series excepted']",
}


@dataclass(frozen=True, slots=True)
class Mutant:
    description: str
    body: Any
    #: The rules that may flag it; empty for an equivalent mutant.
    rules: frozenset[str]
    call: IssueCall
    expectations: Expectations
    excluded_by: str | None = None

    def broken(self) -> set[str]:
        return {v.rule_id for v in check_response(self.call, self.body, self.expectations)}

    def killed(self) -> bool:
        return bool(self.broken() & self.rules)


def _mutant(description: str, body: Any, broken: set[str] | frozenset[str] | None = None, *,
            excluded_by: str | None = None, call: IssueCall = CALL,
            expectations: Expectations = EXPECT) -> Mutant:
    assert (broken is None) == (excluded_by is not None), description
    assert excluded_by is None or excluded_by in EXCLUSIONS, excluded_by
    return Mutant(description, body, frozenset(broken or ()), call, expectations, excluded_by)


# --- The schema, read as data ------------------------------------------------------------------------

_DOCS = {"bulk-issue-response.schema.json": "response", "bulk-issue-error.schema.json": "error"}
#: The keywords _conforms understands; a schema using any other fails test_schema_keywords_are_understood.
_UNDERSTOOD = frozenset({"$schema", "$id", "$ref", "$defs", "title", "description", "type", "required",
                         "properties", "items", "enum", "format"})

#: RFC 3339 section 5.6, read here independently of the validator under test (jsonschema-rs).
_DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))")


def _is_date_time(value: str) -> bool:
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 60:
        return False
    if match.group(9) is not None and (int(match.group(9)) > 23 or int(match.group(10)) > 59):
        return False
    return 1 <= day <= calendar.monthrange(year, month)[1]


_FORMATS: dict[str, Callable[[str], bool]] = {"date-time": _is_date_time}


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    while "$ref" in schema:
        target, _, fragment = schema["$ref"].partition("#")
        if target:
            doc = load_schema(_DOCS[target])
        schema = doc
        for part in filter(None, fragment.split("/")):
            schema = schema[part]
    return schema, doc


def _keywords(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            children = value.values() if key in ("properties", "$defs") and isinstance(value, dict) else [value]
            for child in children:
                found |= _keywords(child)
    return found


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    # JSON Schema: an integer is any number with a zero fractional part, so 500.0 is one.
    "integer": lambda v: _is_int(v) or (type(v) is float and v.is_integer()),
    "number": _is_number,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _conforms(value: Any, schema: dict[str, Any], doc: dict[str, Any]) -> bool:
    schema, doc = _resolve(schema, doc)
    if "enum" in schema and not any(type(value) is type(m) and value == m for m in schema["enum"]):
        return False
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPE_TESTS[name](value) for name in types):
            return False
    if "format" in schema and isinstance(value, str) and not _FORMATS[schema["format"]](value):
        return False
    if isinstance(value, dict):
        if any(key not in value for key in schema.get("required", ())):
            return False
        for key, sub in schema.get("properties", {}).items():
            if key in value and not _conforms(value[key], sub, doc):
                return False
    if isinstance(value, list) and "items" in schema:
        return all(_conforms(item, schema["items"], doc) for item in value)
    return True


def _response_conforms(body: Any) -> bool:
    schema = load_schema("response")
    return _conforms(body, schema, schema)


@dataclass(frozen=True, slots=True)
class Slot:
    """A place in the body the schema describes: an object's property (present or not) or an array item."""

    path: Path
    schema: dict[str, Any]
    doc: dict[str, Any]
    required: bool
    present: bool
    is_property: bool


def _slots(value: Any, schema: dict[str, Any], doc: dict[str, Any], path: Path) -> Iterator[Slot]:
    schema, doc = _resolve(schema, doc)
    if isinstance(value, dict):
        required = set(schema.get("required", ()))
        for key, sub in schema.get("properties", {}).items():
            sub_schema, sub_doc = _resolve(sub, doc)
            yield Slot((*path, key), sub_schema, sub_doc, key in required, key in value, True)
            if key in value:
                yield from _slots(value[key], sub_schema, sub_doc, (*path, key))
    elif isinstance(value, list):
        item_schema, item_doc = _resolve(schema.get("items", {}), doc)
        for index, item in enumerate(value):
            yield Slot((*path, index), item_schema, item_doc, True, True, False)
            yield from _slots(item, item_schema, item_doc, (*path, index))


def _name(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "body"


def _get(body: Any, path: Path) -> Any:
    for part in path:
        body = body[part]
    return body


def _set(base: Any, path: Path, value: Any) -> Any:
    body = copy.deepcopy(base)
    if not path:
        return copy.deepcopy(value)
    _get(body, path[:-1])[path[-1]] = copy.deepcopy(value)
    return body


def _canonical(body: Any) -> str:
    """JSON text: unlike ==, tells false from 0 and 0 from 0.0."""
    return json.dumps(body, sort_keys=True)


def _drop(base: Any, path: Path) -> Any:
    body = copy.deepcopy(base)
    del _get(body, path[:-1])[path[-1]]
    return body


# --- Retyping ----------------------------------------------------------------------------------------

KINDS = ("string", "integer", "integral float", "fraction float", "bool", "null", "array", "object")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is bool:
        return "bool"
    if type(value) is int:
        return "integer"
    if type(value) is float:
        return "integral float" if value.is_integer() else "fraction float"
    kinds: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return kinds[type(value)]


def _as_int(value: Any) -> int:
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        return int(value) if value.isdigit() else len(value)
    return len(value) if isinstance(value, list | dict) else 0


def _as(kind: str, value: Any) -> Any:
    """`value` as a value of JSON kind `kind`, as close to the original as the kind allows."""
    if kind == "string":
        return json.dumps(value) if value is not None else "null"
    if kind == "integer":
        return _as_int(value)
    if kind == "integral float":
        return float(_as_int(value))
    if kind == "fraction float":
        return _as_int(value) + 0.5
    if kind == "bool":
        return bool(value) if _is_number(value) else True
    if kind == "null":
        return None
    if kind == "array":
        return [] if value is None else [value]
    return {} if value is None else {"value": value}


# --- Schema mutants ----------------------------------------------------------------------------------

def _schema_rule(path: Path) -> str:
    """The rule a schema breach at `path` is reported under: an entity's errors/warnings that are not
    arrays (rules.yaml errors-warnings-arrays), anything else the response schema."""
    if len(path) == 3 and path[0] == "response" and path[2] in ("errors", "warnings"):
        return "errors-warnings-arrays"
    return "response-schema"


def _conforming_verdict(path: Path, slot: Slot, old: Any, new: Any, absent: bool) -> tuple[set[str] | None, str]:
    """A change the schema accepts: the named invariant it breaks, or the documented variation it is.

    Returns (rules, "") for a breach, (None, exclusion) for an equivalent mutant.
    """
    field = path[-1]
    role = ROLES.get(path[1]) if len(path) > 1 and path[0] == "response" and isinstance(path[1], int) else None
    if len(path) == 3 and field == "result" and (absent or new is None):
        if role == "failure":
            return None, "failure-result"
        # A success without its result (rules.yaml entity-shape); a fresh customer's valid series has no coupon.
        return {"entity-shape", "valid-series-issues"}, ""
    if "warnings" in path[:-1]:
        return None, "warnings-items"
    if _is_int(old) and type(new) is float and new == old:
        return None, "integral-float"
    if slot.schema.get("type") == "number" and _is_number(new) and new >= 0:
        return None, "number-fraction"
    if slot.is_property and not slot.required and (absent or _conforms(new, slot.schema, slot.doc)):
        return None, "optional-field"
    if field == "discountType" and new == "PERC":
        result = _get(BASE, path[:-1])
        if result["discountValue"] > 100:  # a PERC discountValue is <= 100 (rules.yaml discount-range)
            return {"discount-range"}, ""
    raise AssertionError(f"unclassified schema-conforming mutant at {_name(path)}: {new!r}")


def _judged(description: str, body: Any, path: Path, slot: Slot, old: Any, new: Any,
            absent: bool = False) -> Mutant:
    if not _response_conforms(body):
        return _mutant(description, body, {_schema_rule(path)})
    broken, exclusion = _conforming_verdict(path, slot, old, new, absent)
    if broken is None:
        return _mutant(description, body, excluded_by=exclusion)
    return _mutant(description, body, broken)


def schema_mutants() -> Iterator[Mutant]:
    schema = load_schema("response")
    root = Slot((), schema, schema, True, True, False)
    for slot in (root, *_slots(BASE, schema, schema, ())):
        path, name = slot.path, _name(slot.path)
        if not slot.present:
            for kind in KINDS:
                new = _as(kind, None)
                yield _judged(f"set absent {name} to {kind}", _set(BASE, path, new), path, slot, None, new)
            continue
        old = _get(BASE, path)
        if slot.is_property:
            yield _judged(f"drop {name}", _drop(BASE, path), path, slot, old, None, absent=True)
        for kind in KINDS:
            if kind != _kind(old):
                new = _as(kind, old)
                verb = f"null {name}" if kind == "null" else f"retype {name} to {kind}"
                yield _judged(verb, _set(BASE, path, new), path, slot, old, new)
        # An enum: each other member, and near misses of each (case, padding, blank).
        enum = slot.schema.get("enum", [])
        for new in sorted({v for m in enum for v in (m, m.lower(), f" {m}", "")} - {old} if enum else ()):
            yield _judged(f"set {name} to {new!r}", _set(BASE, path, new), path, slot, old, new)
        if isinstance(old, dict):
            extended = _set(BASE, (*path, "unexpectedField"), {"x": [1, None]})
            assert _response_conforms(extended)
            yield _mutant(f"add {name}.unexpectedField", extended, excluded_by="extra-field")
        if isinstance(old, list):
            for kind in KINDS:
                new = _as(kind, None)
                item = (*path, len(old))
                article = "an" if kind[0] in "aeiou" else "a"
                yield _judged(f"append {article} {kind} to {name}", _set(BASE, path, [*old, new]), item,
                              Slot(item, {}, schema, True, True, False), None, new)


# --- Rule-catalog mutants ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Bound:
    """A value bound a rule of rules.yaml states for a coupon field (when `when` holds)."""

    rule: str
    field: str
    op: str
    bound: int
    when: tuple[tuple[str, Any], ...] = ()


BOUNDS = (
    Bound("discount-range", "discountValue", ">=", 0),
    Bound("discount-range", "discountUpto", ">=", 0),
    Bound("discount-range", "discountValue", "<=", 100, (("discountType", "PERC"),)),
    Bound("redemption-count-zero", "redemptionCount", "==", 0),
    Bound("result-series-id", "seriesId", "==", VALID),  # the success entity's entityId
)


def _outside(op: str, bound: int) -> list[int | float]:
    return {">=": [bound - 1, bound - 0.01, float(bound - 1000)],
            "<=": [bound + 0.01, bound + 1, bound * 10],
            "==": [bound + 1, bound - 1, float(bound + 1), 2**31]}[op]


def _inside(op: str, bound: int) -> list[int | float]:
    return [bound, float(bound)] if op in (">=", "<=") else [float(bound)]


def _coupon_with(field_values: dict[str, Any]) -> Any:
    body = copy.deepcopy(BASE)
    body["response"][SUCCESS]["result"].update(field_values)
    return body


def _describe(field_values: dict[str, Any]) -> str:
    where = _name(("response", SUCCESS, "result"))
    return " and ".join(f"set {where}.{key} to {value!r}" for key, value in field_values.items())


def bound_mutants() -> Iterator[Mutant]:
    coupon_schema, _ = _resolve({"$ref": "#/$defs/coupon"}, load_schema("response"))
    for bound in BOUNDS:
        when = dict(bound.when)
        for value in _outside(bound.op, bound.bound):
            changes = {**when, bound.field: value}
            yield _mutant(_describe(changes), _coupon_with(changes), {bound.rule})
            # The same value where the condition does not hold (another member of the field's enum).
            for key, wanted in bound.when:
                for other in coupon_schema["properties"][key]["enum"]:
                    if other != wanted:
                        changes = {key: other, bound.field: value}
                        yield _mutant(_describe(changes), _coupon_with(changes), excluded_by="abs-over-100")
        for value in _inside(bound.op, bound.bound):
            changes = {**when, bound.field: value}
            if _canonical(_coupon_with(changes)) != _canonical(BASE):
                yield _mutant(_describe(changes), _coupon_with(changes),
                              excluded_by="integral-float" if bound.op == "==" else "in-range")


def valid_till_mutants() -> Iterator[Mutant]:
    """validTill is an ISO 8601 timestamp (any offset) later than the issue time minus the clock skew."""
    edge = NOW - EXPECT.clock_skew
    second = timedelta(seconds=1)
    zones = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)))
    # Without an offset a timestamp may be in any zone from UTC-12 to UTC+14: it is surely past only when
    # it is past even read in UTC-12, the westernmost zone (then its UTC instant is 12 hours later).
    westernmost = timedelta(hours=12)
    past = [(edge - second).astimezone(zone).isoformat() for zone in zones]
    past += ["2020-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00",
             (edge - westernmost - second).replace(tzinfo=None).isoformat()]
    unparseable = ["", "next tuesday", "2029-13-01T00:00:00Z", "2029-05-09T25:00:00Z", "09/05/2029"]
    for value in past + unparseable:
        yield _mutant(_describe({"validTill": value}), _coupon_with({"validTill": value}), {"valid-till-future"})
    for value in [(edge + second).astimezone(zone).isoformat() for zone in zones]:
        yield _mutant(_describe({"validTill": value}), _coupon_with({"validTill": value}), excluded_by="in-range")
    for value in ["2029-05-09T05:30:00+05:30", "9999-12-31T23:59:59-12:00", "2029-05-09t00:00:00.123456z"]:
        yield _mutant(_describe({"validTill": value}), _coupon_with({"validTill": value}),
                      excluded_by="valid-till-forms")
    # Forms a lenient parser (fromisoformat) reads, in the future: only the format breaks (RFC 3339).
    for value in ["2029-05-09T00:00:00", (edge - westernmost + second).replace(tzinfo=None).isoformat(),
                  "2029-05-09T00:00:00+0000", "2029-05-09 00:00:00Z", "2029-05-09", "2029-05-09T00:00:00,5Z"]:
        yield _mutant(_describe({"validTill": value}), _coupon_with({"validTill": value}), {"response-schema"})


def code_mutants() -> Iterator[Mutant]:
    """On success, result.code is a non-empty string (rules.yaml code-non-empty)."""
    for value in ["", " ", "\t\n", "\u00a0"]:
        yield _mutant(_describe({"code": value}), _coupon_with({"code": value}), {"code-non-empty"})
    for value in ["0", "1234567890", "A B"]:
        yield _mutant(_describe({"code": value}), _coupon_with({"code": value}), excluded_by="in-range")


def count_mutants() -> Iterator[Mutant]:
    """totalCount and failureCount count the entities (rules.yaml total-count, failure-count)."""
    for field, rule in (("totalCount", "total-count"), ("failureCount", "failure-count")):
        for delta in (1, -1):
            value = BASE[field] + delta
            yield _mutant(f"set {field} to {value} ({delta:+d})", _set(BASE, (field,), value), {rule})


def entity_mutants() -> Iterator[Mutant]:
    """The relations between the request and the entities (rules.yaml total-count, entity-order,
    entity-shape, valid-series-issues, invalid-series-refused, unique-codes)."""
    entities: list[Any] = BASE["response"]
    requested = list(CALL.series_ids)
    for i in range(len(entities)):
        for j in range(i + 1, len(entities)):
            swapped = list(entities)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            yield _mutant(f"swap response[{i}] and response[{j}]", answer(*swapped), {"entity-order"})
        yield _mutant(f"duplicate response[{i}]", answer(*entities[: i + 1], entities[i], *entities[i + 1:]),
                      {"total-count"})
        yield _mutant(f"drop entity response[{i}]", answer(*entities[:i], *entities[i + 1:]), {"total-count"})
        for other in sorted({*requested, requested[i] + 1} - {requested[i]}):
            moved = copy.deepcopy(entities)
            moved[i]["entityId"] = other
            yield _mutant(f"set response[{i}].entityId to {other}", answer(*moved),
                          {"entity-order", "result-series-id"} if "result" in moved[i] else {"entity-order"})
            if "result" in moved[i]:
                moved[i]["result"]["seriesId"] = other
                yield _mutant(f"set response[{i}].entityId and its result.seriesId to {other}", answer(*moved),
                              {"entity-order"})
    # (Dropping or nulling the success's result is a schema mutant above: "drop response[0].result".)
    transplanted = copy.deepcopy(entities)
    transplanted[FAILURE]["result"] = copy.deepcopy(entities[SUCCESS]["result"])
    yield _mutant(f"add response[{SUCCESS}].result to response[{FAILURE}]", answer(*transplanted),
                  {"entity-shape", "invalid-series-refused"})
    emptied = copy.deepcopy(entities)
    emptied[FAILURE]["errors"] = []
    yield _mutant(f"empty response[{FAILURE}].errors", answer(*emptied), {"entity-shape"})
    issued = list(entities)
    issued[FAILURE] = success(requested[FAILURE], "INVALIDCPN")
    yield _mutant(f"answer the invalid series {requested[FAILURE]} with a coupon", answer(*issued),
                  {"invalid-series-refused"})
    for error_code in (707, 701):
        refused = list(entities)
        refused[SUCCESS] = failure(requested[SUCCESS], error_code)
        yield _mutant(f"answer the valid series {requested[SUCCESS]} (fresh customer) with error {error_code}",
                      answer(*refused), {"valid-series-issues"})
    # unique-codes within one response needs two successes: the call with two valid series.
    repeated = copy.deepcopy(TWO_VALID_BASE)
    repeated["response"][1]["result"]["code"] = repeated["response"][0]["result"]["code"]
    yield _mutant("repeat response[0].result.code at response[1] (two valid series)", repeated, {"unique-codes"},
                  call=TWO_VALID_CALL)
    generic = Expectations(valid_series=EXPECT.valid_series, invalid_series=EXPECT.invalid_series,
                           generic_series=frozenset({VALID, OTHER_VALID}))
    yield _mutant("repeat response[0].result.code at response[1] (two GENERIC series)", repeated,
                  excluded_by="generic-code", call=TWO_VALID_CALL, expectations=generic)


@cache
def all_mutants() -> tuple[Mutant, ...]:
    return (*schema_mutants(), *bound_mutants(), *valid_till_mutants(), *code_mutants(), *count_mutants(),
            *entity_mutants())


MUTANTS = all_mutants()
REAL = [m for m in MUTANTS if m.excluded_by is None]
EQUIVALENT = [m for m in MUTANTS if m.excluded_by is not None]


# --- Tests -------------------------------------------------------------------------------------------

def test_the_starting_answers_pass() -> None:
    assert check_response(CALL, BASE, EXPECT) == []
    assert check_response(TWO_VALID_CALL, TWO_VALID_BASE, EXPECT) == []
    assert _response_conforms(BASE)
    assert _response_conforms(TWO_VALID_BASE)


def test_schema_keywords_are_understood() -> None:
    """_conforms decides which schema mutants break the schema; it must know every keyword used."""
    for name in ("response", "error"):
        assert _keywords(load_schema(name)) <= _UNDERSTOOD, name


def test_generator_makes_enough_distinct_mutants() -> None:
    descriptions = [m.description for m in MUTANTS]
    assert len(descriptions) == len(set(descriptions)), [d for d, n in Counter(descriptions).items() if n > 1]
    assert len(REAL) >= 150
    for mutant in REAL:
        assert _canonical(mutant.body) != _canonical(BASE) or mutant.call is not CALL, mutant.description
    # Each kind of change reaches every level of the body.
    for verb in ("drop", "null", "retype"):
        for where in ("totalCount", "response[0].entityId", "response[0].result.code", "response[1].errors[0].code"):
            assert any(m.description.startswith(f"{verb} {where}") for m in REAL), (verb, where)


def test_every_judged_rule_is_expected_by_some_mutant_and_kills_one() -> None:
    judged = {rule.id for rule in rules() if rule.group in ("schema", "invariant")} & set(RESPONSE_RULES)
    # Cross-response memory (unique-codes across customers, series-attributes-stable) is the Ledger's;
    # unique-codes within one response is check_response's and stays.
    assert judged >= {"response-schema", "errors-warnings-arrays", "unique-codes", "valid-series-issues"}
    assert judged <= set().union(*(m.rules for m in REAL))
    killed_by: set[str] = set()
    for mutant in REAL:
        killed_by |= mutant.broken() & mutant.rules
    assert judged <= killed_by, sorted(judged - killed_by)


def test_mutation_tally() -> None:
    survivors = [m.description for m in REAL if not m.killed()]
    excluded = Counter(m.excluded_by for m in EQUIVALENT)
    print(f"\nmutants: {len(REAL)}, killed: {len(REAL) - len(survivors)}, survivors: {len(survivors)}; "
          f"equivalent (excluded): {len(EQUIVALENT)} {dict(sorted(excluded.items()))}")
    for description in survivors:
        print(f"  survivor: {description}")
    assert not survivors, f"{len(survivors)} of {len(REAL)} mutants survive: " + "; ".join(survivors)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.description for m in MUTANTS])
def test_mutant(mutant: Mutant) -> None:
    broken = mutant.broken()
    if mutant.excluded_by is not None:
        assert broken == set(), f"a legitimate variation ({EXCLUSIONS[mutant.excluded_by]}) is flagged"
    else:
        assert broken & mutant.rules, f"survives: expected one of {sorted(mutant.rules)}, got {sorted(broken)}"
