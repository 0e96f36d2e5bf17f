"""Servers whose bugs show only in the order of requests: each answers every request well on its own, and breaks a
rule only after some earlier request (of the same customer, or with the same series). The stateful pass must fail
each under every seed, with a short sequence naming the class; the per-request passes miss most of them.

Each is the sandbox with a `mutate` hook built per run (its memory starts empty) and/or a `before` hook that keeps
its memory per sandbox (keyed by the sandbox's issuer, so every run starts fresh). `LEGITIMATE` is a server that
differs from the sandbox in a way the contract allows, which must pass.
"""

from __future__ import annotations

import base64
import copy
import weakref
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from coupon_harness.contract.schemas import request_validator
from coupon_harness.sandbox.app import ISSUER_KEY, Answer, Mutate
from coupon_harness.sandbox.issuer import Issuer
from targets.broken import Broken

__all__ = ["BROKEN_STATEFUL", "LEGITIMATE", "STATEFUL"]

STATEFUL = ("stateful",)
_SANDBOX_BASIC = "Basic " + base64.b64encode(b"sandbox:sandbox").decode()
_INT32 = range(-(2**31), 2**31)


def _customer(answer_json: Any) -> str | None:
    customer = answer_json.get("customer") if isinstance(answer_json, dict) else None
    value = customer.get("id") if isinstance(customer, dict) else None
    return value if isinstance(value, str) else None


def _entities(answer: Answer) -> list[dict[str, Any]]:
    if answer.status != 200 or not isinstance(answer.body, dict):
        return []
    entities = answer.body.get("response")
    return entities if isinstance(entities, list) else []


def _issued(entity: dict[str, Any]) -> dict[str, Any] | None:
    result = entity.get("result")
    return result if isinstance(result, dict) and not entity.get("errors") else None


def _recount(answer: Answer) -> Answer:
    entities = _entities(answer)
    answer.body["totalCount"] = len(entities)
    answer.body["failureCount"] = sum(1 for e in entities if e.get("errors"))
    return answer


# --- mutate hooks (a factory each: a run starts with an empty memory) --------------------------------------------

def make_repeat_answers_last_code() -> Mutate:
    """A customer asking again for a series they hold is answered "their" coupon, looked up by series alone: the
    code the series handed out last, to whichever customer (unique-codes, when another customer got one between)."""
    held: set[tuple[str, int]] = set()
    last: dict[int, str] = {}

    def mutate(answer: Answer) -> Answer:
        customer = _customer(answer.request_json)
        if customer is None:
            return answer
        given: list[tuple[int, str]] = []
        looked_up: set[int] = set()
        for entity in _entities(answer):
            result = _issued(entity)
            if result is None:
                continue
            series = entity["entityId"]
            given.append((series, result["code"]))
            if (customer, series) in held and series in last and series not in looked_up:
                result["code"] = last[series]
                looked_up.add(series)
        for series, code in given:
            held.add((customer, series))
            last[series] = code
        return answer

    return mutate


def make_refuses_after_invalid_series() -> Mutate:
    """A customer who once asked for a series that does not exist (or expired) is flagged, and every later coupon
    to them is refused (valid-series-issues)."""
    flagged: set[str] = set()

    def mutate(answer: Answer) -> Answer:
        customer = _customer(answer.request_json)
        if customer is None or answer.status != 200:
            return answer
        if customer in flagged:
            for entity in _entities(answer):
                if _issued(entity) is not None:
                    entity.pop("result")
                    entity["errors"] = [{"code": 5001, "message": "Customer is flagged for review"}]
            return _recount(answer)
        if any(error.get("code") in (707, 712) for entity in _entities(answer) for error in entity["errors"]):
            flagged.add(customer)
        return answer

    return mutate


def make_attributes_drift_after_malformed() -> Mutate:
    """A malformed request leaves a draft in the customer's session: their later coupons carry the draft's
    description (series-attributes-stable)."""
    drafted: set[str] = set()

    def mutate(answer: Answer) -> Answer:
        customer = _customer(answer.request_json)
        if customer is None:
            return answer
        if answer.status == 400:
            drafted.add(customer)
        elif customer in drafted:
            for entity in _entities(answer):
                result = _issued(entity)
                if result is not None:
                    result["description"] = f"{result['description']} (draft)"
        return answer

    return mutate


def make_leftover_entities_after_malformed() -> Mutate:
    """The series of a refused (malformed) batch stay queued for its customer and are issued with their next
    request, ahead of what it asked (total-count, entity-order)."""
    queued: dict[str, list[int]] = {}

    def mutate(answer: Answer) -> Answer:
        body = answer.request_json
        customer = _customer(body)
        if customer is None:
            return answer
        if answer.status == 400:
            series = body.get("seriesIds") if isinstance(body, dict) else None
            if isinstance(series, list):
                queued[customer] = [s for s in series if type(s) is int and s in _INT32]
        elif answer.status == 200 and queued.get(customer):
            issuer: Issuer = answer.request.app[ISSUER_KEY]
            leftovers, _ = issuer.issue(queued.pop(customer), customer)
            answer.body["response"][:0] = leftovers
            return _recount(answer)
        return answer

    return mutate


