"""Judges one load-run response against the contract: the same compiled schema and invariants as the
contract gate (coupon_harness.contract.check_response), plus the figures a load report counts.

Hot path: every response of a load run goes through `ResponseChecker.check` (about 12 us of CPU for a
2-entry body, parsing included: `scripts/bench_load.py --only 2`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.invariants import EntityTally, IssueCall, check_response, is_number
from coupon_harness.contract.violations import Violation

__all__ = ["Outcome", "ResponseChecker", "now"]

_NO_VIOLATIONS: list[Violation] = []


@dataclass(slots=True)
class Outcome:
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
              customer_id: str, issued_at: datetime) -> Outcome:
        if status is None:
            return Outcome("transport", [Violation("transport", "connection", "an answer", "no answer")])
        if status != 200:
            found = [Violation("no-server-error", f"status-{status}", "a status below 500", f"status {status}")
                     ] if status >= 500 else [Violation("accepts-well-formed", f"status-{status}", "status 200",
                                                        f"status {status}")]
            return Outcome(str(status), found)
        media = content_type.split(";", 1)[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            return Outcome("200", [Violation("json-content-type", "content-type", "application/json",
                                             content_type or "no Content-Type")])
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return Outcome("200", [Violation("json-content-type", "not-json", "a JSON body", "not JSON")])
        tally = EntityTally(self._invalid)
        found = check_response(IssueCall(series_ids, customer_id, issued_at), parsed, self._expectations, tally)
        outcome = Outcome("200", found, tally.entities, tally.failures, tally)
        if type(parsed) is dict:
            total, failures = parsed.get("totalCount"), parsed.get("failureCount")
            if is_number(total) and is_number(failures):
                outcome.entities, outcome.entity_failures = int(total), int(failures)
        return outcome


def now() -> datetime:
    return datetime.now(UTC)
