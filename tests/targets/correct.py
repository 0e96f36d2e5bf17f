"""Correct implementations of POST /v2/coupon/bulk/issue that differ legitimately from the plain sandbox.

(a) `variations_config()`: the sandbox with every documented variation on (floats, +05:30 offsets, extra
    fields, "result": null on failures, numeric codes).
(b) `lenient_flavour`: a mutate hook that answers the way some Capillary clusters do: 400 with `{}`,
    401 as XML, 405 with an empty body, `id` always 0, `validTillDateTime` added, totalCount as 2.0.
(c) `independent_app()`: a tiny aiohttp server written from the reference page alone, sharing no code
    with the sandbox: its own catalog, codes, auth and validation.
"""

from __future__ import annotations

import base64
import itertools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiohttp import web

from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.config import SandboxConfig, Variations

__all__ = [
    "INDEPENDENT_GENERIC",
    "INDEPENDENT_INVALID",
    "INDEPENDENT_PASSWORD",
    "INDEPENDENT_USER",
    "INDEPENDENT_VALID",
    "XML_401",
    "independent_app",
    "lenient_flavour",
    "variations_config",
]

ENDPOINT = "/v2/coupon/bulk/issue"
XML_401 = b"<response><success>false</success><code>401</code><message>Unauthorized</message></response>"


def variations_config() -> SandboxConfig:
    return SandboxConfig(variations=Variations(numbers_as_floats=True, valid_till_offset="+05:30",
                                               extra_fields=True, failed_result_null=True, code_alphabet="numeric"))


def lenient_flavour(answer: Answer) -> Answer:
    if answer.status == 400:
        return Answer(400, b"{}", answer.request, {"Content-Type": "application/json"})
    if answer.status == 401:
        return Answer(401, XML_401, answer.request, {"Content-Type": "application/xml",
                                                      **{k: v for k, v in answer.headers.items()
                                                         if k.lower() == "www-authenticate"}})
    if answer.status == 405:
        return Answer(405, b"", answer.request, {"Allow": "GET, POST"})
    if answer.status == 200 and isinstance(answer.body, dict):
        for entity in answer.body["response"]:
            result = entity.get("result")
            if isinstance(result, dict):
                result["id"] = 0
                result["validTillDateTime"] = result["validTill"]
        answer.body["totalCount"] = float(answer.body["totalCount"])
    return answer


# --- (c) an independent implementation -----------------------------------------------------------------

INDEPENDENT_VALID = frozenset({7001, 7002, 7003})
INDEPENDENT_GENERIC = frozenset({7003})
INDEPENDENT_INVALID = frozenset({7999, 8000})
INDEPENDENT_USER, INDEPENDENT_PASSWORD = "till", "s3cret"
_TOKEN = "independent-token"
_INT32 = (-(2**31), 2**31 - 1)

_SERIES: dict[int, dict[str, Any]] = {
    7001: {"description": "Flat 300", "discountCode": "F300", "discountType": "ABS", "discountValue": 300,
           "discountUpto": 0, "discountOn": "BILL", "detailedInfo": "300 off"},
    7002: {"description": "Half price", "discountCode": "HALF", "discountType": "PERC", "discountValue": 50,
           "discountUpto": 1000, "discountOn": "BILL", "detailedInfo": "50% up to 1000"},
    7003: {"description": "Everyone's code", "discountCode": "ALL", "discountType": "ABS", "discountValue": 5,
           "discountUpto": 0, "discountOn": "BILL", "detailedInfo": "generic"},
}


def _authorized(request: web.Request) -> bool:
    if request.headers.get("X-CAP-API-OAUTH-TOKEN") == _TOKEN:
        return True
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":  # RFC 9110 §11.1: the scheme is case-insensitive
        return False
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except ValueError:
        return False
    return (secrets.compare_digest(user, INDEPENDENT_USER)
            and secrets.compare_digest(password, INDEPENDENT_PASSWORD))


def _well_formed(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    ids = body.get("seriesIds")
    customer = body.get("customer")
    return (isinstance(ids, list) and len(ids) > 0
            and all(type(i) is int and _INT32[0] <= i <= _INT32[1] for i in ids)
            and isinstance(customer, dict) and isinstance(customer.get("id"), str) and customer["id"] != "")


def independent_app() -> web.Application:
    """Every issue makes a new coupon (random hex codes, GENERIC 7003 excepted); failures carry result null."""
    ids = itertools.count(1000)

    def coupon(series_id: int, customer: str) -> dict[str, Any]:
        code = "EVERYONE" if series_id in INDEPENDENT_GENERIC else secrets.token_hex(8).upper()
        till = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
        return {"code": code, "seriesId": series_id, **_SERIES[series_id], "validTill": till.isoformat(),
                "redemptionCount": 0, "id": next(ids)}

    async def issue(request: web.Request) -> web.Response:
        if not _authorized(request):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="independent"'})
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            body = None
        if not _well_formed(body):
            return web.json_response({"message": "seriesIds (int32, at least one) and customer.id are mandatory"},
                                     status=400)
        customer = body["customer"]["id"]
        entities = []
        for series_id in body["seriesIds"]:
            if series_id in _SERIES:
                entities.append({"entityId": series_id, "result": coupon(series_id, customer), "errors": [],
                                 "warnings": []})
            else:
                entities.append({"entityId": series_id, "result": None, "warnings": [],
                                 "errors": [{"code": 707, "message": f"series {series_id} is not valid"}]})
        failed = sum(1 for e in entities if e["errors"])
        text = orjson.dumps({"failureCount": failed, "totalCount": len(entities), "response": entities})
        return web.Response(status=200, body=text, content_type="application/json", charset="utf-8")

    async def other(request: web.Request) -> web.Response:
        return web.Response(status=405, text="use POST", headers={"Allow": "POST, OPTIONS"})

    app = web.Application()
    app.router.add_post(ENDPOINT, issue)
    app.router.add_route("*", ENDPOINT, other)
    return app
