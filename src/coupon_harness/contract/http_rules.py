"""The HTTP-level rules, one home for both runners: transport, 5xx, documented status, the Allow header of
a 405 (and of a 2xx to OPTIONS), no stack trace in an error body, and a 200's Content-Type and JSON body.

What RFC 9110 leaves to a server is not a finding: OPTIONS answered 200 or 204 with an Allow listing POST
(a CORS gateway's), HEAD answered as GET is (405), a `charset` parameter, an Allow listing several methods,
an HTML error page. The transport (outbound.py) decodes gzip, deflate and br within the body cap.

The contract runner's Judge and the load runner's ResponseChecker both call `check_http`, so a broken
answer gets the same rule, kind and wording whichever runner met it. It is on the load runner's hot path:
a 200 costs a status look-up, one media-type test and the parse (orjson), nothing else.
"""

from __future__ import annotations

import contextlib
import html
import re
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
    "OPTIONS_METHOD",
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
    "other_method",
    "stack_trace",
    "transport_failure",
    "unauthenticated_route",
]

POST_STATUSES = frozenset({200, 400, 401})


@dataclass(frozen=True, slots=True)
class Expect:
    """The statuses a request may be answered with, and the rule broken by any other (None: any status
    outside them breaks `documented-status`).

    `warn` statuses are allowed too, but each is a finding of `warn_rule` (a warning-severity rule): the
    target was harmlessly lenient (it read a body a strict parser refuses).

    `route`: the request went without valid credentials to this path (and query) after the base URL, as a
    router or proxy may map it to the endpoint (the routes pass, `unauthenticated_route`): a status outside
    `statuses` is worded as an auth bypass on it, and a 405 there need not list POST (it may be another
    resource's; the other passes judge the endpoint's own 405s).
    """

    statuses: frozenset[int]
    rule: str | None
    warn: frozenset[int] = frozenset()
    warn_rule: str | None = None
    route: str | None = None


WELL_FORMED = Expect(frozenset({200}), RuleId.ACCEPTS_WELL_FORMED)
MALFORMED = Expect(frozenset({400}), RuleId.REJECTS_MALFORMED)
UNAUTHENTICATED = Expect(frozenset({401}), RuleId.AUTH_REQUIRED)
#: Any method but POST and OPTIONS (HEAD follows GET, RFC 9110 §9.3.2): 405 with an Allow listing POST.
OTHER_METHOD = Expect(frozenset({405}), RuleId.METHOD_NOT_ALLOWED)
#: OPTIONS asks what the resource allows (RFC 9110 §9.3.7): 200 or 204 (a CORS gateway's), or 405, with an
#: Allow listing POST either way.
OPTIONS_METHOD = Expect(frozenset({200, 204, 405}), RuleId.METHOD_NOT_ALLOWED)
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


#: What a request without valid credentials on a route variant may get: anything but a 2xx (a 5xx is
#: no-server-error, as everywhere).
_NOT_2XX = frozenset(range(300, 500))
_BYPASS_EXPECTED = "no 2xx without valid credentials: 401, 400, 404, 405, another 4xx or a redirect (not followed)"


def other_method(method: str) -> Expect:
    """What a request with another method than POST on the endpoint may get."""
    return OPTIONS_METHOD if method.upper() == "OPTIONS" else OTHER_METHOD


def unauthenticated_route(route: str) -> Expect:
    """A well-formed request without valid credentials on `route` (a path and query after the base URL that a
    router may map to the endpoint, or the endpoint with a method override): a 2xx is an auth bypass
    (`auth-required`); 401, 400, 404, 405, any other 4xx and a redirect (never followed) are fine."""
    return Expect(_NOT_2XX, RuleId.AUTH_REQUIRED, route=route)


def transport_failure(kind: str, detail: str) -> Violation:
    """No complete answer: `kind` is "timeout", "connection" or "too-large"."""
    return Violation(RuleId.TRANSPORT, kind, _TRANSPORT_EXPECTED, detail)


def expected_statuses(statuses: frozenset[int]) -> str:
    return "status " + " or ".join(str(s) for s in sorted(statuses))


