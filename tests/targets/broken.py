"""Deliberately broken implementations of POST /v2/coupon/bulk/issue, each broken in exactly one way.

Each variant is the sandbox with one `mutate` (rewrites an answer) and/or `before` hook (answers first),
the rule id the harness must name, and the passes that exercise the break (so a test runs only those).
Stateful hooks are built by a factory, so every run starts from a fresh state.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from coupon_harness.contract.schemas import request_validator
from coupon_harness.sandbox.app import Answer, Before, Mutate

__all__ = ["BROKEN", "Broken"]

SANDBOX_USER = "sandbox"
HTML_TRACE = (b"<html><head><title>Error</title></head><body><h1>Bad Request</h1><pre>"
              b"java.lang.NullPointerException\n\tat com.capillary.CouponResource.issue(CouponResource.java:42)"
              b"</pre></body></html>")


@dataclass(frozen=True, slots=True)
class Broken:
    """One broken target: the rule the harness must name and the passes that show the break."""

    name: str
    rule: str
    passes: tuple[str, ...]
    #: A factory of the mutate hook (called once per run: stateful hooks start fresh).
    make_mutate: Callable[[], Mutate] | None = None
    before: Before | None = None
    #: ContractSettings fields to override for this variant (e.g. a short request_timeout).
    settings: dict[str, Any] = field(default_factory=dict)
    #: The rule is a warning: it is WARNED and the gate still holds.
    warning: bool = False
    #: The bug class a finding must name (the classics pass names its probes), "" when none.
    probe: str = ""
    #: Other rules that name the same break rightly, depending on which request a seed draws first
    #: (an odd status to a malformed body breaks rejects-malformed, to a well-formed one documented-status).
    also: tuple[str, ...] = ()

    def mutate(self) -> Mutate | None:
        return self.make_mutate() if self.make_mutate is not None else None


def _plain(fn: Mutate) -> Callable[[], Mutate]:
    return lambda: fn


def _entities(answer: Answer) -> list[dict[str, Any]]:
    """The entities of a 200 body ([] for any other answer)."""
    if answer.status != 200 or not isinstance(answer.body, dict):
        return []
    entities = answer.body.get("response")
    return entities if isinstance(entities, list) else []


def _results(answer: Answer) -> list[dict[str, Any]]:
    return [e["result"] for e in _entities(answer) if isinstance(e.get("result"), dict) and not e.get("errors")]


def _recount(answer: Answer) -> Answer:
    """Keep totalCount and failureCount true after an edit of the entities."""
    entities = _entities(answer)
    answer.body["totalCount"] = len(entities)
    answer.body["failureCount"] = sum(1 for e in entities if e.get("errors"))
    return answer


def _ok_empty(request_answer: Answer) -> Answer:
    return Answer(200, {"response": [], "totalCount": 0, "failureCount": 0}, request_answer.request)


def _coupon(series_id: int) -> dict[str, Any]:
    return {"code": f"FAKE{series_id}X", "seriesId": series_id, "description": "Issued anyway",
            "discountCode": "ANY", "validTill": "2099-12-31T00:00:00Z", "discountType": "ABS",
            "discountValue": 1, "discountUpto": 0, "discountOn": "BILL", "detailedInfo": "",
            "redemptionCount": 0, "id": 0}


# --- http ----------------------------------------------------------------------------------------------

def server_error_on_big_batch(answer: Answer) -> Answer:
    """A batch of more than 10 series crashes the server."""
    body = answer.request_json
    if isinstance(body, dict) and isinstance(body.get("seriesIds"), list) and len(body["seriesIds"]) > 10:
        return Answer(500, b"Internal Server Error", answer.request, {"Content-Type": "text/plain"})
    return answer


def created_201(answer: Answer) -> Answer:
    if answer.status == 200:
        answer.status = 201
    return answer


def malformed_422(answer: Answer) -> Answer:
    if answer.status == 400:
        answer.status = 422
    return answer


def empty_series_accepted(answer: Answer) -> Answer:
    body = answer.request_json
    if answer.status == 400 and isinstance(body, dict) and body.get("seriesIds") == []:
        return _ok_empty(answer)
    return answer


def numeric_customer_accepted(answer: Answer) -> Answer:
    body = answer.request_json
    customer = body.get("customer") if isinstance(body, dict) else None
    if answer.status == 400 and isinstance(customer, dict) and isinstance(customer.get("id"), int):
        return _ok_empty(answer)
    return answer


def unknown_series_400(answer: Answer) -> Answer:
    """An unknown series is answered 400 for the whole request instead of an entity error."""
    for entity in _entities(answer):
        if any(isinstance(e, dict) and e.get("code") == 707 for e in entity.get("errors") or []):
            return Answer(400, {"errors": [{"status": False, "code": 707, "message": "Invalid series"}],
                                "warnings": []}, answer.request)
    return answer


def no_auth_check(answer: Answer) -> Answer:
    """Credentials are never checked: a refusal becomes a (coupon-less) 200."""
    return _ok_empty(answer) if answer.status == 401 else answer


def wrong_password_accepted(answer: Answer) -> Answer:
    """A known user name is enough: the password is not compared."""
    header = answer.request.headers.get("Authorization", "")
    if answer.status == 401 and header.startswith("Basic "):
        try:
            user = base64.b64decode(header[6:], validate=True).decode().split(":", 1)[0]
        except ValueError:
            return answer
        if user == SANDBOX_USER:
            return _ok_empty(answer)
    return answer


def no_allow_header(answer: Answer) -> Answer:
    answer.headers.pop("Allow", None)
    return answer


def get_answered_200(answer: Answer) -> Answer:
    if answer.request.method != "POST":
        return Answer(200, {"response": [], "totalCount": 0, "failureCount": 0}, answer.request)
    return answer


def teapot_for_odd_source(answer: Answer) -> Answer:
    """A `source` query value outside a fixed list is answered 418, a status the contract never documents."""
    source = answer.request.query.get("source")
    known = {"INSTORE", "WEBSITE", "FACEBOOK", "WEB_ENGAGE"}
    if answer.request.method == "POST" and source is not None and source not in known:
        return Answer(418, {"errors": [{"code": 418, "message": "teapot"}], "warnings": []}, answer.request)
    return answer


def html_content_type(answer: Answer) -> Answer:
    if answer.status == 200:
        answer.headers["Content-Type"] = "text/html; charset=utf-8"
    return answer


def body_not_json(answer: Answer) -> Answer:
    if answer.status == 200:
        answer.body = b"OK: coupons issued"
    return answer


def html_trace_400(answer: Answer) -> Answer:
    if answer.status == 400:
        return Answer(400, HTML_TRACE, answer.request, {"Content-Type": "text/html"})
    return answer


async def hang_on_big_batch(request: web.Request) -> web.StreamResponse | None:
    """A batch of more than 10 series never gets an answer in time."""
    if request.method == "POST":
        body = await request.read()
        if body.count(b",") >= 10 and b"seriesIds" in body:
            await asyncio.sleep(3)
    return None


async def drop_on_series_105(request: web.Request) -> web.StreamResponse | None:
    """Series 105 kills the connection without an answer."""
    if request.method == "POST" and b"105" in await request.read() and request.transport is not None:
        request.transport.close()
        await asyncio.sleep(0.2)
    return None


# --- schema --------------------------------------------------------------------------------------------

def discount_value_string(answer: Answer) -> Answer:
    for result in _results(answer):
        result["discountValue"] = str(result["discountValue"])
    return answer


def missing_discount_code(answer: Answer) -> Answer:
    for result in _results(answer):
        result.pop("discountCode", None)
    return answer


def errors_null(answer: Answer) -> Answer:
    for entity in _entities(answer):
        if not entity.get("errors"):
            entity["errors"] = None
    return answer


def warnings_missing(answer: Answer) -> Answer:
    for entity in _entities(answer):
        entity.pop("warnings", None)
    return answer


# --- invariants ----------------------------------------------------------------------------------------

def total_count_off_by_one(answer: Answer) -> Answer:
    if _entities(answer):
        answer.body["totalCount"] += 1
    return answer


def entity_dropped(answer: Answer) -> Answer:
    """The last entity of a batch of two or more goes missing (counts kept true to what is sent)."""
    entities = _entities(answer)
    if len(entities) >= 2:
        entities.pop()
        return _recount(answer)
    return answer


def entities_reversed(answer: Answer) -> Answer:
    entities = _entities(answer)
    if len({e.get("entityId") for e in entities}) > 1:
        entities.reverse()
    return answer


def failure_count_zero(answer: Answer) -> Answer:
    if _entities(answer):
        answer.body["failureCount"] = 0
    return answer


def result_beside_errors(answer: Answer) -> Answer:
    for entity in _entities(answer):
        if entity.get("errors"):
            entity["result"] = _coupon(entity["entityId"])
    return answer


def series_id_mismatch(answer: Answer) -> Answer:
    for result in _results(answer):
        result["seriesId"] = result["seriesId"] + 1
    return answer


def empty_code(answer: Answer) -> Answer:
    for result in _results(answer):
        result["code"] = ""
    return answer


def valid_till_past(answer: Answer) -> Answer:
    for result in _results(answer):
        result["validTill"] = "2001-01-01T00:00:00Z"
    return answer


def _valid_till_as(rewrite: Callable[[str], str]) -> Mutate:
    """validTill in a form only a lenient parser reads (Python's fromisoformat does; Java's OffsetDateTime.parse
    and RFC 3339 do not)."""
    def mutate(answer: Answer) -> Answer:
        for result in _results(answer):
            if isinstance(result.get("validTill"), str):
                result["validTill"] = rewrite(result["validTill"])
        return answer
    return mutate


#: validTill forms that break `format: date-time` (the sandbox writes 2027-12-07T00:00:00Z).
LENIENT_DATE_TIMES: dict[str, Callable[[str], str]] = {
    "offset-without-colon": lambda till: till.removesuffix("Z") + "+0000",
    "space-for-t": lambda till: till.replace("T", " ", 1),
    "no-offset": lambda till: till.removesuffix("Z"),
    "comma-fraction": lambda till: till.removesuffix("Z") + ",250Z",
    "date-only": lambda till: till.split("T", 1)[0],
    "basic-format": lambda till: till.replace("-", "").replace(":", ""),
}


def redemption_count_one(answer: Answer) -> Answer:
    for result in _results(answer):
        result["redemptionCount"] = 1
    return answer


def negative_upto(answer: Answer) -> Answer:
    for result in _results(answer):
        result["discountUpto"] = -1
    return answer


def perc_150(answer: Answer) -> Answer:
    for result in _results(answer):
        if result.get("discountType") == "PERC":
            result["discountValue"] = 150
    return answer


def valid_series_refused(answer: Answer) -> Answer:
    """Series 101 (valid) is answered with an entity error."""
    entities = _entities(answer)
    for index, entity in enumerate(entities):
        if entity.get("entityId") == 101:
            entities[index] = {"entityId": 101, "errors": [{"code": 722, "message": "Unable to create coupon"}],
                               "warnings": []}
    return _recount(answer) if entities else answer


def invalid_series_issues(answer: Answer) -> Answer:
    """Expired and unknown series issue a coupon anyway."""
    entities = _entities(answer)
    for index, entity in enumerate(entities):
        errors = entity.get("errors") or []
        if any(isinstance(e, dict) and e.get("code") in (707, 712) for e in errors):
            entities[index] = {"entityId": entity["entityId"], "result": _coupon(entity["entityId"]),
                               "errors": [], "warnings": []}
    return _recount(answer) if entities else answer


def duplicate_codes_in_response(answer: Answer) -> Answer:
    """A series repeated in one request gets the same code each time."""
    first: dict[Any, str] = {}
    for entity in _entities(answer):
        result = entity.get("result")
        if isinstance(result, dict) and not entity.get("errors"):
            result["code"] = first.setdefault(entity.get("entityId"), result["code"])
    return answer


def make_code_per_series() -> Mutate:
    """One code per series for every customer (a GENERIC series would be allowed this; 101 is not)."""
    codes: dict[Any, str] = {}

    def mutate(answer: Answer) -> Answer:
        for result in _results(answer):
            result["code"] = codes.setdefault(result.get("seriesId"), result["code"])
        return answer

    return mutate


def make_drifting_description() -> Mutate:
    """Each call numbers the description anew."""
    calls = itertools.count(1)

    def mutate(answer: Answer) -> Answer:
        if _entities(answer):
            call = next(calls)
            for result in _results(answer):
                result["description"] = f"{result['description']} (call {call})"
        return answer

    return mutate


# --- the classic server bugs (the classics pass) ------------------------------------------------------

_SANDBOX_SERIES = frozenset({101, 102, 103, 104, 105})


def _issue_anyway(series_ids: list[int], codes: Any) -> dict[str, Any]:
    """A 200 body for series the server bound by itself: coupons for the sandbox's series, 707 for others."""
    entities: list[dict[str, Any]] = []
    for series in series_ids:
        if series in _SANDBOX_SERIES:
            entities.append({"entityId": series, "result": {**_coupon(series), "code": f"BOUND{next(codes)}"},
                             "errors": [], "warnings": []})
        else:
            entities.append({"entityId": series, "errors": [{"code": 707, "message": "Invalid series"}],
                             "warnings": []})
    return {"response": entities, "totalCount": len(entities),
            "failureCount": sum(1 for e in entities if e["errors"])}


