"""One home for the HTTP rules: the contract Judge and the load ResponseChecker give the same rule, kind
and wording for the same answer (issue 8)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coupon_harness.contract.catalog import Severity, get_rule
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.http_rules import (
    MALFORMED,
    NOT_PARSED,
    OPTIONS_METHOD,
    OTHER_METHOD,
    STRICT_JSON,
    UNAUTHENTICATED,
    WELL_FORMED,
    Expect,
    check_http,
    lenient_answer,
    other_method,
    stack_trace,
    unauthenticated_route,
)
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.contract.ledger import Ledger
from coupon_harness.contract.violations import Violation
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


#: Error bodies that leak the server's internals: Java (plain, in an HTML page, HTML-escaped, in a JSON string),
#: the JVM's uncaught exception, Python, .NET, Node.js, PHP, Ruby, Go.
TRACES = [
    (b"java.lang.NullPointerException\n\tat com.x.Y.issue(Y.java:42)\n", "at com.x.Y.issue(Y.java:42)"),
    (b"<html><body><pre>java.lang.IllegalStateException\n\tat java.base/java.util.Objects.require(Objects.java:"
     b"233)</pre></body></html>", "at java.base/java.util.Objects.require(Objects.java:233)</pre></body></html>"),
    (b"<pre>Exception in thread &quot;main&quot; java.lang.Error</pre>",
     'Exception in thread "main" java.lang.Error</pre>'),
    (b'{"error": "Bad Request", "trace": "java.lang.NumberFormatException: x\\n\\tat com.x.Y.parse(Y.java:7)"}',
     "at com.x.Y.parse(Y.java:7)"),
    (b"Exception in thread \"http-nio-8080-exec-1\" java.lang.OutOfMemoryError", None),
    (b"Traceback (most recent call last):\n  File \"/app/views.py\", line 12, in issue\nKeyError: 'x'", None),
    (b"System.FormatException: bad\n   at Coupons.Api.IssueController.Issue(BulkRequest r) in "
     b"C:\\src\\IssueController.cs:line 42", None),
    (b"TypeError: x is undefined\n    at issue (/app/routes/coupons.js:10:5)", None),
    (b"PHP Fatal error: Uncaught Exception\nStack trace:\n#0 /var/www/index.php(3): issue()", None),
    (b"NoMethodError\n/app/controllers/coupons_controller.rb:12:in `issue'", None),
    (b"panic: runtime error\n\ngoroutine 1 [running]:\nmain.issue()", None),
]
#: Error bodies a correct server may send: empty, JSON, XML, text, Tomcat's and nginx's HTML pages.
READABLE = [b"", b"  ", b'{"errors": []}', b"<error/>", b"Bad Request", b"<html>oops</html>",
            b"<!doctype html><html><head><title>HTTP Status 400 \xe2\x80\x93 Bad Request</title></head><body><h1>HTTP "
            b"Status 400 \xe2\x80\x93 Bad Request</h1><p>The server cannot process the request (at the moment)."
            b"</p><h3>Apache Tomcat/9.0.83</h3></body></html>",
            b"<html><head><title>400 Bad Request</title></head><body><center><h1>400 Bad Request</h1></center>"
            b"<hr><center>nginx</center></body></html>",
            b'{"message": "customer.id: look at the example (see docs.java:12 for the format)"}']


@pytest.mark.parametrize(("body", "line"), TRACES)
def test_an_error_body_that_leaks_a_stack_trace_is_the_finding(body: bytes, line: str | None) -> None:
    for status in (400, 401, 404, 405, 415):
        violation, _ = check_http(status, "text/html", body, MALFORMED if status == 400 else
                                  Expect(frozenset({status}), None), allow="POST", error_bodies=True)
        assert violation is not None and violation.signature == ("error-body", "stack-trace"), (status, body)
        assert violation.received.startswith("text/html with a stack trace: "), violation
    if line is not None:
        assert stack_trace(body) == line


@pytest.mark.parametrize("body", READABLE)
def test_any_error_body_without_a_stack_trace_is_readable(body: bytes) -> None:
    for content_type in ("text/html;charset=utf-8", "application/json", ""):
        assert check_http(400, content_type, body, MALFORMED, error_bodies=True)[0] is None, body
        assert check_http(401, content_type, body, UNAUTHENTICATED, error_bodies=True)[0] is None, body
    assert stack_trace(body) is None


def test_error_bodies_are_judged_only_when_asked() -> None:
    checked: list[str] = []
    assert check_http(400, "text/plain", TRACES[0][0], MALFORMED, checked=checked)[0] is None  # the load runner's
    assert "error-body" not in checked


def test_options_may_be_answered_2xx_with_an_allow_listing_post() -> None:
    """RFC 9110 §9.3.7: a CORS gateway answers OPTIONS 204 with `Allow: OPTIONS, POST`; a 405 is fine too."""
    assert other_method("OPTIONS") is OPTIONS_METHOD and other_method("options") is OPTIONS_METHOD
    for status, allow in ((204, "OPTIONS, POST"), (200, "POST,OPTIONS"), (405, "POST"), (204, "options, post")):
        assert check_http(status, "", b"", OPTIONS_METHOD, method="OPTIONS", allow=allow)[0] is None, (status, allow)
    violation, _ = check_http(204, "", b"", OPTIONS_METHOD, method="OPTIONS", allow="GET, OPTIONS")
    assert violation == Violation("method-not-allowed", "allow-header", "an Allow header listing POST",
                                  "Allow: 'GET, OPTIONS'")
    violation, _ = check_http(204, "", b"", OPTIONS_METHOD, method="OPTIONS")
    assert violation is not None and violation.received == "no Allow header"
    assert check_http(202, "", b"", OPTIONS_METHOD, method="OPTIONS", allow="POST")[0] is not None


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "PATCH", "TRACE", "QUERY"])
def test_every_other_method_is_answered_405_head_as_get(method: str) -> None:
    """HEAD follows GET (RFC 9110 §9.3.2): where GET is 405, so is HEAD, and its answer has no body."""
    assert other_method(method) is OTHER_METHOD
    assert check_http(405, "", b"", OTHER_METHOD, method=method, allow="OPTIONS, POST, HEAD")[0] is None
    for status in (200, 204):
        violation, _ = check_http(status, "", b"", OTHER_METHOD, method=method, allow="POST")
        assert violation is not None and violation.signature == ("method-not-allowed", f"status-{status}")


def test_a_route_without_credentials_may_get_anything_but_a_2xx() -> None:
    expect = unauthenticated_route("/v2/coupon/bulk/issue/")
    for status in (301, 302, 307, 308, 400, 401, 403, 404, 405, 414, 429):
        assert check_http(status, "text/html", b"<html>no</html>", expect, error_bodies=True)[0] is None, status
    violation, _ = check_http(405, "", b"", expect, method="GET")  # another resource's 405: its Allow is its own
    assert violation is None
    violation, _ = check_http(200, "application/json", b"{}", expect)
    assert violation == Violation(
        "auth-required", "status-200",
        "no 2xx without valid credentials: 401, 400, 404, 405, another 4xx or a redirect (not followed)",
        "status 200 without valid credentials on route '/v2/coupon/bulk/issue/': an auth bypass")
    assert get_rule(violation.rule_id).severity is Severity.CRITICAL
    assert check_http(500, "", b"", expect)[0] == Violation("no-server-error", "status-500", "a status below 500",
                                                           "status 500")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json;charset=UTF-8",
                                          "Application/JSON", "application/problem+json; charset=utf-8"])
def test_a_charset_or_case_in_the_media_type_is_the_same_type(content_type: str) -> None:
    violation, body = check_http(200, content_type, b'{"response": []}', WELL_FORMED)
    assert violation is None and body == {"response": []}


def test_a_lenient_parse_is_a_warning_of_its_own_rule() -> None:
    assert lenient_answer(200, STRICT_JSON) == Violation("strict-json", "status-200", "status 400", "status 200")
    assert lenient_answer(400, STRICT_JSON) is None
    assert lenient_answer(200, WELL_FORMED) is None
