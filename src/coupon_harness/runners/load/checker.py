"""Judges one load-run response with the contract gate's HTTP rules, schema and invariants, plus the figures a
load report counts (the cross-response rules are the Ledger's). Hot path: every response goes through `check`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from coupon_harness.contract.catalog import RuleId
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.http_rules import NOT_PARSED, WELL_FORMED, check_http
from coupon_harness.contract.invariants import EntityTally, IssueCall, check_response, is_number
from coupon_harness.contract.violations import Violation

__all__ = ["TRANSPORT_STATUS", "CheckOutcome", "ResponseChecker"]

#: The status column of a request that got no answer (beside "200", "500", ...): the rule's name.
TRANSPORT_STATUS: str = RuleId.TRANSPORT.value

@dataclass(slots=True)
class CheckOutcome:
    """What one response contributed to the run's figures."""

    status: str
    violations: list[Violation] = field(default_factory=list)
    #: Σ totalCount and Σ failureCount as the answer states them (failure-count judges their honesty).
    entities: int = 0
    entity_failures: int = 0
    tally: EntityTally | None = None

    @property
    def ok(self) -> bool:
        return self.status == "200" and not self.violations


class ResponseChecker:
    def __init__(self, expectations: Expectations) -> None:
        self._expectations = expectations
        self._invalid = expectations.invalid_series

    def check(self, status: int | None, content_type: str, body: bytes, series_ids: Sequence[int],
              customer_id: str, issued_at: datetime, transport: tuple[str, str] | None = None) -> CheckOutcome:
        """`transport`: (kind, detail) of a request that got no whole answer ("timeout", "too-large",
        "connection"), for the transport violation's example."""
        if transport is not None:
            violation, parsed = check_http(None, content_type, body, WELL_FORMED, transport=transport)
        else:
            violation, parsed = check_http(status, content_type, body, WELL_FORMED)
        if violation is not None:
            return CheckOutcome(_status_label(status), [violation])
        if parsed is NOT_PARSED:  # cannot happen for a POST answered without violation (a 200), but typed so
            return CheckOutcome(_status_label(status))
        tally = EntityTally(self._invalid)
        found = check_response(IssueCall(series_ids, customer_id, issued_at), parsed, self._expectations, tally)
        outcome = CheckOutcome("200", found, tally.entities, tally.failures, tally)
        if type(parsed) is dict:
            total, failures = parsed.get("totalCount"), parsed.get("failureCount")
            if is_number(total) and is_number(failures):
                outcome.entities, outcome.entity_failures = int(total), int(failures)
        return outcome


def _status_label(status: int | None) -> str:
    return TRANSPORT_STATUS if status is None else str(status)
