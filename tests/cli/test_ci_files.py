"""What CI reads, end to end through the CLI against a sandbox on 127.0.0.1: `load` and `capacity` write a
junit.xml whose testcases fail where the exit code does, with real times; `run` writes one junit.xml (both
stages' suites) and one report.md (both stages) beside its index, the stages' own files staying in their
folders."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from coupon_harness.sandbox.server import running_sandbox

CLI = str(Path(sys.executable).with_name("coupon-harness"))


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args, "--no-color"], capture_output=True, text=True, timeout=timeout, check=False)


def _suites(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    return root.findall("testsuite")


def _failed(suite: ET.Element) -> list[str]:
    return [case.get("name", "") for case in suite.findall("testcase") if case.find("failure") is not None]


def test_load_writes_junit_whose_slo_testcase_fails_with_the_exit_code(tmp_path: Path) -> None:
    out = tmp_path / "load"
    with running_sandbox() as sandbox:
        done = _cli("load", "--base-url", sandbox.base_url, "--slo", "p95=0.001ms", "--slo", "error-rate=0.5",
                    "--users", "4", "--run-time", "2s", "--report-dir", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    (suite,) = _suites(out / "junit.xml")
    assert _failed(suite) == ["SLO p95<=0.001ms"]
    duration = json.loads((out / "summary.json").read_text())["duration_s"]
    assert float(suite.get("time", "0")) == round(duration, 3) and duration > 1.0
    assert {case.get("time") for case in suite.findall("testcase")} == {suite.get("time")}
    assert int(suite.get("tests", "0")) >= 20


def test_capacity_writes_junit_whose_gate_fails_below_min_capacity(tmp_path: Path) -> None:
    out = tmp_path / "capacity"
    with running_sandbox() as sandbox:
        done = _cli("capacity", "--base-url", sandbox.base_url, "--slo", "p95=2000ms", "--start-rate", "20",
                    "--max-rate", "40", "--step-time", "1s", "--warmup", "0s", "--max-steps", "2",
                    "--min-capacity", "100000", "--report-dir", str(out))
    (suite,) = _suites(out / "junit.xml")
    if json.loads((out / "summary.json").read_text())["generator_limited"]:
        # A machine busy enough to starve a 20 req/s generator: the search says so (exit 2) and its junit.xml
        # gives the gate an <error> naming the generator, not a verdict on a capacity it did not measure.
        assert done.returncode == 2, done.stdout + done.stderr
        error = suite.findall("testcase")[0].find("error")
        assert error is not None and "generator" in error.get("message", ""), ET.tostring(suite, encoding="unicode")
        return
    assert done.returncode == 1, done.stdout + done.stderr
    gate = suite.findall("testcase")[0]
    assert gate.get("name", "").startswith("capacity >= --min-capacity 100,000 req/s"), gate.get("name")
    assert gate.find("failure") is not None
    assert float(gate.get("time", "0")) > 1.0
    assert not list(out.glob("step-*/junit.xml"))  # a step breaking an SLO is how the search works, not a test


def test_run_writes_one_junit_and_one_report_for_both_stages(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = _cli("run", "--max-examples", "5", "--load-run-time", "2s", "--load-slo", "p95=0.001ms",
                "--report-dir", str(out), timeout=180)
    assert done.returncode == 1, done.stdout + done.stderr
    contract, load = _suites(out / "junit.xml")
    assert (contract.get("name"), load.get("name")) == ("coupon-harness contract", "coupon-harness load")
    assert _failed(contract) == [] and _failed(load) == ["SLO p95<=0.001ms"]
    assert float(load.get("time", "0")) > 1.0
    assert (out / "contract" / "junit.xml").is_file() and (out / "load" / "junit.xml").is_file()
    assert '<a href="junit.xml">' in (out / "index.html").read_text(encoding="utf-8")
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# coupon-harness run: ❌ Load failed")
    assert "## coupon-harness contract: ✅" in report and "## coupon-harness load: ❌" in report
