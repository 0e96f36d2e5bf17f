"""What a finding needs to be replayed later: how its request was judged, and for a cross-request rule the
earlier requests it needs.

`RecordingJudge` is the run's `Judge` with a memory of bulk issues on the side: per (series, code) the customer and
request whose answer first held the code; per series the request that set the attributes it must keep (taken as
the Ledger takes its reference). A later `unique-codes` or `series-attributes-stable` finding keeps those requests
as its `sequence`, which `replay` and the exported tests send first. A few hundred bytes per coupon of a contract
run; the load runner does not use it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from coupon_harness.contract.catalog import RuleId
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.http_rules import Expect
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.results.contract import ReplayInfo, RequestSample
from coupon_harness.runners.contract.exchange import Exchange
from coupon_harness.runners.contract.judge import Judge

__all__ = ["IssueHistory", "RecordingJudge", "replay_info"]

#: (series, code) of each entity that issued a coupon, and the series whose attributes it carries.
_Issued = list[tuple[Any, Any]]


def replay_info(expect: Expect, call: IssueCall | None) -> ReplayInfo:
    statuses = () if expect.route is not None else tuple(sorted(expect.statuses))  # a route's Expect says them
    return ReplayInfo(statuses=statuses, status_rule=_plain(expect.rule),
                      warn=tuple(sorted(expect.warn)), warn_rule=_plain(expect.warn_rule), issue_call=call is not None,
                      fresh_customer=bool(call is not None and call.fresh_customer), route=expect.route)


def _plain(rule_id: str | None) -> str | None:
    """A RuleId as the plain str it is (reports and exported tests write it as a string)."""
    return None if rule_id is None else str(rule_id)


def _issued(exchange: Exchange, series_ids: Sequence[int]) -> _Issued:
    """The entities of a 200 that hold a coupon, as the Ledger reads them."""
    entities = exchange.entities() or []
    out: _Issued = []
    for index, entity in enumerate(entities[: len(series_ids)]):
        if not isinstance(entity, dict):
            continue
        result, errors = entity.get("result"), entity.get("errors")
        if isinstance(result, dict) and not (isinstance(errors, list) and errors):
            code = result.get("code")
            out.append((series_ids[index], code if isinstance(code, str) and code else None))
    return out


class IssueHistory:
    """The earlier requests a cross-request finding needs (see the module's docstring); thread-safe."""

    def __init__(self) -> None:
        self._holders: dict[tuple[Any, str], tuple[Any, RequestSample]] = {}
        self._references: dict[Any, RequestSample] = {}
        self._lock = threading.Lock()

    def before(self, issued: _Issued, customer: Any) -> dict[str, list[RequestSample]]:
        """Per cross-request rule, the earlier requests this answer would be compared with."""
        codes: list[RequestSample] = []
        references: list[RequestSample] = []
        with self._lock:
            for series, code in issued:
                holder = self._holders.get((series, code)) if code is not None else None
                if holder is not None and holder[0] != customer and holder[1] not in codes:
                    codes.append(holder[1])
                reference = self._references.get(series)
                if reference is not None and reference not in references:
                    references.append(reference)
        return {RuleId.UNIQUE_CODES: codes, RuleId.SERIES_ATTRIBUTES_STABLE: references}

    def remember(self, issued: _Issued, customer: Any, request: RequestSample) -> None:
        with self._lock:
            for series, code in issued:
                if code is not None:
                    self._holders.setdefault((series, code), (customer, request))
                self._references.setdefault(series, request)


@dataclass(eq=False)
class RecordingJudge(Judge):
    """The Judge, telling the Collector how each exchange was judged and what went before it."""

    history: IssueHistory = field(default_factory=IssueHistory, init=False)

    def retarget(self, expectations: Expectations) -> None:
        super().retarget(expectations)
        self.history = IssueHistory()  # a fresh Ledger: what it saw before is forgotten too

    def judge(self, exchange: Exchange, expect: Expect, call: IssueCall | None, source: str,
              probe: str | None = None, group: str | None = None) -> None:
        issued = _issued(exchange, call.series_ids) if call is not None else []
        customer = call.customer_id if call is not None else None
        context = self.collector.context
        with self.lock:  # what went before, the judging and the memory of it: one answer at a time
            context.replay = replay_info(expect, call)
            context.sequences = self.history.before(issued, customer) if issued else None
            try:
                super().judge(exchange, expect, call, source, probe, group)
            finally:
                context.replay = None
                context.sequences = None
            if issued:
                self.history.remember(issued, customer, exchange.request)
