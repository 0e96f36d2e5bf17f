"""Judges one exchange against the contract: every pass funnels its exchanges through `judge`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime

import orjson

from coupon_harness.contract.catalog import RuleId
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.http_rules import NOT_PARSED, Expect, check_http, lenient_answer, transport_failure
from coupon_harness.contract.invariants import RESPONSE_RULES, IssueCall, check_response
from coupon_harness.contract.ledger import Ledger
from coupon_harness.contract.violations import Violation
from coupon_harness.coupon_log import CouponSink, coupons_of, stamp
from coupon_harness.runners.contract.collector import Collector
from coupon_harness.runners.contract.exchange import Exchange
from coupon_harness.transport.auth import Redactor

__all__ = ["Judge", "log_coupons"]

#: Judged on every bulk issue's 200 whatever the expectations (the Ledger's series attributes included).
_ALWAYS_JUDGED: tuple[str, ...] = (
    *(rule for rule in RESPONSE_RULES if rule not in (RuleId.VALID_SERIES_ISSUES, RuleId.INVALID_SERIES_REFUSED)),
    RuleId.SERIES_ATTRIBUTES_STABLE,
)


@dataclass(eq=False)
class Judge:
    """Judges every exchange of a run, and lists every coupon an answer carries in the run's coupons.csv (`coupons`;
    None: the run keeps no list, as a unit test's)."""

    collector: Collector
    expectations: Expectations
    ledger: Ledger
    redactor: Redactor
    coupons: CouponSink | None = None
    #: One exchange judged at a time, whatever thread hands it over: the cross-request rules see one answer whole
    #: before the next. Re-entrant: a RecordingJudge holds it around `judge`.
    lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False, compare=False)

    def log_coupons(self, exchange: Exchange, call: IssueCall | None, source: str) -> None:
        """Append the coupons `exchange`'s answer carries to coupons.csv (once per exchange). Raises
        CouponLogError when they cannot be written: the run must stop rather than issue coupons nobody lists."""
        if self.coupons is not None:
            log_coupons(self.coupons, exchange, call, source, self.redactor.text)

    def retarget(self, expectations: Expectations) -> None:
        """Judge by `expectations` from now on (the preflight's corrections); call before judging anything."""
        self.expectations = expectations
        self.ledger = Ledger(expectations)

    def judge(self, exchange: Exchange, expect: Expect, call: IssueCall | None, source: str,
              probe: str | None = None, group: str | None = None) -> None:
        """Record every rule the exchange breaks. `call` is given when a 200 must be a bulk issue's answer;
        `probe` names the bug class a deterministic probe tries (it keeps its findings apart); probes of one
        `group` (one bug tried at several sizes) share a finding."""
        self.log_coupons(exchange, call, source)
        found = self._violations(exchange, expect, call)
        if expect.warn_rule is not None and exchange.error is None:
            self.collector.checked((expect.warn_rule,))
            warning = lenient_answer(exchange.status, expect)
            if warning is not None:
                found.insert(0, warning)
        excerpt = exchange.excerpt(self.redactor) if found else ""
        for violation in found:
            self.collector.record(violation, exchange.request, exchange.status, excerpt, source, probe, group)

    def _violations(self, exchange: Exchange, expect: Expect, call: IssueCall | None) -> list[Violation]:
        """The HTTP rules (contract.http_rules, shared with the load runner), then, for a bulk issue's 200,
        the per-response rules and the Ledger."""
        collector = self.collector
        collector.sent(transport_ok=exchange.error is None)
        if exchange.error is not None:
            collector.checked((RuleId.TRANSPORT,))
            return [transport_failure(exchange.error, exchange.error_detail or "no answer")]
        checked: list[str] = []
        headers = exchange.headers
        violation, body = check_http(
            exchange.status, headers.get("content-type", ""), exchange.body, expect, method=exchange.method,
            allow=headers.get("allow"), error_bodies=True, checked=checked)
        collector.checked(checked)
        if violation is not None:
            return [violation]
        if call is None or body is NOT_PARSED:
            return []
        collector.checked(self._rules_judged(call))
        answered_at = _date_of(headers.get("date"))
        if answered_at is not None:
            call = replace(call, answered_at=answered_at)
        found = check_response(call, body, self.expectations)
        found.extend(self.ledger.observe(call.series_ids, call.customer_id, body))
        return found

    def _rules_judged(self, call: IssueCall) -> tuple[str, ...]:
        expectations = self.expectations
        judged: tuple[str, ...] = _ALWAYS_JUDGED
        if call.fresh_customer and any(s in expectations.valid_series for s in call.series_ids):
            judged += (RuleId.VALID_SERIES_ISSUES,)
        if any(s in expectations.invalid_series for s in call.series_ids):
            judged += (RuleId.INVALID_SERIES_REFUSED,)
        return judged


def log_coupons(sink: CouponSink, exchange: Exchange, call: IssueCall | None, source: str,
                redact: Callable[[str], str]) -> None:
    """Append the coupons `exchange`'s answer carries (any status) to `sink`, once per exchange, under `source`; the
    customer is the call's, else the one the request's body named. Codes and customers are redacted first."""
    if exchange.coupons_logged or (exchange.error is not None and not exchange.body):
        return
    exchange.coupons_logged = True
    if b'"code"' not in exchange.body:  # cheap: most answers hold no coupon
        return
    try:
        body = orjson.loads(exchange.body)
    except orjson.JSONDecodeError:
        return
    found = coupons_of(body, call.series_ids if call is not None else ())
    if not found:
        return
    customer = redact(call.customer_id or "" if call is not None else _customer_of(exchange))
    at = stamp()
    sink.record([(series, redact(code), customer, at, source) for series, code in found])


def _customer_of(exchange: Exchange) -> str:
    """The customer id a request's body named (a probe's request has no IssueCall), or ""."""
    body = exchange.request.body
    if not body or '"customer"' not in body:
        return ""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    customer = parsed.get("customer") if isinstance(parsed, dict) else None
    value = customer.get("id") if isinstance(customer, dict) else None
    return value if isinstance(value, str) else "" if value is None else str(value)


def _date_of(value: str | None) -> float | None:
    """An answer's Date header (RFC 9110 §6.6.1, IMF-fixdate) as POSIX seconds; None when absent, unreadable or
    without a zone."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.timestamp() if moment.tzinfo is not None else None