def _bind(value: Any) -> int | None:
    """What a lenient binder makes of a series id: "101", " 101", Arabic-Indic digits (int() reads them all)."""
    if type(value) is int:
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _lenient_binder(bind: Callable[[dict[str, Any]], list[int] | None]) -> Callable[[], Mutate]:
    """A server whose binder reads a body the contract calls malformed: where `bind` makes series ids of it,
    the 400 becomes a 200 with coupons."""
    def make() -> Mutate:
        codes = itertools.count(1)

        def mutate(answer: Answer) -> Answer:
            body = answer.request_json
            customer = body.get("customer") if isinstance(body, dict) else None
            if answer.status != 400 or not isinstance(customer, dict) or not isinstance(customer.get("id"), str):
                return answer
            series = bind(body)
            return answer if series is None else Answer(200, _issue_anyway(series, codes), answer.request)

        return mutate

    return make


def _numeric_strings(body: dict[str, Any]) -> list[int] | None:
    """`"seriesIds": ["101"]` bound to 101, as lenient JSON binders do."""
    raw = body.get("seriesIds")
    if not isinstance(raw, list) or not raw or not any(isinstance(v, str) for v in raw):
        return None
    bound = [_bind(v) for v in raw]
    return None if None in bound else [b for b in bound if b is not None]


