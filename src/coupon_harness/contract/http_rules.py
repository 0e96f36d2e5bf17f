"""The HTTP-level rules, one home for both runners: transport, 5xx, documented status, the Allow header of
a 405, readable error bodies, and a 200's Content-Type and JSON body.

The contract runner's Judge and the load runner's ResponseChecker both call `check_http`, so a broken
answer gets the same rule, kind and wording whichever runner met it. It is on the load runner's hot path:
a 200 costs a status look-up, one media-type test and the parse (orjson), nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from coupon_harness.contract.catalog import RuleId
from coupon_harness.contract.violations import Violation

__all__ = [
    "INTEGRAL_FLOATS",
    "LENIENT",
    "MALFORMED",
    "NOT_PARSED",
    "OTHER_METHOD",
    "POST_STATUSES",
    "RESOURCE_LIMIT",
    "STRICT_JSON",
    "TOLERATED",
    "UNAUTHENTICATED",
    "WELL_FORMED",
    "Expect",
    "check_http",
    "expected_statuses",
    "lenient_answer",
    "readable_error_body",
    "transport_failure",
]

POST_STATUSES = frozenset({200, 400, 401})


@dataclass(frozen=True, slots=True)
class Expect:
    """The statuses a request may be answered with, and the rule broken by any other (None: any status
    outside them breaks `documented-status`).

    `warn` statuses are allowed too, but each is a finding of `warn_rule` (a warning-severity rule): the
    target was harmlessly lenient (it read a body a strict parser refuses).
    """

    statuses: frozenset[int]
    rule: str | None
    warn: frozenset[int] = frozenset()
    warn_rule: str | None = None

    @property
    def allowed(self) -> frozenset[int]:
        return self.statuses | self.warn


WELL_FORMED = Expect(frozenset({200}), RuleId.ACCEPTS_WELL_FORMED)
MALFORMED = Expect(frozenset({400}), RuleId.REJECTS_MALFORMED)
UNAUTHENTICATED = Expect(frozenset({401}), RuleId.AUTH_REQUIRED)
OTHER_METHOD = Expect(frozenset({405}), RuleId.METHOD_NOT_ALLOWED)
#: Requests whose right answer the contract leaves open (an odd Content-Type): any documented status.
LENIENT = Expect(POST_STATUSES | {415}, None)
#: Well-formed, but a server may honestly refuse it (a 300-character customer id, a batch past its cap).
TOLERATED = Expect(frozenset({200, 400}), None)
#: JSON Schema counts 48.0 as an integer, but many correct servers refuse it: either answer is fine.
INTEGRAL_FLOATS = TOLERATED
#: Resource-limit probes (huge bodies, deep nesting, huge arrays): no single right answer, only no 5xx or hang.
RESOURCE_LIMIT = Expect(frozenset({200, 400, 413}), None)
#: Not JSON, but widely used parsers read it (content after the value, NaN): 400, and a 200 is a warning.
STRICT_JSON = Expect(frozenset({400}), RuleId.REJECTS_MALFORMED, warn=frozenset({200}),
                     warn_rule=RuleId.STRICT_JSON)

#: What `check_http` returns as the body when it did not parse one (not a 200 to a POST, or a violation).
NOT_PARSED: Any = object()

_TRANSPORT_EXPECTED = "a complete answer within the timeout"
_BELOW_500 = "a status below 500"


def transport_failure(kind: str, detail: str) -> Violation:
    """No complete answer: `kind` is "timeout", "connection" or "too-large"."""
    return Violation(RuleId.TRANSPORT, kind, _TRANSPORT_EXPECTED, detail)


def expected_statuses(statuses: frozenset[int]) -> str:
    return "status " + " or ".join(str(s) for s in sorted(statuses))


def check_http(status: int | None, content_type: str, body: bytes, expect: Expect, *, method: str = "POST",
               allow: str | None = None, error_excerpt: Callable[[], str] | None = None,
               checked: list[str] | None = None, transport: tuple[str, str] = ("connection", "no answer"),
               ) -> tuple[Violation | None, Any]:
    """The first HTTP-level rule an answer breaks (None when it breaks none), and its body parsed as JSON
    when the answer is a 200 to a POST that passed (else NOT_PARSED): the per-response rules take it from
    there.

    `status` None: no answer, a `transport` violation of kind/detail `transport`. `allow`: the 405's Allow
    header. `error_excerpt`: the start of a 400/401 body as a finding may show it (redacted); without it
    error bodies are not judged. `checked`, when given, gets the id of every rule judged, in order.
    """
    if checked is not None:
        checked.append(RuleId.TRANSPORT)
    if status is None:
        return transport_failure(*transport), NOT_PARSED
    if checked is not None:
        checked.append(RuleId.NO_SERVER_ERROR)
    if status >= 500:
        return Violation(RuleId.NO_SERVER_ERROR, f"status-{status}", _BELOW_500, f"status {status}"), NOT_PARSED
    rule = expect.rule if expect.rule is not None else RuleId.DOCUMENTED_STATUS
    if checked is not None:
        checked.append(rule)
    if status not in expect.statuses and status not in expect.warn:
        return Violation(rule, f"status-{status}", expected_statuses(expect.statuses), f"status {status}"), NOT_PARSED
    if status == 200:
        if method != "POST":
            return None, NOT_PARSED
        if checked is not None:
            checked.append(RuleId.JSON_CONTENT_TYPE)
        media = content_type.split(";", 1)[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            return Violation(RuleId.JSON_CONTENT_TYPE, "content-type", "Content-Type: application/json",
                             f"Content-Type: {content_type!r}" if content_type else "no Content-Type"), NOT_PARSED
        try:
            return None, orjson.loads(body)
        except orjson.JSONDecodeError:
            what = "an empty body" if not body.strip() else "a body that is not JSON"
            return Violation(RuleId.JSON_CONTENT_TYPE, "not-json", "a JSON body", what), NOT_PARSED
    if status == 405:
        allow = allow or ""
        if "POST" not in {part.strip().upper() for part in allow.split(",")}:
            return Violation(RuleId.METHOD_NOT_ALLOWED, "allow-header", "an Allow header listing POST",
                             f"Allow: {allow!r}" if allow else "no Allow header"), NOT_PARSED
        return None, NOT_PARSED
    if status in (400, 401) and error_excerpt is not None:
        if checked is not None:
            checked.append(RuleId.ERROR_BODY)
        if not readable_error_body(body):
            return Violation(RuleId.ERROR_BODY, "unreadable", "an empty, JSON or XML body",
                             f"{content_type or 'no Content-Type'}: {error_excerpt()!r}"), NOT_PARSED
    return None, NOT_PARSED


def lenient_answer(status: int | None, expect: Expect) -> Violation | None:
    """A status `expect` allows as a warning (`warn`): a finding of its `warn_rule` (harmless leniency)."""
    if expect.warn_rule is None or status not in expect.warn:
        return None
    return Violation(expect.warn_rule, f"status-{status}", expected_statuses(expect.statuses), f"status {status}")


def readable_error_body(body: bytes) -> bool:
    """Empty, JSON or XML (as some clusters answer 401); an HTML page or a stack trace is not."""
    body = body.strip()
    if not body:
        return True
    if body[:1] == b"<" and not body[:15].lower().startswith((b"<!doctype html", b"<html")):
        return True
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True
