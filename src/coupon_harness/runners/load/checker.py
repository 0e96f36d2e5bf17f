"""Judges one load-run response against the contract: the same compiled schema and invariants as the
contract gate (coupon_harness.contract.check_response), plus the figures a load report counts.

Hot path: every response of a load run goes through `ResponseChecker.check` (~10 us for a 2-entry
body, parsing included; measured by `coupon-harness bench checker`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.invariants import IssueCall, check_response
from coupon_harness.contract.violations import Violation

__all__ = ["Outcome", "ResponseChecker"]


@dataclass(slots=True)
class Outcome:
    """What one response contributed to the run's figures."""

    status: str
    violations: list[Violation] = field(default_factory=list)
    entities: int = 0
    entity_failures: int = 0
    #: Entities of invalid series (expected to fail) and those of them that did fail.
    expected_entities: int = 0
    expected_failures: int = 0
    #: Entities of other series, and those of them that failed.
    other_entities: int = 0
    unexpected_failures: int = 0
    error_codes: list[int] = field(default_factory=list)
    #: Coupons issued: (series id, code).
    coupons: list[tuple[int, str]] = field(default_factory=list)

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
        call = IssueCall(series_ids, customer_id, issued_at, fresh_customer=False)
        outcome = Outcome("200", check_response(call, parsed, self._expectations))
        self._count(outcome, series_ids, parsed)
        return outcome

    def _count(self, outcome: Outcome, series_ids: Sequence[int], parsed: Any) -> None:
        entities = parsed.get("response") if isinstance(parsed, dict) else None
        if not isinstance(entities, list):
            return
        invalid = self._invalid
        total, failures = parsed.get("totalCount"), parsed.get("failureCount")
        counted = isinstance(total, int | float) and isinstance(failures, int | float)
        if counted:
            # Σ failureCount / Σ totalCount is read off the answer; failure-count judges whether it is honest.
            outcome.entities, outcome.entity_failures = int(total), int(failures)
        for index, entity in enumerate(entities):
            if not isinstance(entity, dict):
                continue
            series = series_ids[index] if index < len(series_ids) else entity.get("entityId")
            errors = entity.get("errors")
            failed = isinstance(errors, list) and len(errors) > 0
            if not counted:
                outcome.entities += 1
                outcome.entity_failures += failed
            if series in invalid:
                outcome.expected_entities += 1
                outcome.expected_failures += failed
            else:
                outcome.other_entities += 1
                outcome.unexpected_failures += failed
            if failed and isinstance(errors, list):
                for error in errors:
                    code = error.get("code") if isinstance(error, dict) else None
                    if isinstance(code, int):
                        outcome.error_codes.append(code)
            else:
                result = entity.get("result")
                if isinstance(result, dict):
                    code = result.get("code")
                    if isinstance(code, str) and code and isinstance(series, int):
                        outcome.coupons.append((series, code))


def now() -> datetime:
    return datetime.now(UTC)