# Complexity allowed: the HTTP rules in the order they are judged, one branch each (both runners' hot path).
def check_http(status: int | None, content_type: str, body: bytes, expect: Expect, *, method: str = "POST",  # noqa: C901, PLR0911, PLR0912
               allow: str | None = None, error_bodies: bool = False,
               checked: list[str] | None = None, transport: tuple[str, str] = ("connection", "no answer"),
               ) -> tuple[Violation | None, Any]:
    """The first HTTP-level rule an answer breaks (None when it breaks none), and its body parsed as JSON
    when the answer is a 200 to a POST that passed (else NOT_PARSED): the per-response rules take it from
    there.

    `status` None: no answer, a `transport` violation of kind/detail `transport`. `allow`: the answer's Allow
    header (judged on a 405, and on a 2xx to OPTIONS). `error_bodies`: judge a 4xx body (`error-body`: no stack
    trace), which the load runner's hot path skips. `checked`, when given, gets the id of every rule judged, in
    order.
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
        if expect.route is not None:
            return Violation(rule, f"status-{status}", _BYPASS_EXPECTED,
                             f"status {status} without valid credentials on route {expect.route!r}: an auth "
                             "bypass"), NOT_PARSED
        return Violation(rule, f"status-{status}", expected_statuses(expect.statuses), f"status {status}"), NOT_PARSED
    if status == 405 or (200 <= status < 300 and method == "OPTIONS"):
        allow = allow or ""
        if expect.route is None and "POST" not in {part.strip().upper() for part in allow.split(",")}:
            return Violation(RuleId.METHOD_NOT_ALLOWED, "allow-header", "an Allow header listing POST",
                             f"Allow: {allow!r}" if allow else "no Allow header"), NOT_PARSED
    elif status == 200:
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
    if error_bodies and 400 <= status < 500:
        if checked is not None:
            checked.append(RuleId.ERROR_BODY)
        trace = stack_trace(body)
        if trace is not None:
            return Violation(RuleId.ERROR_BODY, "stack-trace", "an error body without a stack trace",
                             f"{content_type or 'no Content-Type'} with a stack trace: {trace!r}"), NOT_PARSED
    return None, NOT_PARSED


def lenient_answer(status: int | None, expect: Expect) -> Violation | None:
    """A status `expect` allows as a warning (`warn`): a finding of its `warn_rule` (harmless leniency)."""
    if expect.warn_rule is None or status not in expect.warn:
        return None
    return Violation(expect.warn_rule, f"status-{status}", expected_statuses(expect.statuses), f"status {status}")


#: Lines only a stack trace holds, in the languages servers are written in. Java and Kotlin frames
#: (`at com.x.Y.m(Y.java:42)`, `(Native Method)`), the JVM's uncaught-exception header, Python's traceback and
#: its frames, .NET frames with their source (`   at X.Y() in C:\\src\\Y.cs:line 42`) or the frame end
#: marker, Node.js frames (`at f (/app/x.js:10:5)`), PHP's `Stack trace:` list, Ruby frames, Go's goroutine dump.
_TRACE = re.compile(
    r"\bat [\w$.<>/]+\((?:[\w$-]+\.(?:java|kt|scala|groovy|clj):\d+|Unknown Source|Native Method)\)"
    r"|\bException in thread \""
    r"|\bTraceback \(most recent call last\)"
    r"|\bFile \"[^\"\n]+\", line \d+, in "
    r"|\bat [\w.`<>\[\]]+\([^()\n]*\) in [^\n]*:line \d+"
    r"|--- End of (?:inner exception )?stack trace"
    r"|\bat [^()\n]{1,200} \((?:file://)?[^()\s]+\.(?:js|mjs|cjs|ts):\d+:\d+\)"
    r"|\bStack trace:\s*#0 "
    r"|\.rb:\d+:in [`']"
    r"|\bgoroutine \d+ \[running\]:"
)
#: How much of an error body is searched (a trace that matters starts near the top).
_TRACE_SCAN = 65536
_TRACE_SHOWN = 120


def stack_trace(body: bytes) -> str | None:
    """The stack-trace line an error body leaks first (from where the trace starts to the end of its line), in
    any content type (the strings of a JSON body and the text of an HTML page are searched unescaped), or None.
    A plain HTML error page (Tomcat's "HTTP Status 400 - Bad Request"), JSON, XML or text is fine: what a client
    must not see is the server's internals."""
    text = body[:_TRACE_SCAN].decode("utf-8", "replace")
    found = _TRACE.search(text)
    if found is None and ("&" in text or "\\" in text):
        found = _TRACE.search(html.unescape(text))
        if found is None and "\\" in text:
            with contextlib.suppress(orjson.JSONDecodeError):
                found = _TRACE.search("\n".join(_strings(orjson.loads(body))))
    if found is None:
        return None
    line_end = found.string.find("\n", found.end())
    line = found.string[found.start(): line_end if line_end != -1 else len(found.string)].strip()
    return line if len(line) <= _TRACE_SHOWN else line[: _TRACE_SHOWN - 1] + "…"


def _strings(value: Any, depth: int = 0) -> list[str]:
    """Every string (keys too) of a parsed JSON value, outermost first, 20 levels deep at most."""
    if isinstance(value, str):
        return [value]
    if depth >= 20:
        return []
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (key, *_strings(item, depth + 1))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item, depth + 1)]
    return []
