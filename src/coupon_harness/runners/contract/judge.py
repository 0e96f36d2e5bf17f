"""Judges one exchange against the contract: every pass funnels its exchanges through `judge`."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.invariants import RESPONSE_RULES, IssueCall, check_response
from coupon_harness.contract.ledger import Ledger
from coupon_harness.contract.violations import Violation
from coupon_harness.runners.contract.collector import Collector
from coupon_harness.runners.contract.exchange import Exchange
from coupon_harness.transport.auth import Redactor

__all__ = [
    "INTEGRAL_FLOATS",
    "LENIENT",
    "MALFORMED",
    "OTHER_METHOD",
    "RESOURCE_LIMIT",
    "STRICT_JSON",
    "TOLERATED",
    "UNAUTHENTICATED",
    "WELL_FORMED",
    "Expect",
    "Judge",
]

POST_STATUSES = frozenset({200, 400, 401})


@dataclass(frozen=True, slots=True)
class Expect:
    """The statuses a request may be answered with, and the rule broken by any other.

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


WELL_FORMED = Expect(frozenset({200}), "accepts-well-formed")
MALFORMED = Expect(frozenset({400}), "rejects-malformed")
UNAUTHENTICATED = Expect(frozenset({401}), "auth-required")
OTHER_METHOD = Expect(frozenset({405}), "method-not-allowed")
#: Requests whose right answer the contract leaves open (an odd Content-Type): any documented status.
LENIENT = Expect(POST_STATUSES | {415}, None)
#: Well-formed, but a server may honestly refuse it (a 300-character customer id, a batch past its cap).
TOLERATED = Expect(frozenset({200, 400}), None)
#: JSON Schema counts 48.0 as an integer, but many correct servers refuse it: either answer is fine.
INTEGRAL_FLOATS = TOLERATED
#: Resource-limit probes (huge bodies, deep nesting, huge arrays): no single right answer, only no 5xx or hang.
RESOURCE_LIMIT = Expect(frozenset({200, 400, 413}), None)
#: Not JSON, but widely used parsers read it (content after the value, NaN): 400, and a 200 is a warning.
STRICT_JSON = Expect(frozenset({400}), "rejects-malformed", warn=frozenset({200}), warn_rule="strict-json")


class Judge:
    def __init__(self, collector: Collector, expectations: Expectations, ledger: Ledger, redactor: Redactor) -> None:
        self.collector = collector
        self.expectations = expectations
        self.ledger = ledger
        self.redactor = redactor

    def retarget(self, expectations: Expectations) -> None:
        """Judge by `expectations` from now on (the preflight's corrections); call before judging anything."""
        self.expectations = expectations
        self.ledger = Ledger(expectations)

    def judge(self, exchange: Exchange, expect: Expect, call: IssueCall | None, source: str,
              probe: str | None = None, group: str | None = None) -> None:
        """Record every rule the exchange breaks. `call` is given when a 200 must be a bulk issue's answer;
        `probe` names the bug class a deterministic probe tries (it keeps its findings apart); probes of one
        `group` (one bug tried at several sizes) share a finding."""
        found = self._violations(exchange, expect, call)
        if expect.warn_rule is not None and exchange.error is None:
            self.collector.checked((expect.warn_rule,))
            if exchange.status in expect.warn:
                found.insert(0, Violation(expect.warn_rule, f"status-{exchange.status}", _statuses(expect.statuses),
                                          f"status {exchange.status}"))
        excerpt = exchange.excerpt(self.redactor) if found else ""
        for violation in found:
            self.collector.record(violation, exchange.request, exchange.status, excerpt, source, probe, group)

    def _violations(self, exchange: Exchange, expect: Expect, call: IssueCall | None) -> list[Violation]:
        collector = self.collector
        collector.sent(transport_ok=exchange.error is None)
        collector.checked(("transport",))
        if exchange.error is not None or exchange.status is None:
            return [Violation("transport", exchange.error or "connection", "a complete answer within the timeout",
                              exchange.error_detail or "no answer")]
        status = exchange.status
        collector.checked(("no-server-error",))
        if status >= 500:
            return [Violation("no-server-error", f"status-{status}", "a status below 500", f"status {status}")]
        if expect.rule is not None:
            collector.checked((expect.rule,))
            if status not in expect.allowed:
                return [Violation(expect.rule, f"status-{status}", _statuses(expect.statuses), f"status {status}")]
        else:
            collector.checked(("documented-status",))
            if status not in expect.allowed:
                return [Violation("documented-status", f"status-{status}", _statuses(expect.statuses),
                                  f"status {status}")]
        if status == 405:
            allow = exchange.headers.get("allow", "")
            if "POST" not in {part.strip().upper() for part in allow.split(",")}:
                return [Violation("method-not-allowed", "allow-header", "an Allow header listing POST",
                                  f"Allow: {allow!r}" if allow else "no Allow header")]
            return []
        if status in (400, 401):
            collector.checked(("error-body",))
            return [] if _readable_error_body(exchange) else [Violation(
                "error-body", "unreadable", "an empty, JSON or XML body",
                f"{exchange.headers.get('content-type', 'no Content-Type')}: "
                f"{exchange.excerpt(self.redactor, 60)!r}")]
        if status != 200 or exchange.method != "POST":
            return []
        collector.checked(("json-content-type",))
        content_type = exchange.headers.get("content-type", "")
        media = content_type.split(";", 1)[0].strip().lower()
        if not (media == "application/json" or media.endswith("+json")):
            return [Violation("json-content-type", "content-type", "Content-Type: application/json",
                              f"Content-Type: {content_type!r}" if content_type else "no Content-Type")]
        try:
            body = orjson.loads(exchange.body)
        except orjson.JSONDecodeError:
            what = "an empty body" if not exchange.body.strip() else "a body that is not JSON"
            return [Violation("json-content-type", "not-json", "a JSON body", what)]
        if call is None:
            return []
        collector.checked(self._rules_judged(call))
        found = check_response(call, body, self.expectations)
        found.extend(self.ledger.observe(call.series_ids, call.customer_id, body))
        return found

    def _rules_judged(self, call: IssueCall) -> tuple[str, ...]:
        expectations = self.expectations
        judged = [rule for rule in RESPONSE_RULES if rule not in ("valid-series-issues", "invalid-series-refused")]
        judged.append("series-attributes-stable")
        if call.fresh_customer and any(s in expectations.valid_series for s in call.series_ids):
            judged.append("valid-series-issues")
        if any(s in expectations.invalid_series for s in call.series_ids):
            judged.append("invalid-series-refused")
        return tuple(judged)


def _statuses(statuses: frozenset[int]) -> str:
    return "status " + " or ".join(str(s) for s in sorted(statuses))


def _readable_error_body(exchange: Exchange) -> bool:
    body = exchange.body.strip()
    if not body:
        return True
    if body[:1] in (b"<",) and not body[:15].lower().startswith((b"<!doctype html", b"<html")):
        return True  # XML, as some clusters answer 401
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True
