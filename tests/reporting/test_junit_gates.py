"""junit.xml of load, capacity and run: valid JUnit that CI test tabs read (xml.etree parses it), the expected
testcases with real times, failures where the exit code fails, and the sample curl in a rule's failure."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from tests.reporting.capacity_builders import generator_limited_result, knee_result
from tests.reporting.load_builders import failing_result, load_result, ramp_compared_result

from coupon_harness.contract.catalog import get_rule
from coupon_harness.reporting.capacity.document import write_capacity_reports
from coupon_harness.reporting.capacity.junit import render_capacity_junit
from coupon_harness.reporting.load.document import write_load_reports
from coupon_harness.reporting.load.junit import LOAD_RULES, render_load_junit
from coupon_harness.reporting.run.document import write_run_reports
from coupon_harness.results.contract import ContractRunResult
from coupon_harness.results.load import LoadRunResult, SloResult


def _suites(text: str) -> list[ET.Element]:
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    for key in ("tests", "failures", "errors", "skipped"):  # the root's totals are the suites' sums
        assert int(root.get(key, "-1")) == sum(int(suite.get(key, "-1")) for suite in suites), key
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("errors", "-1")) == len(suite.findall("testcase/error"))
        assert int(suite.get("skipped", "-1")) == len(suite.findall("testcase/skipped"))
        for case in cases:
            assert case.get("classname") and case.get("name")
            assert float(case.get("time", "-1")) >= 0
            assert len([child for child in case if child.tag in ("failure", "error", "skipped")]) <= 1
    return suites


def _cases(suite: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in suite.findall("testcase")}


def _outcome(case: ET.Element) -> str:
    for tag in ("failure", "error", "skipped"):
        if case.find(tag) is not None:
            return tag
    return "passed"


def _rule_name(rule_id: str) -> str:
    rule = get_rule(rule_id)
    return f"{rule.id}: {rule.title}"


# --- load ---------------------------------------------------------------------------------------------------


def test_a_passing_load_run_has_a_testcase_per_slo_and_rule_with_real_times() -> None:
    (suite,) = _suites(render_load_junit(load_result()))
    assert suite.get("name") == "coupon-harness load"
    assert suite.get("time") == "30.000" and suite.get("timestamp") == "2026-11-26T07:18:36"
    names = [case.get("name") for case in suite.findall("testcase")]
    assert names == ["SLO p95<=300ms", "SLO error-rate<=0.01", *(_rule_name(rule) for rule in LOAD_RULES),
                     "load generator kept up (the figures are the target's)"]
    assert all(case.get("time") == "30.000" for case in suite.findall("testcase"))
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert "unique-codes" in LOAD_RULES and "series-attributes-stable" in LOAD_RULES
    slo = _cases(suite)["SLO p95<=300ms"]
    assert "p95 latency 180.0 ms, threshold 300.0 ms: met" in (slo.findtext("system-out") or "")


def test_a_failing_load_run_fails_the_slo_and_the_rules_it_broke() -> None:
    (suite,) = _suites(render_load_junit(failing_result()))
    cases = _cases(suite)
    failure = cases["SLO p95<=300ms"].find("failure")
    assert failure is not None and failure.get("message") == "p95 latency 812.4 ms > 300.0 ms"
    assert _outcome(cases["SLO error-rate<=0.01"]) == "passed"
    unique = cases[_rule_name("unique-codes")].find("failure")
    assert unique is not None and (unique.get("message") or "").startswith("12 of 6,000 responses broke it: ")
    assert "decided across answers" in (unique.text or "")
    assert _outcome(cases[_rule_name("entity-order")]) == "failure"
    assert _outcome(cases[_rule_name("transport")]) == "passed"
    # Saturated: the generator's testcase is skipped (not a failure: the exit code does not fail on it).
    generator = cases["load generator kept up (the figures are the target's)"]
    assert _outcome(generator) == "skipped" and "saturated" in (generator.find("skipped").get("message") or "")
    assert suite.get("failures") == "3"


def test_a_generator_behind_its_schedule_skips_its_testcase_with_the_share_of_late_sends() -> None:
    result = load_result(generator_behind=True, generator_late_share=0.2)
    (suite,) = _suites(render_load_junit(result))
    generator = _cases(suite)["load generator kept up (the figures are the target's)"]
    assert _outcome(generator) == "skipped"
    assert "behind its schedule (20% of its sends left late)" in (generator.find("skipped").get("message") or "")


def test_a_rule_s_failure_carries_its_sample_curl_and_a_regression_fails_the_comparison() -> None:
    (suite,) = _suites(render_load_junit(ramp_compared_result()))
    cases = _cases(suite)
    failure = cases[_rule_name("no-server-error")].find("failure")
    assert failure is not None
    assert 'curl -X POST -u "$COUPON_HARNESS_USER" ' in (failure.text or "")
    assert "<redacted>" not in (failure.text or "")
    comparison = cases["comparison with the earlier run (--compare)"].find("failure")
    assert comparison is not None and "p95" in (comparison.get("message") or "")
    assert all(case.get("time") == "50.000" for case in suite.findall("testcase"))


def test_harness_errors_are_errors_and_an_empty_run_skips_its_rules() -> None:
    result = load_result(requests=0, harness_errors=["TypeError: boom"], interrupted=True,
                         slos=[SloResult("p95", 300.0, "ms", None, False)], duration_s=0.25)
    (suite,) = _suites(render_load_junit(result))
    cases = _cases(suite)
    error = cases["harness-error:load#1"].find("error")
    assert error is not None and error.get("type") == "TypeError"
    assert (cases["SLO p95<=300ms"].find("failure").get("message") or "").endswith("no data > 300.0 ms")
    assert all(_outcome(cases[_rule_name(rule)]) == "skipped" for rule in LOAD_RULES)
    assert {p.get("name"): p.get("value") for p in suite.iter("property")}["interrupted"] == "true"


def test_invalid_series_refused_is_skipped_when_no_invalid_series_was_sent() -> None:
    (suite,) = _suites(render_load_junit(load_result(expected_failures=0)))
    assert _outcome(_cases(suite)[_rule_name("invalid-series-refused")]) == "skipped"


def test_control_characters_and_markup_from_the_target_stay_valid_xml() -> None:
    result = replace(failing_result(), violation_examples={"unique-codes": "x\x00\x1b]]></a>&"})
    (suite,) = _suites(render_load_junit(result))
    text = _cases(suite)[_rule_name("unique-codes")].find("failure").text or ""
    assert "\\x00" in text and "]]></a>&" in text


def test_load_reports_hold_junit_but_a_capacity_step_s_do_not(tmp_path: Path) -> None:
    written = write_load_reports(load_result(), tmp_path / "load")
    assert _suites(written["junit.xml"].read_text(encoding="utf-8"))
    step = write_load_reports(load_result(), tmp_path / "step-01", junit=False)
    assert "junit.xml" not in step and not (tmp_path / "step-01" / "junit.xml").exists()


# --- capacity -----------------------------------------------------------------------------------------------


def test_capacity_knee_passes_with_steps_as_properties(tmp_path: Path) -> None:
    written = write_capacity_reports(knee_result(), tmp_path)
    (suite,) = _suites(written["junit.xml"].read_text(encoding="utf-8"))
    cases = suite.findall("testcase")
    assert cases[0].get("name") == "capacity found (SLOs p95<=300ms, error-rate<=0.01)"
    assert [case.get("name") for case in cases[1:]] == [_rule_name(rule) for rule in LOAD_RULES]
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert all(case.get("time") == "54.000" for case in cases)
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["capacity_rps"] == "200" and properties["breaking_rps"] == "212"
    assert properties["step.03"].startswith("grow 400 req/s offered") and "broke p95<=300ms" in properties["step.03"]


def test_capacity_gate_failures_match_the_exit_code() -> None:
    below = knee_result()
    below.min_capacity = 500.0
    (suite,) = _suites(render_capacity_junit(below))
    gate = suite.findall("testcase")[0]
    assert gate.get("name") == "capacity >= --min-capacity 500 req/s (SLOs p95<=300ms, error-rate<=0.01)"
    assert "below --min-capacity 500" in (gate.find("failure").get("message") or "")

    (suite,) = _suites(render_capacity_junit(generator_limited_result()))  # exit 2: the harness measured itself
    assert "generator was the limit" in (suite.findall("testcase")[0].find("error").get("message") or "")

    none = knee_result()
    none.capacity_rps = None
    (suite,) = _suites(render_capacity_junit(none))
    assert _outcome(suite.findall("testcase")[0]) == "failure"

    violated = knee_result()
    violated.violation_counts, violated.violation_examples = {"unique-codes": 3}, {"unique-codes": "code 'X' twice"}
    violated.steps[1] = replace(violated.steps[1], violation_counts={"unique-codes": 3})
    (suite,) = _suites(render_capacity_junit(violated))
    failure = _cases(suite)[_rule_name("unique-codes")].find("failure")
    assert failure is not None and failure.get("message") == "3 responses broke it: code 'X' twice"
    assert "step 2 (200 req/s): 3, sample request in /r/step-02/report.md" in (failure.text or "")


# --- run ----------------------------------------------------------------------------------------------------


def _load_failing() -> LoadRunResult:
    return failing_result()


def test_run_writes_one_junit_and_one_report_for_both_stages(passed_result: ContractRunResult,
                                                             tmp_path: Path) -> None:
    paths = write_run_reports(tmp_path, passed_result, _load_failing())
    contract, load = _suites(paths["junit.xml"].read_text(encoding="utf-8"))
    assert contract.get("name") == "coupon-harness contract" and load.get("name") == "coupon-harness load"
    assert load.get("failures") == "3" and float(load.get("time", "0")) == 30.0
    root = ET.parse(paths["junit.xml"]).getroot()
    assert root.get("name") == "coupon-harness run"
    assert float(root.get("time", "0")) == float(contract.get("time", "0")) + 30.0
    report = paths["report.md"].read_text(encoding="utf-8")
    assert report.startswith("# coupon-harness run: ❌ Load failed\n")
    assert "| ✅ Contract | contract holds | [contract/report.md](contract/report.md) |" in report
    assert "## coupon-harness contract: ✅" in report and "## coupon-harness load: ❌" in report


def test_run_without_a_load_stage(failed_result: ContractRunResult, tmp_path: Path) -> None:
    paths = write_run_reports(tmp_path, failed_result, None, interrupted=True)
    (contract,) = _suites(paths["junit.xml"].read_text(encoding="utf-8"))
    assert int(contract.get("failures", "0")) >= 2
    report = paths["report.md"].read_text(encoding="utf-8")
    assert report.startswith("# coupon-harness run: ❌ Contract failed (interrupted)\n")
    assert "| ⏭️ Load | not run (interrupted) |  |" in report
