"""One home for the HTTP rules: the contract Judge and the load ResponseChecker give the same rule, kind
and wording for the same answer (issue 8)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coupon_harness.contract import Expectations, IssueCall, Ledger, Violation
from coupon_harness.contract.http_rules import (
    MALFORMED,
    NOT_PARSED,
    OTHER_METHOD,
    STRICT_JSON,
    WELL_FORMED,
    check_http,
    lenient_answer,
)
from coupon_harness.results.contract import RequestSample
from coupon_harness.runners.contract.collector import Collector
from coupon_harness.runners.contract.exchange import Exchange
from coupon_harness.runners.contract.judge import Judge
from coupon_harness.runners.load.checker import ResponseChecker
from coupon_harness.transport.auth import Credentials, Redactor

NOW = datetime(2026, 12, 1, tzinfo=UTC)
EXPECT = Expectations(valid_series=frozenset({101}))
REDACTOR = Redactor(Credentials())

#: (status, content type, body): answers to a well-formed bulk issue that break an HTTP rule.
BROKEN = [
    (None, "", b""),
    (500, "application/json", b"{}"),
    (503, "text/html", b"<html>down</html>"),
    (400, "application/json", b'{"errors": []}'),
    (404, "text/plain", b"not found"),
    (200, "text/html", b"{}"),
    (200, "", b"{}"),
    (200, "application/json", b"not json"),
    (200, "application/json; charset=utf-8", b""),
]


def _judged(status: int | None, content_type: str, body: bytes) -> list[tuple[str, str, str, str]]:
    collector = Collector(seed=0, max_transport_failures=100, redactor=REDACTOR)
    judge = Judge(collector, EXPECT, Ledger(EXPECT), REDACTOR)
    headers = {"content-type": content_type} if content_type else {}
    exchange = Exchange(RequestSample("POST", "http://t", {}, "{}"), "POST", status, headers, body,
                        None if status is not None else "connection", "" if status is not None else "no answer")
    judge.judge(exchange, WELL_FORMED, IssueCall([101], "c1", NOW), "test")
    return [(f.rule_id, f.key, f.expected, f.received) for f in collector.findings]


@pytest.mark.parametrize(("status", "content_type", "body"), BROKEN)
def test_both_runners_name_the_same_violation(status: int | None, content_type: str, body: bytes) -> None:
    outcome = ResponseChecker(EXPECT).check(status, content_type, body, [101], "c1", NOW)
    load = [(v.rule_id, v.key, v.expected, v.received) for v in outcome.violations]
    assert load and load == _judged(status, content_type, body)


def test_a_good_answer_is_parsed_once_for_the_next_rules() -> None:
    violation, body = check_http(200, "application/json", b'{"response": []}', WELL_FORMED)
    assert violation is None and body == {"response": []}
    checked: list[str] = []
    assert check_http(400, "application/json", b"{}", MALFORMED, checked=checked) == (None, NOT_PARSED)
    assert checked == ["transport", "no-server-error", "rejects-malformed"]  # no error body without an excerpt


def test_method_not_allowed_needs_allow_post() -> None:
    violation, _ = check_http(405, "", b"", OTHER_METHOD, method="GET", allow="GET, HEAD")
    assert violation == Violation("method-not-allowed", "allow-header", "an Allow header listing POST",
                                  "Allow: 'GET, HEAD'")
    assert check_http(405, "", b"", OTHER_METHOD, method="GET", allow="get, post")[0] is None


def test_error_bodies_must_be_readable() -> None:
    violation, _ = check_http(400, "text/html", b"<html>oops</html>", MALFORMED, error_excerpt=lambda: "<html>")
    assert violation == Violation("error-body", "unreadable", "an empty, JSON or XML body", "text/html: '<html>'")
    for readable in (b"", b"  ", b'{"errors": []}', b"<error/>"):
        assert check_http(400, "", readable, MALFORMED, error_excerpt=lambda: "")[0] is None, readable


def test_a_lenient_parse_is_a_warning_of_its_own_rule() -> None:
    assert lenient_answer(200, STRICT_JSON) == Violation("strict-json", "status-200", "status 400", "status 200")
    assert lenient_answer(400, STRICT_JSON) is None
    assert lenient_answer(200, WELL_FORMED) is None
