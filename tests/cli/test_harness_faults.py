"""A bug in the harness inside one pass: exit 2, one stderr line naming the pass, the seed and the traceback
file, the other passes still run and every report is written."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from coupon_harness.cli.contract_cmd import exit_code
from coupon_harness.cli.main import main
from coupon_harness.contract.catalog import get_rule
from coupon_harness.results.contract import ContractRunResult, HarnessFault, Outcome, RuleResult
from coupon_harness.results.passes import PASSES
from coupon_harness.runners.contract.passes import REGISTRY
from coupon_harness.sandbox.server import running_sandbox

_ERROR = "TypeError: Integer exceeds 64-bit range"
_REPORTS = {"junit.xml", "summary.json", "report.md", "report.html", "coupons.csv"}


@pytest.fixture
def broken_scenarios(monkeypatch: pytest.MonkeyPatch) -> None:
    def run_scenarios(*args: Any, **kwargs: Any) -> None:
        raise TypeError("Integer exceeds 64-bit range")

    monkeypatch.setitem(REGISTRY, "scenarios", replace(REGISTRY["scenarios"], run=run_scenarios))


def _fault_line(seed: int, file: Path) -> str:
    return f"coupon-harness contract: harness error in pass 'scenarios' (seed {seed}): {_ERROR}; traceback in {file}"


def _check_reports(report_dir: Path) -> int:
    """The reports and the traceback file are written, the passes after 'scenarios' ran; returns the seed."""
    assert {path.name for path in report_dir.iterdir()} == _REPORTS | {"harness-error-scenarios.txt"}
    traceback = (report_dir / "harness-error-scenarios.txt").read_text(encoding="utf-8")
    assert traceback.startswith("Traceback (most recent call last):")
    assert "in run_scenarios" in traceback and traceback.rstrip().endswith(_ERROR)
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    names = [entry["name"] for entry in summary["passes"]]
    assert names[names.index("scenarios") + 1:] == list(PASSES[PASSES.index("scenarios") + 1:])
    assert summary["harness_errors"] == [{"stage": "scenarios", "error": _ERROR,
                                          "file": "harness-error-scenarios.txt"}]
    assert "Harness error in pass 'scenarios'" in (report_dir / "report.md").read_text(encoding="utf-8")
    assert 'name="harness-error:scenarios"' in (report_dir / "junit.xml").read_text(encoding="utf-8")
    seed = summary["seed"]
    assert isinstance(seed, int)
    return seed


@pytest.mark.usefixtures("broken_scenarios")
def test_contract_exits_2_naming_pass_seed_and_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report_dir = tmp_path / "reports"
    with running_sandbox() as sandbox:
        code = main(["contract", "--base-url", sandbox.base_url, "--max-examples", "5",
                     "--report-dir", str(report_dir)])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    seed = _check_reports(report_dir)
    err = captured.err.splitlines()
    assert err[-1] == _fault_line(seed, report_dir / "harness-error-scenarios.txt")
    assert err[-2] == f"reports: {report_dir}"
    assert "Traceback" not in captured.err
    assert captured.out.splitlines()[-1].startswith("ERROR: harness error in 1 pass; ")


@pytest.mark.usefixtures("broken_scenarios")
def test_run_prints_the_same_line_last(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    code = main(["run", "--no-load", "--max-examples", "5", "--report-dir", str(run_dir)])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    seed = _check_reports(run_dir / "contract")
    err = captured.err.splitlines()
    assert err[-1] == _fault_line(seed, run_dir / "contract" / "harness-error-scenarios.txt")
    assert err[-2] == f"reports: {run_dir / 'index.html'}"
    assert "Traceback" not in captured.err
    assert "Contract</a>: failed" in (run_dir / "index.html").read_text(encoding="utf-8")


def _result(*, faults: int, holds: bool, interrupted: bool = False) -> ContractRunResult:
    result = ContractRunResult(target="http://127.0.0.1:1", started_at="", duration_s=0.0, seed=1, requests=0,
                               rules=[], interrupted=interrupted,
                               faults=[HarnessFault(f"pass-{n}", "E: x", "tb") for n in range(faults)])
    if not holds:
        result.rules = [RuleResult(get_rule("no-server-error"), Outcome.FAILED, 1)]
    return result


@pytest.mark.parametrize(("faults", "holds", "interrupted", "code"), [
    (0, True, False, 0),
    (0, False, False, 1),
    (1, True, False, 2),
    (2, False, False, 2),
    (1, False, True, 130),
    (0, True, True, 130),
])
def test_exit_code(faults: int, holds: bool, interrupted: bool, code: int) -> None:
    assert exit_code(_result(faults=faults, holds=holds, interrupted=interrupted)) == code
