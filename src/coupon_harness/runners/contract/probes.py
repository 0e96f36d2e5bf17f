"""Fixed probes: credentials (none, wrong, tampered) and bodies no schema generator sends (not JSON)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

from coupon_harness.contract.http_rules import MALFORMED, UNAUTHENTICATED, WELL_FORMED
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.encoding import dump_json
from coupon_harness.runners.contract.exchange import Exchange
from coupon_harness.transport.auth import TOKEN_HEADER

__all__ = ["WRONG_BASIC", "run_auth_probes", "run_malformed_probes", "well_formed_body"]

#: Basic credentials of a user no target has (made up: no redactor hides them, a replay sends them as recorded).
WRONG_BASIC = "Basic " + base64.b64encode(b"coupon-harness-nobody:wrong-password").decode()


def well_formed_body(client: Client) -> bytes:
    """A well-formed issue of the first two valid series (a made-up customer unless a pool is given)."""
    series = sorted(client.judge.expectations.valid_series) or [1]
    return dump_json({"seriesIds": series[:2], "customer": {"id": client.customer()}})


def run_auth_probes(client: Client, progress: Callable[[str], None]) -> int:
    """Every probe carries a well-formed body, so only the credentials can explain a refusal."""
    credentials = client.settings.credentials
    probes: list[tuple[str, dict[str, str]]] = [
        ("no credentials", {}),
        ("unknown user", {"Authorization": WRONG_BASIC}),
        ("unknown token", {TOKEN_HEADER: "coupon-harness-not-a-token"}),
        ("malformed Authorization", {"Authorization": "Basic !!!not-base64"}),
    ]
    if credentials.user is not None:
        wrong = base64.b64encode(f"{credentials.user}:coupon-harness-wrong-password".encode()).decode()
        probes.append(("right user, wrong password", {"Authorization": "Basic " + wrong}))
        probes.append(("bearer instead of basic", {"Authorization": "Bearer coupon-harness-not-a-token"}))
    with client.lane() as lane:  # sent by --workers threads, judged here in order
        for _label, headers in probes:
            lane.submit(_sender(client, well_formed_body(client), "auth", headers, auth=False),
                        lambda exchange: client.judge.judge(exchange, UNAUTHENTICATED, None, "auth"))
    sent = len(probes) + _lower_case_scheme(client)
    progress(f"auth: {sent} requests")
    return sent


def _lower_case_scheme(client: Client) -> int:
    """A well-formed issue with the run's own Basic credentials, scheme written `basic` (RFC 9110 §11.1: a scheme is
    case-insensitive), judged like any other. Nothing without Basic credentials."""
    header = client.settings.credentials.basic_header()
    if header is None:
        return 0
    series = sorted(client.judge.expectations.valid_series)[:2] or [1]
    customer = client.customer()
    issued_at = datetime.now(UTC)
    # The run's credentials, scheme lowered by the client: a differential run lowers each target's own.
    exchange = client.raw("POST", dump_json({"seriesIds": series, "customer": {"id": customer}}), source="auth",
                          lower_scheme=True)
    fresh = not client.settings.customer_ids
    client.judge.judge(exchange, WELL_FORMED, IssueCall(series, customer, issued_at, fresh), "auth",
                       probe="valid credentials, scheme in lower case")
    return 1


MALFORMED_BODIES: tuple[tuple[str, bytes], ...] = (
    ("empty body", b""),
    ("not JSON", b"seriesIds=101&customer=1"),
    ("truncated JSON", b'{"seriesIds": [101], "customer": {"id": "c'),
    ("JSON null", b"null"),
    ("JSON array", b"[101, 102]"),
    ("seriesIds as string", b'{"seriesIds": "101", "customer": {"id": "c1"}}'),
    ("seriesIds empty", b'{"seriesIds": [], "customer": {"id": "c1"}}'),
    ("series id above int32", b'{"seriesIds": [2147483648], "customer": {"id": "c1"}}'),
    ("series id fractional", b'{"seriesIds": [101.5], "customer": {"id": "c1"}}'),
    ("customer.id numeric", b'{"seriesIds": [101], "customer": {"id": 555567088}}'),
    ("customer.id empty", b'{"seriesIds": [101], "customer": {"id": ""}}'),
    ("customer missing", b'{"seriesIds": [101]}'),
    # Values orjson would not write as drawn, sent as written by dump_json:
    ("series id beyond 64 bits", dump_json({"seriesIds": [2**64], "customer": {"id": "c1"}})),
    ("series id beyond a double", dump_json({"seriesIds": [10**400], "customer": {"id": "c1"}})),
    # NaN and Infinity are not here: accepting them is harmless leniency (a warning), judged by the classics.
)


def _sender(client: Client, body: bytes, source: str, headers: dict[str, str] | None = None, *,
            auth: bool = True) -> Callable[[], Exchange]:
    """`Client.probe`'s sending half."""
    return lambda: client.raw("POST", body, headers=headers, auth=auth, source=source)


def run_malformed_probes(client: Client, progress: Callable[[str], None]) -> int:
    with client.lane() as lane:  # sent by --workers threads, judged here in order
        for _label, body in MALFORMED_BODIES:
            lane.submit(_sender(client, body, "malformed"),
                        lambda exchange: client.judge.judge(exchange, MALFORMED, None, "malformed"))
    progress(f"malformed: {len(MALFORMED_BODIES)} requests")
    return len(MALFORMED_BODIES)
