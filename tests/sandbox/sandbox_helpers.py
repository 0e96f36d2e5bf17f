"""Helpers of the sandbox tests: issue a request, judge its answer by the contract."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import requests

from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.invariants import IssueCall, check_response
from coupon_harness.contract.violations import Violation
from coupon_harness.sandbox import RunningSandbox, SandboxConfig

AUTH = ("sandbox", "sandbox")


def fresh_customer() -> str:
    return f"cust-{uuid.uuid4().hex[:12]}"


def issue(http: requests.Session, sandbox: RunningSandbox, series: Sequence[Any], customer: str | None = None,
          auth: Any = AUTH, **kwargs: Any) -> requests.Response:
    body = {"seriesIds": list(series), "customer": {"id": customer or fresh_customer()}}
    return http.post(sandbox.issue_url, json=body, auth=auth, timeout=5, **kwargs)


def expectations(config: SandboxConfig) -> Expectations:
    return Expectations(valid_series=config.valid_series, invalid_series=config.invalid_series,
                        generic_series=config.generic_series)


def contract_violations(http: requests.Session, sandbox: RunningSandbox, series: Sequence[int],
                        customer: str | None = None) -> tuple[dict[str, Any], list[Violation]]:
    """Issue to a customer (fresh unless given) and judge the answer by the contract's per-response rules."""
    fresh = customer is None
    customer = customer or fresh_customer()
    issued_at = datetime.now(UTC)
    answer = issue(http, sandbox, series, customer)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = answer.json()
    call = IssueCall(series, customer, issued_at, fresh_customer=fresh)
    return body, check_response(call, body, expectations(sandbox.config))
