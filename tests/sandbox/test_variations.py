"""Output variations Capillary legitimately gives: each still passes the contract."""

from __future__ import annotations

from datetime import datetime, timedelta

import requests
from tests.sandbox.sandbox_helpers import contract_violations

from coupon_harness.sandbox import SandboxConfig, Variations, running_sandbox


def serve_with(**options: object) -> SandboxConfig:
    return SandboxConfig(variations=Variations(**options))  # type: ignore[arg-type]


def test_numbers_as_floats(http: requests.Session) -> None:
    with running_sandbox(serve_with(numbers_as_floats=True)) as sandbox:
        body, violations = contract_violations(http, sandbox, [101, 102])
    assert violations == []
    result = body["response"][0]["result"]
    assert result["discountValue"] == 500.0 and isinstance(result["discountValue"], float)
    assert isinstance(result["discountUpto"], float)
    assert isinstance(result["seriesId"], int) and isinstance(result["redemptionCount"], int)


def test_valid_till_offset(http: requests.Session) -> None:
    with running_sandbox(serve_with(valid_till_offset="+05:30")) as sandbox:
        body, violations = contract_violations(http, sandbox, [101, 102])
    assert violations == []
    fixed, relative = (entity["result"]["validTill"] for entity in body["response"])
    assert fixed == "2099-12-31T05:30:00+05:30"
    parsed = datetime.fromisoformat(relative)
    assert relative.endswith("+05:30") and parsed.utcoffset() == timedelta(hours=5, minutes=30)


def test_extra_fields(http: requests.Session) -> None:
    with running_sandbox(serve_with(extra_fields=True)) as sandbox:
        body, violations = contract_violations(http, sandbox, [101, 104])
    assert violations == []
    first, generic = (entity["result"] for entity in body["response"])
    assert first["validTillDateTime"] == first["validTill"]
    assert (first["couponType"], generic["couponType"]) == ("DISC_CODE", "GENERIC")


def test_failed_result_null(http: requests.Session) -> None:
    with running_sandbox(serve_with(failed_result_null=True)) as sandbox:
        body, violations = contract_violations(http, sandbox, [999999, 101, 201])
    assert violations == []
    refused = body["response"][0]
    assert "result" in refused and refused["result"] is None
    assert body["failureCount"] == 2


def test_code_alphabet_override(http: requests.Session) -> None:
    with running_sandbox(serve_with(code_alphabet="chars:XYZ")) as sandbox:
        body, violations = contract_violations(http, sandbox, [101, 102, 104, 105])
    assert violations == []
    codes = [entity["result"]["code"] for entity in body["response"]]
    assert set(codes[0]) <= set("XYZ") and set(codes[1]) <= set("XYZ")
    assert codes[2] == "SUMMER2099", "a GENERIC code is fixed, not generated"
    assert codes[3].startswith("CH") and set(codes[3][2:]) <= set("XYZ")
