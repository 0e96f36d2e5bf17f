"""Report folders: one per run (two runs in the same second get two), never overwritten without --overwrite,
checked before any request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coupon_harness.cli.main import main
from coupon_harness.sandbox.server import running_sandbox

EXE = str(Path(sys.executable).with_name("coupon-harness"))


def test_two_simultaneous_runs_get_two_complete_folders(tmp_path: Path) -> None:
    runs = [subprocess.Popen([EXE, "run", "--no-load", "--max-examples", "5", "--no-color"], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    folders = sorted((tmp_path / "reports").iterdir())
    assert len(folders) == 2, folders
    for folder in folders:
        assert (folder / "index.html").is_file()
        summary = json.loads((folder / "contract" / "summary.json").read_text(encoding="utf-8"))
        assert summary["holds"] is True
    seeds = {json.loads((f / "contract" / "summary.json").read_text())["seed"] for f in folders}
    assert len(seeds) == 2  # two different runs, not one written twice


@pytest.fixture(scope="module")
def sandbox_url() -> object:
    with running_sandbox() as sandbox:
        yield sandbox.base_url


def _one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    return err[0]


def test_a_report_dir_that_is_a_file_is_refused(tmp_path: Path, sandbox_url: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    line = _one_line(["contract", "--base-url", sandbox_url, "--report-dir", str(target)], capsys)
    assert "is a file, not a folder" in line and "--report-dir" in line


def test_existing_reports_are_not_overwritten_without_the_flag(tmp_path: Path, sandbox_url: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "r"
    assert main(["contract", "--base-url", sandbox_url, "--max-examples", "5", "--report-dir", str(folder)]) == 0
    first = (folder / "summary.json").read_text()
    capsys.readouterr()
    line = _one_line(["contract", "--base-url", sandbox_url, "--report-dir", str(folder)], capsys)
    assert "already holds a run's reports" in line and "--overwrite" in line
    assert (folder / "summary.json").read_text() == first
    assert main(["contract", "--base-url", sandbox_url, "--max-examples", "5", "--report-dir", str(folder),
                 "--overwrite"]) == 0
    assert (folder / "summary.json").read_text() != first


def test_an_unwritable_place_is_one_line_before_the_run(sandbox_url: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # /proc takes no new folder, not even from root (CI runs as root, so permission bits prove nothing).
    line = _one_line(["contract", "--base-url", sandbox_url, "--report-dir", "/proc/coupon-harness-reports"],
                     capsys)
    assert line.startswith("coupon-harness contract: error: --report-dir /proc/coupon-harness-reports: "), line
