"""The routes pass: authentication on every route a router or proxy may map to the endpoint.

A filter that checks credentials on one exact path, in front of a router that normalises paths, lets a request
through on a variant of it (OWASP API2). Each variant gets a well-formed body without credentials and with wrong
ones, byte for byte as written here (`Client.raw(exact=True)`): any 2xx is an auth bypass (`auth-required`); any
4xx or a redirect (never followed) is fine (`http_rules.unauthenticated_route`). Method overrides go to the
endpoint itself, both ways round. Findings are named by class (`routes:trailing-slash`, ...).
"""

from __future__ import annotations

from collections.abc import Callable

from coupon_harness import ENDPOINT
from coupon_harness.contract.http_rules import unauthenticated_route
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.exchange import Exchange
from coupon_harness.runners.contract.probes import WRONG_BASIC, well_formed_body

__all__ = ["CREDENTIALS", "OVERRIDES", "ROUTES", "run_route_probes"]

#: (class, path after the base URL) for each route variant of the endpoint (/v2/coupon/bulk/issue).
ROUTES: tuple[tuple[str, str], ...] = (
    ("trailing-slash", ENDPOINT + "/"),
    ("double-slash", "/" + ENDPOINT),
    ("double-slash", ENDPOINT.replace("/bulk", "//bulk")),
    ("case", ENDPOINT.upper()),
    ("case", ENDPOINT.replace("issue", "Issue")),
    ("percent-encoding", ENDPOINT.replace("bulk", "%62ulk")),
    ("percent-encoding", ENDPOINT.replace("/bulk", "/%2E/bulk")),
    ("dot-segment", ENDPOINT.replace("/bulk", "/./bulk")),
    ("dot-segment", ENDPOINT.replace("/bulk", "/x/../bulk")),
    ("matrix-parameter", ENDPOINT + ";x=1"),
    ("matrix-parameter", ENDPOINT.replace("/bulk", ";x=1/bulk")),
    ("query-string", ENDPOINT + "?x=1"),
    ("suffix", ENDPOINT + ".json"),
)

#: Method-override headers (frameworks tunnel a method through them), and (method sent, method named): a
#: filter that guards POST by the request line, or skips what the header calls another method.
OVERRIDE_HEADERS = ("X-HTTP-Method-Override", "X-Method-Override", "X-HTTP-Method")
OVERRIDES: tuple[tuple[str, str, str], ...] = tuple(
    (header, sent, named) for header in OVERRIDE_HEADERS for sent, named in (("GET", "POST"), ("POST", "GET")))

#: No credentials, and wrong ones that no redactor hides (a replay sends them as recorded, never the user's own).
CREDENTIALS: tuple[dict[str, str], ...] = ({}, {"Authorization": WRONG_BASIC})


def run_route_probes(client: Client, progress: Callable[[str], None]) -> int:
    """Every route variant and method override, with each of CREDENTIALS; returns the requests sent."""
    base = client.settings.base_url.rstrip("/")
    cases: list[tuple[str, str, str, dict[str, str]]] = [
        (name, "POST", route, {}) for name, route in ROUTES]
    cases += [("method-override", sent, ENDPOINT, {header: named}) for header, sent, named in OVERRIDES]
    sent = 0
    with client.lane() as lane:  # sent by --workers threads, judged here in order
        for name, method, route, headers in cases:
            for credentials in CREDENTIALS:
                if client.judge.collector.stopped:
                    progress(f"routes: {sent} requests (the target stopped answering)")
                    return sent
                lane.submit(_sender(client, method, base + route, {**headers, **credentials}),
                            _judger(client, route, name))
                sent += 1
    progress(f"routes: {sent} requests")
    return sent


def _sender(client: Client, method: str, url: str, headers: dict[str, str]) -> Callable[[], Exchange]:
    body = well_formed_body(client)  # here, in the pass's thread: the same customers in the same order for any N
    return lambda: client.raw(method, body, headers=headers, auth=False, url=url, source="routes", exact=True)


def _judger(client: Client, route: str, name: str) -> Callable[[Exchange], None]:
    return lambda exchange: client.judge.judge(exchange, unauthenticated_route(route), None, "routes",
                                               probe=f"routes:{name}")
