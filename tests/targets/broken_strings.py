"""Servers that break on one class of string value in `customer.id`: what the `strings` pass must catch.

Each is the sandbox with one hook, broken the way real servers are: a quote reaches SQL unescaped, a blank id
meets a null check that trims first, a long digit string is parsed into a 64-bit integer, a template engine
renders the id and never returns, CR/LF ends up in a header line, astral characters or bidi text mangle the
answer. Each names the rule it breaks and the probe class the finding must carry.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from coupon_harness.sandbox.app import Answer, Mutate
from targets.broken import Broken

__all__ = ["BROKEN_STRINGS", "STRINGS"]

STRINGS = ("strings",)
_DIGITS = re.compile(r"[+-]?[0-9]+")
#: Right-to-left letters and every explicit bidi control.
_BIDI = frozenset({"R", "AL", "RLE", "RLO", "LRE", "LRO", "PDF", "RLI", "LRI", "FSI", "PDI"})


def _plain(fn: Mutate) -> Callable[[], Mutate]:
    return lambda: fn


def _customer_of(body: Any) -> str | None:
    customer = body.get("customer") if isinstance(body, dict) else None
    value = customer.get("id") if isinstance(customer, dict) else None
    return value if isinstance(value, str) else None


def _crash(answer: Answer, message: str) -> Answer:
    return Answer(500, orjson.dumps({"message": message}), answer.request)


def sql_quote_500(answer: Answer) -> Answer:
    """The customer id is pasted into SQL: a quote ends the literal and the statement fails."""
    customer = _customer_of(answer.request_json)
    if answer.status == 200 and customer is not None and "'" in customer:
        return _crash(answer, "You have an error in your SQL syntax near ''' at line 1")
    return answer


def blank_id_500(answer: Answer) -> Answer:
    """The id is trimmed before a lookup that never expected an empty key."""
    customer = _customer_of(answer.request_json)
    if answer.status == 200 and customer and not customer.strip():
        return _crash(answer, "java.lang.NullPointerException: customer")
    return answer


def numeric_past_int64_500(answer: Answer) -> Answer:
    """An all-digit id is taken for an internal numeric id and parsed as a 64-bit integer."""
    customer = _customer_of(answer.request_json)
    if answer.status == 200 and customer and _DIGITS.fullmatch(customer) and abs(int(customer)) >= 2**63:
        return _crash(answer, f'java.lang.NumberFormatException: For input string: "{customer}"')
    return answer


def format_string_500(answer: Answer) -> Answer:
    """The id is used as a printf format in a log line: %n has no argument."""
    customer = _customer_of(answer.request_json)
    if answer.status == 200 and customer and "%n" in customer:
        return _crash(answer, "java.util.MissingFormatArgumentException: Format specifier '%n'")
    return answer


def astral_codes_emptied(answer: Answer) -> Answer:
    """Codes are built from the id in UCS-2: a character past U+FFFF leaves each code empty."""
    customer = _customer_of(answer.request_json)
    if answer.status == 200 and customer and any(ord(char) > 0xFFFF for char in customer):
        for entity in answer.body.get("response", []):
            if isinstance(entity.get("result"), dict):
                entity["result"]["code"] = ""
    return answer


def bidi_total_count_off(answer: Answer) -> Answer:
    """A right-to-left id takes another code path that counts the customer as an entity."""
    customer = _customer_of(answer.request_json)
    if answer.status == 200 and customer and any(unicodedata.bidirectional(char) in _BIDI for char in customer):
        answer.body["totalCount"] += 1
    return answer


async def _json_customer(request: web.Request) -> str | None:
    if request.method != "POST":
        return None
    try:
        return _customer_of(orjson.loads(await request.read()))  # aiohttp keeps the bytes for the handler
    except orjson.JSONDecodeError:
        return None


async def hang_on_template(request: web.Request) -> web.StreamResponse | None:
    """The id is rendered by a template engine that never returns on an expression."""
    customer = await _json_customer(request)
    if customer and any(mark in customer for mark in ("{{", "${", "<%")):
        await asyncio.sleep(3)
    return None


async def drop_on_crlf(request: web.Request) -> web.StreamResponse | None:
    """The id goes into an upstream header line: CR or LF breaks the upstream call and the connection is cut."""
    customer = await _json_customer(request)
    if customer and ("\r" in customer or "\n" in customer) and request.transport is not None:
        request.transport.close()
        await asyncio.sleep(0.2)
    return None


def _probe(cls: str) -> str:
    return f"strings:{cls} in customer.id"


BROKEN_STRINGS: tuple[Broken, ...] = (
    Broken("500-on-sql-quote", "no-server-error", STRINGS, _plain(sql_quote_500), probe=_probe("sql")),
    Broken("500-on-whitespace-only-id", "no-server-error", STRINGS, _plain(blank_id_500), probe=_probe("blank")),
    Broken("500-on-numeric-past-int64", "no-server-error", STRINGS, _plain(numeric_past_int64_500),
           probe=_probe("numeric")),
    Broken("500-on-format-string", "no-server-error", STRINGS, _plain(format_string_500), probe=_probe("format")),
    # Timeouts long enough that a busy machine's slow answer is no hang: a class stops after its first hang,
    # and a drop is at once, so neither makes the run longer.
    Broken("hangs-on-template", "transport", STRINGS, before=hang_on_template, settings={"request_timeout": 2.0},
           probe=_probe("template")),
    Broken("drops-connection-on-crlf", "transport", STRINGS, before=drop_on_crlf, settings={"request_timeout": 10.0},
           probe=_probe("crlf")),
    Broken("empty-codes-for-emoji", "code-non-empty", STRINGS, _plain(astral_codes_emptied), probe=_probe("emoji")),
    Broken("total-count-off-for-bidi", "total-count", STRINGS, _plain(bidi_total_count_off), probe=_probe("bidi")),
)