def _case_insensitive_keys(body: dict[str, Any]) -> list[int] | None:
    """`SeriesIds` bound to `seriesIds`."""
    if "seriesIds" in body:
        return None
    series = next((v for k, v in body.items() if k.lower() == "seriesids"), None)
    return series if isinstance(series, list) and series and all(type(v) is int for v in series) else None


def server_error_on_long_customer_id(answer: Answer) -> Answer:
    """customer.id goes into a VARCHAR(64) column: a longer one makes the insert fail with a 500."""
    body = answer.request_json
    customer = body.get("customer") if isinstance(body, dict) else None
    if answer.status == 200 and isinstance(customer, dict) and len(str(customer.get("id"))) > 64:
        return Answer(500, b'{"message":"Data truncation: Data too long for column customer_id"}', answer.request)
    return answer


async def accept_trailing_content(request: web.Request) -> web.StreamResponse | None:
    """Parses with a lenient reader that stops after the first JSON value and accepts NaN."""
    if request.method != "POST":
        return None
    raw = await request.read()  # aiohttp keeps the bytes: the sandbox's handler reads them again
    try:
        orjson.loads(raw)
        return None
    except orjson.JSONDecodeError:
        pass
    try:
        value, _ = json.JSONDecoder().raw_decode(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    if not request_validator().is_valid(value):  # only the parsing is lenient, the validation is not
        return None
    entities = [{"entityId": s, "errors": [{"code": 707, "message": "Invalid series"}], "warnings": []}
                for s in value["seriesIds"]]
    return web.json_response({"response": entities, "totalCount": len(entities), "failureCount": len(entities)})


SCENARIOS = ("scenarios",)
CLASSICS = ("classics",)
MALFORMED = ("malformed",)
AUTH = ("auth",)
NEGATIVE = ("property-negative",)

BROKEN: tuple[Broken, ...] = (
    # the classics
    Broken("numeric-string-coercion", "rejects-malformed", CLASSICS, _lenient_binder(_numeric_strings),
           probe="type confusion: numeric string in seriesIds[0]"),
    Broken("case-insensitive-keys", "rejects-malformed", CLASSICS, _lenient_binder(_case_insensitive_keys),
           probe="key case: SeriesIds for seriesIds"),
    Broken("500-on-65-char-customer-id", "no-server-error", CLASSICS, _plain(server_error_on_long_customer_id),
           probe="string length: 65 characters in customer.id"),
    Broken("accepts-trailing-content", "strict-json", CLASSICS, before=accept_trailing_content, warning=True,
           probe="body shape: trailing garbage after the JSON"),
    # http
    Broken("500-on-big-batch", "no-server-error", SCENARIOS, _plain(server_error_on_big_batch)),
    Broken("201-instead-of-200", "accepts-well-formed", SCENARIOS, _plain(created_201)),
    Broken("422-for-malformed", "rejects-malformed", MALFORMED, _plain(malformed_422)),
    Broken("empty-series-ids-accepted", "rejects-malformed", MALFORMED, _plain(empty_series_accepted)),
    Broken("numeric-customer-id-accepted", "rejects-malformed", MALFORMED, _plain(numeric_customer_accepted)),
    Broken("400-for-unknown-series", "accepts-well-formed", SCENARIOS, _plain(unknown_series_400)),
    Broken("no-auth-check", "auth-required", AUTH, _plain(no_auth_check)),
    Broken("wrong-password-accepted", "auth-required", AUTH, _plain(wrong_password_accepted)),
    Broken("405-without-allow", "method-not-allowed", NEGATIVE, _plain(no_allow_header)),
    Broken("get-answered-200", "method-not-allowed", NEGATIVE, _plain(get_answered_200)),
    Broken("418-for-odd-source", "documented-status", NEGATIVE, _plain(teapot_for_odd_source),
           also=("rejects-malformed",)),
    Broken("hangs-on-big-batch", "transport", SCENARIOS, before=hang_on_big_batch,
           settings={"request_timeout": 0.5}),
    Broken("drops-connection-on-105", "transport", SCENARIOS, before=drop_on_series_105,
           settings={"request_timeout": 1.0}),
    Broken("text-html-content-type", "json-content-type", SCENARIOS, _plain(html_content_type)),
    Broken("200-body-not-json", "json-content-type", SCENARIOS, _plain(body_not_json)),
    Broken("400-html-stack-trace", "error-body", MALFORMED, _plain(html_trace_400), warning=True),
    # schema
    Broken("discount-value-string", "response-schema", SCENARIOS, _plain(discount_value_string)),
    Broken("discount-code-missing", "response-schema", SCENARIOS, _plain(missing_discount_code)),
    Broken("errors-null", "errors-warnings-arrays", SCENARIOS, _plain(errors_null)),
    Broken("warnings-missing", "errors-warnings-arrays", SCENARIOS, _plain(warnings_missing)),
    # invariants
    Broken("total-count-off-by-one", "total-count", SCENARIOS, _plain(total_count_off_by_one)),
    Broken("entity-dropped", "total-count", SCENARIOS, _plain(entity_dropped)),
    Broken("entities-reversed", "entity-order", SCENARIOS, _plain(entities_reversed)),
    Broken("failure-count-always-0", "failure-count", SCENARIOS, _plain(failure_count_zero)),
    Broken("result-beside-errors", "entity-shape", SCENARIOS, _plain(result_beside_errors)),
    Broken("result-series-id-differs", "result-series-id", SCENARIOS, _plain(series_id_mismatch)),
    Broken("empty-code", "code-non-empty", SCENARIOS, _plain(empty_code)),
    Broken("valid-till-in-the-past", "valid-till-future", SCENARIOS, _plain(valid_till_past)),
    *(Broken(f"valid-till-{name}", "response-schema", SCENARIOS, _plain(_valid_till_as(rewrite)))
      for name, rewrite in LENIENT_DATE_TIMES.items()),
    Broken("redemption-count-1", "redemption-count-zero", SCENARIOS, _plain(redemption_count_one)),
    Broken("negative-discount-upto", "discount-range", SCENARIOS, _plain(negative_upto)),
    Broken("perc-discount-150", "discount-range", SCENARIOS, _plain(perc_150)),
    Broken("valid-series-refused", "valid-series-issues", SCENARIOS, _plain(valid_series_refused)),
    Broken("invalid-series-issues", "invalid-series-refused", SCENARIOS, _plain(invalid_series_issues)),
    Broken("duplicate-codes-in-response", "unique-codes", SCENARIOS, _plain(duplicate_codes_in_response)),
    Broken("same-code-for-two-customers", "unique-codes", SCENARIOS, make_code_per_series),
    Broken("description-drifts", "series-attributes-stable", SCENARIOS, make_drifting_description),
)
