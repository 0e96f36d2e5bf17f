"""junit.xml: parses, one testcase per catalog rule, right counts, failures carry curl and seed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tests.reporting.reporting_builders import (
    FAULT_ERROR,
    INVALID_REASON,
    NOT_RUN_REASON,
    PROBE,
    TRACEBACK,
    build,
    finding,
)

from coupon_harness.contract.catalog import get_rule, rules
from coupon_harness.reporting.contract.junit import render_junit
from coupon_harness.results.contract import ContractRunResult, Outcome, RuleResult


def _suite(result: ContractRunResult, tmp_path: Path) -> ET.Element:
    path = tmp_path / "junit.xml"
    path.write_text(render_junit(result), encoding="utf-8")
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    assert suites[0].get("name") == "coupon-harness contract"
    return suites[0]


def _case(suite: ET.Element, rule_id: str) -> ET.Element:
    matches = [case for case in suite.iter("testcase") if case.get("name", "").startswith(f"{rule_id}: ")]
    assert len(matches) == 1
    return matches[0]


def test_one_testcase_per_rule_failed_first(failed_result: ContractRunResult, tmp_path: Path) -> None:
    suite = _suite(failed_result, tmp_path)
    cases = suite.findall("testcase")
    assert sorted(case.get("name") or "" for case in cases) == sorted(f"{rule.id}: {rule.title}" for rule in rules())
    failed = [case.find("failure") is not None for case in cases]
    assert failed == sorted(failed, reverse=True) and failed[0]  # failed rules come first
    by_name = {case.get("name"): case.get("classname") for case in cases}
    assert all(by_name[f"{rule.id}: {rule.title}"] == f"contract.{rule.group}" for rule in rules())
    assert all(case.get("time") is not None for case in cases)


def test_counts_and_timestamp(failed_result: ContractRunResult, tmp_path: Path) -> None:
    suite = _suite(failed_result, tmp_path)
    assert suite.get("tests") == str(len(rules()))
    assert suite.get("failures") == "2"
    assert suite.get("skipped") == "4"
    assert suite.get("errors") == "0"
    assert suite.get("time") == "12.345"
    assert suite.get("timestamp") == "2026-11-26T07:18:36"
    assert len(suite.findall("testcase/failure")) == 2
    assert len(suite.findall("testcase/skipped")) == 4


def test_failure_carries_every_finding(failed_result: ContractRunResult, tmp_path: Path) -> None:
    failure = _case(_suite(failed_result, tmp_path), "entity-order").find("failure")
    assert failure is not None
    assert failure.get("type") == "entity-order"
    assert failure.get("message") == "expected entityId 101 at position 0, received entityId 102"
    text = failure.text or ""
    assert "received: entityId 102" in text
    assert "received: entityId 101" in text
    assert "Finding 2 of 2: order-tail" in text
    assert "coupon-harness contract --seed 7" in text
    assert "found in: scenario/mixed-batch (1 occurrence)" in text
    assert "curl -X POST" in text and "http://127.0.0.1:8080/v2/coupon/bulk/issue" in text


def test_failure_seed_and_occurrences(failed_result: ContractRunResult, tmp_path: Path) -> None:
    failure = _case(_suite(failed_result, tmp_path), "no-server-error").find("failure")
    assert failure is not None
    assert "coupon-harness contract --seed 11" in (failure.text or "")
    assert "property/negative (3 occurrences)" in (failure.text or "")


def test_not_run_is_skipped_with_reason(failed_result: ContractRunResult, tmp_path: Path) -> None:
    suite = _suite(failed_result, tmp_path)
    skipped = _case(suite, "invalid-series-refused").find("skipped")
    assert skipped is not None
    assert skipped.get("message") == INVALID_REASON
    other = _case(suite, "unique-codes").find("skipped")
    assert other is not None and other.get("message") == NOT_RUN_REASON


def test_warned_passes_with_system_out(failed_result: ContractRunResult, tmp_path: Path) -> None:
    case = _case(_suite(failed_result, tmp_path), "error-body")
    assert case.find("failure") is None and case.find("skipped") is None
    out = case.find("system-out")
    assert out is not None
    assert (out.text or "").startswith("WARNING (does not fail the gate)")
    assert "<html><body>Bad Request</body></html>" in (out.text or "")


def test_all_passed(passed_result: ContractRunResult, tmp_path: Path) -> None:
    suite = _suite(passed_result, tmp_path)
    assert (suite.get("failures"), suite.get("skipped")) == ("0", "0")
    assert all(len(case) == 0 for case in suite.findall("testcase"))


def test_control_characters_still_parse(tmp_path: Path) -> None:
    broken = finding("response-schema", "x", "the response schema", "body \x00\x1b[31m \ud800 end")
    result = build({"response-schema": RuleResult(get_rule("response-schema"), Outcome.FAILED, 1, [broken])})
    failure = _case(_suite(result, tmp_path), "response-schema").find("failure")
    assert failure is not None
    assert "body \\x00\\x1b[31m \\xd800 end" in (failure.text or "")


def test_interrupted_is_a_property(interrupted_result: ContractRunResult, tmp_path: Path) -> None:
    suite = _suite(interrupted_result, tmp_path)
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["interrupted"] == "true"
    assert properties["seed"] == "7"
    out = suite.find("system-out")
    assert out is not None and "(interrupted: partial results)" in (out.text or "")


def test_a_harness_error_is_an_error_testcase(faulted_result: ContractRunResult, tmp_path: Path) -> None:
    suite = _suite(faulted_result, tmp_path)
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == (str(len(rules()) + 1), "1", "3")
    errors = [case for case in suite.findall("testcase") if case.find("error") is not None]
    assert [(case.get("classname"), case.get("name")) for case in errors] == [
        ("coupon-harness", "harness-error:scenarios")]
    error = errors[0].find("error")
    assert error is not None
    assert (error.get("message"), error.get("type")) == (FAULT_ERROR, "TypeError")
    text = error.text or ""
    assert text.startswith("Harness error in pass 'scenarios' (a bug in coupon-harness, not a finding)")
    assert "traceback in harness-error-scenarios.txt; seed 7" in text
    assert TRACEBACK in text
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert (properties["harness_errors"], properties["first_finding_s"]) == ("1", "0.412")
    assert properties["first_finding_source"] == "property/negative"
    out = suite.find("system-out")
    assert out is not None
    lines = (out.text or "").splitlines()
    assert lines[0] == "harness error in 1 pass; 3 rules violated (1 critical)"
    assert lines[1].startswith("Harness error in pass 'scenarios'")
    assert "first finding after 0.4 s (property/negative)" in lines


def test_failure_names_the_probe(faulted_result: ContractRunResult, tmp_path: Path) -> None:
    failure = _case(_suite(faulted_result, tmp_path), "rejects-malformed").find("failure")
    assert failure is not None
    assert f"  probe:    {PROBE}\n  expected: 400 Bad Request\n" in (failure.text or "")


def test_no_fault_no_error_testcase(failed_result: ContractRunResult, tmp_path: Path) -> None:
    suite = _suite(failed_result, tmp_path)
    assert suite.find("testcase/error") is None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["harness_errors"] == "0" and "first_finding_s" not in properties