def make_cache_by_series_set() -> Mutate:
    """An idempotency cache keyed by the customer and the *set* of series: a request that asks the same series in
    another order or number gets the cached answer (entity-order, total-count). An exact repeat gets its own
    answer again, which the contract allows."""
    cache: dict[tuple[str, frozenset[int]], Any] = {}

    def mutate(answer: Answer) -> Answer:
        body = answer.request_json
        customer = _customer(body)
        if customer is None or answer.status != 200:
            return answer
        key = (customer, frozenset(body["seriesIds"]))
        if key in cache:
            answer.body = copy.deepcopy(cache[key])
        else:
            cache[key] = copy.deepcopy(answer.body)
        return answer

    return mutate


# --- before hooks (the memory lives with the sandbox's issuer) -------------------------------------------------

async def _json_body(request: web.Request) -> Any:
    try:
        return orjson.loads(await request.read())  # aiohttp keeps the bytes for the sandbox's handler
    except orjson.JSONDecodeError:
        return None


def _authenticated(request: web.Request) -> bool:
    return request.headers.get("Authorization") == _SANDBOX_BASIC


async def issue_before_auth_check(request: web.Request) -> web.StreamResponse | None:
    """Issues the body's coupons first and checks the credentials after: a 401 that issued (valid-series-issues
    when a series allows one coupon per customer)."""
    if request.method != "POST" or _authenticated(request):
        return None
    body = await _json_body(request)
    if request_validator().is_valid(body):
        request.app[ISSUER_KEY].issue([int(s) for s in body["seriesIds"]], body["customer"]["id"])
    return None


_CACHED: weakref.WeakKeyDictionary[Issuer, Any] = weakref.WeakKeyDictionary()


async def replay_unauthorized_body(request: web.Request) -> web.StreamResponse | None:
    """Keeps the body of a request refused 401 (a retry queue) and issues it ahead of the next authenticated
    request (valid-series-issues when a series allows one coupon per customer)."""
    if request.method != "POST":
        return None
    issuer = request.app[ISSUER_KEY]
    if not _authenticated(request):
        body = await _json_body(request)
        if request_validator().is_valid(body):
            _CACHED[issuer] = body
        return None
    cached = _CACHED.pop(issuer, None)
    if cached is not None:
        issuer.issue([int(s) for s in cached["seriesIds"]], cached["customer"]["id"])
    return None


async def half_process_malformed_batch(request: web.Request) -> web.StreamResponse | None:
    """Issues a batch's series one by one and stops at the first bad one: a malformed batch (answered 400) has
    issued the series before it (valid-series-issues when a series allows one coupon per customer)."""
    if request.method != "POST" or not _authenticated(request):
        return None
    body = await _json_body(request)
    customer = _customer(body)
    series = body.get("seriesIds") if isinstance(body, dict) else None
    if customer is None or not isinstance(series, list) or request_validator().is_valid(body):
        return None
    good = []
    for value in series:
        if type(value) is not int or value not in _INT32:
            break
        good.append(value)
    if good:
        request.app[ISSUER_KEY].issue(good, customer)
    return None


BROKEN_STATEFUL: tuple[Broken, ...] = (
    Broken("repeat-answers-last-code-of-series", "unique-codes", STATEFUL, make_repeat_answers_last_code),
    Broken("refuses-customer-after-invalid-series", "valid-series-issues", STATEFUL,
           make_refuses_after_invalid_series),
    Broken("attributes-drift-after-malformed", "series-attributes-stable", STATEFUL,
           make_attributes_drift_after_malformed),
    Broken("leftover-entities-after-malformed", "total-count", STATEFUL, make_leftover_entities_after_malformed,
           also=("entity-order",)),
    Broken("cache-keyed-by-series-set", "entity-order", STATEFUL, make_cache_by_series_set, also=("total-count",)),
    Broken("issues-before-auth-check", "valid-series-issues", STATEFUL, before=issue_before_auth_check),
    Broken("replays-unauthorized-body", "valid-series-issues", STATEFUL, before=replay_unauthorized_body),
    Broken("half-processes-malformed-batch", "valid-series-issues", STATEFUL, before=half_process_malformed_batch),
)


def make_answers_held_coupon() -> Mutate:
    """Legitimate: a customer asking again for a series they hold a coupon of is answered that coupon (the same
    code and attributes) instead of a new one; a series asked twice in one request gets it once (no code twice in
    one answer) and a new coupon for the other."""
    held: dict[tuple[str, int], dict[str, Any]] = {}

    def mutate(answer: Answer) -> Answer:
        customer = _customer(answer.request_json)
        if customer is None:
            return answer
        fresh: list[tuple[int, dict[str, Any]]] = []
        answered: set[int] = set()
        for entity in _entities(answer):
            result = _issued(entity)
            if result is None:
                continue
            key = (customer, entity["entityId"])
            if key in held and entity["entityId"] not in answered:  # a code at most once in one answer
                entity["result"] = copy.deepcopy(held[key])
                answered.add(entity["entityId"])
            else:
                fresh.append((entity["entityId"], result))
        for series, result in fresh:
            held.setdefault((customer, series), copy.deepcopy(result))
        return answer

    return mutate


LEGITIMATE: dict[str, Callable[[], Mutate]] = {"answers-held-coupon-on-repeat": make_answers_held_coupon}
