"""write_contract_reports: four whole files in one folder, even when a writer or the run fails."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests.reporting.reporting_builders import TRACEBACK, build, fault, finding

from coupon_harness.contract.catalog import get_rule
from coupon_harness.reporting import writer
from coupon_harness.reporting.contract import document
from coupon_harness.reporting.contract.document import write_contract_reports
from coupon_harness.reporting.stored import read_stored
from coupon_harness.results.contract import ContractRunResult, Outcome, RuleResult


def test_writes_four_files(failed_result: ContractRunResult, tmp_path: Path) -> None:
    report_dir = tmp_path / "reports" / "contract"
    written = write_contract_reports(failed_result, report_dir)
    names = ("junit.xml", "summary.json", "report.md", "report.html")
    assert written == {name: report_dir / name for name in names}
    assert sorted(path.name for path in report_dir.iterdir()) == sorted(written)
    assert ET.parse(written["junit.xml"]).getroot().tag == "testsuites"
    assert json.loads(written["summary.json"].read_text(encoding="utf-8"))["holds"] is False
    assert written["report.md"].read_text(encoding="utf-8").startswith("## coupon-harness contract: ❌")
    assert written["report.html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_interrupted_write_keeps_the_previous_file(
        passed_result: ContractRunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.md"
    target.write_text("previous report\n", encoding="utf-8")

    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("coupon_harness.reporting.writer.os.fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        writer.atomic_write_text(target, "new report\n")
    assert target.read_text(encoding="utf-8") == "previous report\n"
    assert [path.name for path in tmp_path.iterdir()] == ["report.md"]


def test_one_failing_writer_does_not_stop_the_others(
        passed_result: ContractRunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(result: ContractRunResult, path: Path) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(document, "write_summary_json", broken)
    with pytest.raises(RuntimeError, match="boom") as raised:
        write_contract_reports(passed_result, tmp_path)
    assert raised.value.__notes__ == [f"while writing {tmp_path / 'summary.json'}"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["junit.xml", "report.html", "report.md"]


def test_undecodable_text_is_still_written(tmp_path: Path) -> None:
    odd = finding("code-non-empty", "blank", "a code", "code '\udcff\x00'")
    result = build({"code-non-empty": RuleResult(get_rule("code-non-empty"), Outcome.FAILED, 1, [odd])})
    written = write_contract_reports(result, tmp_path)
    assert "\\udcff" in written["report.md"].read_text(encoding="utf-8")
    back = read_stored(written["summary.json"], ContractRunResult).rules
    assert [r.findings[0].received for r in back if r.findings] == ["code '\udcff\x00'"]
    assert ET.parse(written["junit.xml"]).getroot().get("failures") == "1"


def test_writes_the_traceback_of_each_fault(faulted_result: ContractRunResult, tmp_path: Path) -> None:
    faulted_result.faults.append(fault("property/negative", "KeyError: 'x'", "Traceback ...\nKeyError: 'x'\n"))
    written = write_contract_reports(faulted_result, tmp_path)
    names = {"junit.xml", "summary.json", "report.md", "report.html", "harness-error-scenarios.txt",
             "harness-error-property-negative.txt"}
    assert set(written) == names
    assert {path.name for path in tmp_path.iterdir()} == names  # no temporary file left behind
    assert written["harness-error-scenarios.txt"] == tmp_path / "harness-error-scenarios.txt"
    assert written["harness-error-scenarios.txt"].read_text(encoding="utf-8") == TRACEBACK
    assert written["harness-error-property-negative.txt"].read_text(encoding="utf-8").endswith("KeyError: 'x'\n")


def test_no_fault_no_traceback_file(failed_result: ContractRunResult, tmp_path: Path) -> None:
    write_contract_reports(failed_result, tmp_path)
    assert not list(tmp_path.glob("harness-error-*"))
