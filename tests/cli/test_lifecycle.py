"""One run lifecycle for every command and way in: validate -> claim the report folder -> preflight -> run ->
reports -> exit code.

- A report folder has one writer: a second run given it while the first writes there is refused (exit 2 naming
  --report-dir) and the first loses nothing.
- The preflight tries credentials, series and customers before any load: a wrong password is exit 2 with one line,
  before a single load request (load, capacity, plain locust).
- A setup error after the claim still leaves junit.xml (one <error> testcase), summary.json and report.md with the
  one line, so a CI step that reads them works.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from coupon_harness.cli.main import main
from coupon_harness.cli.report_dir import LOCK_FILE, prepare_report_dir, release_claims
from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.server import running_sandbox
from targets.broken import BROKEN
from targets.issued import Issued, listed

CLI = str(Path(sys.executable).with_name("coupon-harness"))
LOCUST = str(Path(sys.executable).with_name("locust"))
LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfiles" / "bulk_issue.py"


class _Counted:
    """A sandbox hook that counts the bulk issues it answered."""

    def __init__(self) -> None:
        self.answers = 0
        self._lock = threading.Lock()

    def __call__(self, answer: Answer) -> Answer:
        with self._lock:
            self.answers += 1
        return answer


def _last_line(err: str) -> str:
    return [line for line in err.splitlines() if line.strip()][-1]


def test_a_second_run_on_a_folder_in_use_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "r"
    prepare_report_dir(folder, "contract")  # this process holds the folder, as a run in progress does
    try:
        code = main(["contract", "--base-url", "http://127.0.0.1:9", "--series-ids", "101", "--user", "u:p",
                     "--report-dir", str(folder), "--overwrite"])  # --overwrite does not make two writers
        err = capsys.readouterr().err
        assert code == 2, err
        assert f"--report-dir {folder}: another coupon-harness run is writing there (pid {os.getpid()})" in \
            _last_line(err), err
        assert [path.name for path in folder.iterdir()] == [LOCK_FILE]  # nothing of the refused run
    finally:
        release_claims()
    assert list(folder.iterdir()) == []  # released: the lock file goes with the claim


def test_two_load_runs_on_one_folder_the_second_refused_the_first_whole(tmp_path: Path) -> None:
    issued = Issued()
    folder = tmp_path / "r"
    with running_sandbox(mutate=issued) as sandbox:
        args = ["load", "--base-url", sandbox.base_url, "--users", "4", "--wait", "20ms", "--no-color",
                "--report-dir", str(folder)]
        first = subprocess.Popen([CLI, *args, "--run-time", "4s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        try:
            deadline = 60.0
            while not (folder / "coupons.csv").is_file() and first.poll() is None and deadline > 0:
                threading.Event().wait(0.05)
                deadline -= 0.05
            second = subprocess.run([CLI, *args, "--run-time", "1s"], capture_output=True, text=True, timeout=60,
                                    check=False)
        finally:
            _, err = first.communicate(timeout=90)
    assert second.returncode == 2, second.stderr
    assert "another coupon-harness run is writing there" in _last_line(second.stderr), second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode == 0, err
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["requests"] > 0
    assert listed(folder / "coupons.csv") == issued.codes  # every code of the first run, none lost
    assert not (folder / LOCK_FILE).exists()


def test_overwrite_keeps_the_earlier_coupons_aside(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "r"
    with running_sandbox() as sandbox:
        for _ in range(2):
            assert main(["contract", "--base-url", sandbox.base_url, "--max-examples", "3", "--report-dir",
                         str(folder), "--overwrite"]) == 0
    kept = sorted(path.name for path in folder.glob("coupons*.csv"))
    assert len(kept) == 2 and "coupons.csv" in kept, kept  # this run's, and the earlier one's renamed
    assert all(listed(folder / name) for name in kept)


@pytest.mark.parametrize("command", ["load", "capacity"])
def test_a_wrong_password_is_exit_2_before_any_load(command: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    counted = _Counted()
    extra = ["--slo", "p95=1s", "--step-time", "2s", "--warmup", "0s"] if command == "capacity" else ["--run-time",
                                                                                                    "20s"]
    with running_sandbox(mutate=counted) as sandbox:
        code = main([command, "--base-url", sandbox.base_url, "--series-ids", "101,102", "--user", "sandbox:typo",
                     *extra, "--report-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "refused the configured credentials (401)" in _last_line(err) and "--user" in _last_line(err), err
    assert "Traceback" not in err and "typo" not in err
    assert counted.answers <= 1, counted.answers  # the preflight's one request, no load
    _assert_setup_error_reports(tmp_path / "r", command, "401")


def test_plain_locust_with_a_wrong_password_is_exit_2_before_any_load(tmp_path: Path) -> None:
    counted = _Counted()
    env = {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}
    with running_sandbox(mutate=counted) as sandbox:
        done = subprocess.run([LOCUST, "-f", str(LOCUSTFILE), "--host", sandbox.base_url, "--series-ids", "101",
                               "--user", "sandbox:typo", "--headless", "-u", "5", "-t", "10s",
                               "--harness-report-dir", str(tmp_path / "r")], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "refused the configured credentials (401)" in _last_line(done.stderr), done.stderr
    assert "Traceback" not in done.stderr and "typo" not in done.stderr
    assert counted.answers <= 1
    _assert_setup_error_reports(tmp_path / "r", "locust", "401")


@pytest.mark.parametrize("command", ["contract", "run", "diff", "replay"])
def test_a_setup_error_leaves_the_ci_files(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if command == "replay":  # a report with a finding to replay
        variant = next(v for v in BROKEN if v.name == "500-on-65-char-customer-id")
        with running_sandbox(mutate=variant.mutate()) as broken:
            assert main(["contract", "--base-url", broken.base_url, "--max-examples", "3", "--report-dir",
                         str(tmp_path / "run")]) == 1
    with running_sandbox() as sandbox:
        if command == "replay":
            argv = ["replay", str(tmp_path / "run"), "--base-url", sandbox.base_url, "--user", "sandbox:typo"]
        elif command == "diff":
            argv = ["diff", "--base-url", sandbox.base_url, "--against-url", "http://127.0.0.1:9", "--user",
                    "sandbox:sandbox", "--series-ids", "101"]
        else:
            argv = [command, "--base-url", sandbox.base_url, "--user", "sandbox:typo"]
        capsys.readouterr()
        code = main([*argv, "--report-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "typo" not in err
    _assert_setup_error_reports(tmp_path / "r", command, "")


def _assert_setup_error_reports(folder: Path, command: str, fragment: str) -> None:
    names = {path.name for path in folder.iterdir()}
    assert {"junit.xml", "summary.json", "report.md"} <= names, names
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["outcome"] == "setup-error" and summary["exit_code"] == 2 and summary["kind"] == command
    assert fragment in summary["error"]
    suite = ET.parse(folder / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1" and suite.get("tests") == "1"
    errors = suite.findall("testcase/error")
    assert len(errors) == 1 and fragment in (errors[0].get("message") or "")
    report = (folder / "report.md").read_text()
    assert "ERROR (exit 2)" in report and "typo" not in report
    assert not (folder / LOCK_FILE).exists()


def test_a_setup_errors_summary_is_named_as_such_by_replay_and_compare(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """replay, export-tests and --compare read summary.json files: a setup error's holds no run, said in one line."""
    assert main(["contract", "--base-url", "http://127.0.0.1:9", "--series-ids", "101", "--user", "u:p",
                 "--report-dir", str(tmp_path / "failed")]) == 2
    capsys.readouterr()
    for argv in (["replay", str(tmp_path / "failed"), "--report-dir", str(tmp_path / "replay")],
                 ["export-tests", str(tmp_path / "failed"), "-o", str(tmp_path / "test_x.py")],
                 ["load", "--base-url", "http://127.0.0.1:9", "--series-ids", "101", "--user", "u:p", "--compare",
                  str(tmp_path / "failed"), "--report-dir", str(tmp_path / "load")]):
        assert main(argv) == 2
        line = _last_line(capsys.readouterr().err)
        assert "the run there stopped before testing anything (setup error: " in line, line


def test_a_harness_bug_after_the_claim_leaves_the_ci_files_and_the_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug planted by the test")

    monkeypatch.setattr("coupon_harness.cli.contract_cmd.execute_contract", broken)
    folder = tmp_path / "r"
    with running_sandbox() as sandbox:
        code = main(["contract", "--base-url", sandbox.base_url, "--user", "sandbox:sandbox", "--report-dir",
                     str(folder)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"traceback in {folder / 'harness-error.txt'}" in _last_line(err), err
    assert "planted by the test" in (folder / "harness-error.txt").read_text()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["outcome"] == "setup-error" and "harness error (RuntimeError)" in summary["error"]


def test_diff_against_a_wrong_path_prefix_is_a_setup_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_sandbox() as a, running_sandbox() as b:
        code = main(["diff", "--base-url", a.base_url, "--against-url", f"{b.base_url}/nowhere", "--user",
                     "sandbox:sandbox", "--against-user", "sandbox:sandbox", "--series-ids", "101", "--report-dir",
                     str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "answers 404 Not Found on the endpoint: check --against-url (its path prefix)" in _last_line(err), err
    _assert_setup_error_reports(tmp_path / "r", "diff", "404")
