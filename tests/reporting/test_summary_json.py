"""summary.json: every field, machine-readable, and its `result` member reads back into the same result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.reporting.load_builders import ramp_compared_result
from tests.reporting.reporting_builders import FAULT_ERROR, INVALID_REASON, PROBE

from coupon_harness.contract.catalog import rules
from coupon_harness.reporting.contract.document import write_contract_reports
from coupon_harness.reporting.contract.summary_json import write_summary_json
from coupon_harness.reporting.load.summary_json import write_load_summary_json
from coupon_harness.reporting.stored import read_stored
from coupon_harness.results.contract import ContractRunResult
from coupon_harness.results.load import LoadRunResult


def read_summary_json(path: Path) -> ContractRunResult:
    return read_stored(path, ContractRunResult)


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
    total = len(rules())
    assert data["counts"] == {"passed": total - 7, "failed": 2, "warned": 1, "known": 0, "not run": 4,
                              "total": total}
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
    with pytest.raises(ValueError, match=r"not a summary\.json of coupon-harness"):
        read_summary_json(path)


def test_an_older_summary_is_one_line_naming_the_version(passed_result: ContractRunResult, tmp_path: Path) -> None:
    """A summary.json of a version from before the `result` member: the one line says so, no KeyError."""
    data = _write(passed_result, tmp_path)
    del data["result"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"^\S*old.json was written by an older coupon-harness \(before 0.2.0\)"):
        read_summary_json(path)
    # a load run's summary.json read as a contract run's: another format, one line
    load = tmp_path / "load.json"
    write_load_summary_json(ramp_compared_result(), load)
    with pytest.raises(ValueError, match=r"not a coupon-harness/contract-result record .*load-result"):
        read_summary_json(load)


def test_harness_errors_probes_and_first_finding(faulted_result: ContractRunResult, tmp_path: Path) -> None:
    data = _write(faulted_result, tmp_path)
    assert data["harness_errors"] == [{"stage": "scenarios", "error": FAULT_ERROR,
                                       "file": "harness-error-scenarios.txt"}]
    assert (data["first_finding_s"], data["first_finding_source"]) == (0.412, "property/negative")
    assert data["verdict"] == "harness error in 1 pass; 3 rules violated (1 critical)"
    probes = {finding["key"]: finding["probe"] for rule in data["rules"] for finding in rule["findings"]}
    assert probes["200"] == PROBE
    assert probes["order"] is None


def test_round_trip_with_a_fault(faulted_result: ContractRunResult, tmp_path: Path) -> None:
    """The traceback travels in the result (it is also in its file beside summary.json)."""
    written = write_contract_reports(faulted_result, tmp_path)
    assert read_summary_json(written["summary.json"]) == faulted_result


def test_traceback_reads_back_without_its_file(faulted_result: ContractRunResult, tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    write_summary_json(faulted_result, path)
    (fault,) = read_summary_json(path).faults
    assert (fault.stage, fault.error, fault.traceback) == ("scenarios", FAULT_ERROR, faulted_result.faults[0].traceback)
    assert fault.traceback


def test_reads_files_written_before_faults_and_probes(faulted_result: ContractRunResult, tmp_path: Path) -> None:
    """A field added with a default after a file was written reads as its default (same version)."""
    data = _write(faulted_result, tmp_path)
    for key in ("faults", "first_finding_s", "first_finding_source"):
        del data["result"][key]
    for rule in data["result"]["rules"]:
        for finding in rule["findings"]:
            del finding["probe"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    old = read_summary_json(path)
    assert (old.faults, old.first_finding_s, old.first_finding_source) == ([], None, None)
    assert all(finding.probe is None for rule in old.rules for finding in rule.findings)
    assert len(old.failed) == 3


def test_steps_and_samples_survive_summary_json(tmp_path: Path) -> None:
    result = ramp_compared_result()
    write_load_summary_json(result, tmp_path / "summary.json")
    back = read_stored(tmp_path / "summary.json", LoadRunResult)
    assert back == result
    assert back.violation_samples == result.violation_samples
    assert [(s.index, s.users, s.requests, s.errors) for s in back.steps] == [
        (s.index, s.users, s.requests, s.errors) for s in result.steps]
    assert len(back.steps) == 5 and back.steps[0].p95_ms is not None
