"""summary.json: every field, machine-readable, and it reads back into the same result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from reporting_builders import INVALID_REASON

from coupon_harness.contract import rules
from coupon_harness.reporting import read_summary_json, write_summary_json
from coupon_harness.results import ContractRunResult


def _write(result: ContractRunResult, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "summary.json"
    write_summary_json(result, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("name", ["passed_result", "failed_result", "warned_result", "interrupted_result"])
def test_round_trip(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    result = request.getfixturevalue(name)
    path = tmp_path / "summary.json"
    write_summary_json(result, path)
    assert read_summary_json(path) == result


def test_run_fields_and_counts(interrupted_result: ContractRunResult, tmp_path: Path) -> None:
    data = _write(interrupted_result, tmp_path)
    assert data["schema_version"] == 1
    assert data["target"] == "http://127.0.0.1:8080"
    assert data["started_at"] == "2026-11-26T07:18:36+00:00"
    assert data["duration_s"] == 12.345
    assert (data["seed"], data["requests"], data["interrupted"], data["holds"]) == (7, 812, True, False)
    assert data["passes"] == [{"name": "property/positive", "requests": 500},
                              {"name": "property/negative", "requests": 312}]
    assert data["notes"] == ["auth pass skipped: no credentials given"]
    assert data["counts"] == {"passed": 17, "failed": 2, "warned": 1, "not run": 4, "total": 24}
    assert data["verdict"] == "2 rules violated (1 critical) (interrupted: partial results)"


def test_rules_and_findings(failed_result: ContractRunResult, tmp_path: Path) -> None:
    data = _write(failed_result, tmp_path)
    by_id = {rule["id"]: rule for rule in data["rules"]}
    assert list(by_id) == [rule.id for rule in rules()]
    refused = by_id["invalid-series-refused"]
    assert refused["outcome"] == "not run"
    assert refused["reason"] == INVALID_REASON
    assert (refused["severity"], refused["needs"]) == ("critical", "invalid-series")
    order = by_id["entity-order"]
    assert (order["outcome"], order["group"], order["checks"]) == ("failed", "invariant", 500)
    first, second = order["findings"]
    assert first["curl"].startswith("curl -X POST ")
    assert first["replay"] == "coupon-harness contract --seed 7"
    assert first["request"]["headers"][1] == ["Authorization", "Basic <redacted>"]
    assert (first["expected"], first["received"], first["occurrences"]) == (
        "entityId 101 at position 0", "entityId 102", 1)
    # A finding without its own seed keeps null, and replays with the run's seed.
    assert (second["seed"], second["curl"]) == (None, None)
    assert second["replay"] == "coupon-harness contract --seed 7"
    assert by_id["error-body"]["outcome"] == "warned"


def test_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"schema": "something-else"}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a coupon-harness/contract-summary"):
        read_summary_json(path)
