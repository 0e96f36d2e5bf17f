"""Replays a finding: its recorded requests (the earlier ones a cross-request rule needs, then its own) sent again
and judged by the same Judge and rules with a fresh Ledger: "still failing" when the same fingerprint shows again,
"fixed" when it does not.

On the way the target changes (a routes probe's path variant goes byte for byte after the replay's base URL), the
run's redacted credentials become the replay's own (made-up ones are sent as recorded), and customers made up for
the run (`ch-...`) become fresh ones, one per recorded id. A body the report kept cut (over 8 KB) is not replayable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from coupon_harness import ENDPOINT
from coupon_harness.contract.catalog import RuleId
from coupon_harness.contract.http_rules import WELL_FORMED, Expect, unauthenticated_route
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.contract.ledger import Ledger
from coupon_harness.coupon_log import CouponLog
from coupon_harness.errors import TargetUnreachable
from coupon_harness.results.contract import Finding, ReplayInfo, RequestSample
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.collector import Collector
from coupon_harness.runners.contract.exchange import REFUSED, UNRESOLVED
from coupon_harness.runners.contract.judge import Judge
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.safety import refuse_production
from coupon_harness.transport.auth import REDACTED, AuthError

__all__ = ["FIXED", "NOT_REPLAYABLE", "STILL_FAILING", "ReplayVerdict", "replay_finding", "replay_findings"]

STILL_FAILING = "still failing"
FIXED = "fixed"
NOT_REPLAYABLE = "not replayable"
_CUT = re.compile(r"… \(cut: \d+ (bytes|characters) in all\)$")
_MADE_UP = re.compile(r'"(ch-[0-9a-f]{10}-\d+)"')
_EARLIER = ReplayInfo((200,), WELL_FORMED.rule, issue_call=True, fresh_customer=True)


@dataclass(frozen=True, slots=True)
class ReplayVerdict:
    fingerprint: str
    rule_id: str
    key: str
    state: str
    #: What the target answered (still failing), what else it broke now (fixed), or why it could not be sent.
    detail: str


def _expect(info: ReplayInfo) -> Expect:
    if info.route is not None:
        return unauthenticated_route(info.route)
    return Expect(frozenset(info.statuses), info.status_rule, frozenset(info.warn), info.warn_rule)


def _url(recorded: str, base_url: str, route: str | None = None) -> str:
    if route is not None:  # a routes probe: its variant of the path, after the replay's base URL
        return base_url.rstrip("/") + route
    parts = urlsplit(recorded)
    path = ENDPOINT if parts.path.endswith(ENDPOINT) else parts.path
    return base_url.rstrip("/") + path + (f"?{parts.query}" if parts.query else "")


def _call(body: str | None, fresh: bool) -> IssueCall | None:
    try:
        data: Any = orjson.loads(body or "")
        series = [int(s) for s in data["seriesIds"]]
        customer = data["customer"]["id"]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return IssueCall(series, customer if isinstance(customer, str) else str(customer), datetime.now(UTC), fresh)


class _Replayer:
    def __init__(self, settings: ContractSettings) -> None:
        refuse_production(settings.base_url, allow=settings.allow_production)
        self.settings = settings
        self.credentials = settings.credentials.any
        self.redactor, self.headers = settings.auth()
        #: Every coupon the replayed requests make the target issue, listed as it arrives (source "replay").
        self.coupons = (CouponLog(settings.coupons_csv, redact=self.redactor.text)
                        if settings.coupons_csv is not None else None)

    def close(self) -> None:
        if self.coupons is not None:
            self.coupons.close()

    def replay(self, finding: Finding) -> ReplayVerdict:
        def verdict(state: str, detail: str) -> ReplayVerdict:
            return ReplayVerdict(finding.fingerprint, finding.rule_id, finding.key, state, detail)

        if finding.request is None:
            return verdict(NOT_REPLAYABLE, "no request was recorded for it (a rule judged over the whole run)")
        if finding.replay is None:
            return verdict(NOT_REPLAYABLE, "the report does not say how it was judged (written by an older "
                                           "coupon-harness): run the contract again")
        requests = [*finding.sequence, finding.request]
        #: How each earlier request was judged: as recorded (a stateful sequence), else as a fresh customer's issue.
        judged = (finding.sequence_judged if len(finding.sequence_judged) == len(finding.sequence)
                  else [_EARLIER] * len(finding.sequence))
        if any(request.body is not None and _CUT.search(request.body) for request in requests):
            return verdict(NOT_REPLAYABLE, "the report keeps its body cut (over 8 KB): use the Replay command")
        if any(REDACTED in value for request in requests for _, value in request.headers) and not self.credentials:
            return verdict(NOT_REPLAYABLE, "its requests carried the run's credentials, and none are given now")
        collector = Collector(0, 1_000_000, self.redactor)
        judge = Judge(collector, self.settings.expectations, Ledger(self.settings.expectations), self.redactor,
                      self.coupons)
        client = Client(self.settings, judge, self.headers)
        customers: dict[str, str] = {}
        try:
            for position, request in enumerate(requests):
                last = position == len(requests) - 1
                info = finding.replay if last else judged[position]
                body = self._body(request, customers, client)
                # A request that must be refused 401 is sent without credentials: its own wrong ones are redacted
                # in the report like the user's, and the user's would change its meaning.
                authed = (info.status_rule != RuleId.AUTH_REQUIRED
                          and any(REDACTED in value for _, value in request.headers))
                route = info.route
                exchange = client.raw(request.method, body.encode("utf-8", "surrogatepass") if body is not None
                                      else None, headers=self._headers(request), auth=authed,
                                      url=_url(request.url, self.settings.base_url, route), source="replay",
                                      exact=route is not None)
                if exchange.error is not None and exchange.error_detail in (REFUSED, UNRESOLVED):
                    raise TargetUnreachable(f"{self.settings.base_url}: {exchange.error_detail}; is the target "
                                            "up, and is --base-url right?")
                if exchange.status == 401 and authed and 401 not in info.statuses:
                    # Never "fixed" because the target refused us: that would pass any regression test.
                    raise TargetUnreachable(f"{self.settings.base_url} refused the credentials given (401): "
                                            "check --user, --token or --oauth-key")
                call = _call(body, info.fresh_customer) if info.issue_call else None
                judge.judge(exchange, _expect(info), call, "replay", probe=finding.probe if last else None,
                            group=finding.probe_class if last else None)
        except AuthError as exc:
            raise TargetUnreachable(self.redactor.text(str(exc))) from None
        finally:
            client.close()
        found = collector.findings
        same = [f for f in found if f.fingerprint == finding.fingerprint]
        if same:
            return verdict(STILL_FAILING, f"expected {same[0].expected}; received {same[0].received}")
        others = sorted({f"{f.rule_id} ({f.key})" for f in found})
        return verdict(FIXED, f"but now breaks {', '.join(others)}" if others else "")

    def _headers(self, request: RequestSample) -> dict[str, str | None]:
        """The recorded headers less the run's own credentials (shown redacted; the replay's are added), Basic ones
        recorded under another spelling of the scheme (the auth pass's `basic`) sent in that spelling."""
        headers: dict[str, str | None] = {}
        for name, value in request.headers:
            if REDACTED not in value:
                headers[name] = value
                continue
            scheme = value.partition(" ")[0]
            own = self.headers().get("Authorization", "") if name.lower() == "authorization" else ""
            if scheme != "Basic" and scheme.lower() == "basic" and own.startswith("Basic "):
                headers[name] = scheme + own[len("Basic"):]
        return headers

    @staticmethod
    def _body(request: RequestSample, customers: dict[str, str], client: Client) -> str | None:
        if request.body is None:
            return None

        def fresh(match: re.Match[str]) -> str:
            made_up = match.group(1)
            if made_up not in customers:
                customers[made_up] = client.fresh_customer()
            return f'"{customers[made_up]}"'

        return _MADE_UP.sub(fresh, request.body)


def replay_finding(finding: Finding, settings: ContractSettings) -> ReplayVerdict:
    """Send the finding's requests to `settings.base_url` and judge the last answer as the run did.
    TargetUnreachable (exit 2) when nothing listens there or the credentials are refused for a token."""
    return replay_findings([finding], settings)[0]


def replay_findings(findings: list[Finding], settings: ContractSettings) -> list[ReplayVerdict]:
    """Replay each finding in turn; the coupons they cause go to `settings.coupons_csv` (when given)."""
    replayer = _Replayer(settings)
    try:
        verdicts = [replayer.replay(finding) for finding in findings]
    finally:
        replayer.close()
    if replayer.coupons is not None and replayer.coupons.error is not None:  # the last fsync failed
        raise replayer.coupons.error
    return verdicts
