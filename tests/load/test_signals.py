"""SIGINT and SIGTERM end `load`, `contract` and `run` the same way: the run stops, the partial report is
written, coupons.csv holds exactly the codes the target sent, exit 130 (SIGINT) or 143 (SIGTERM).

Each signal is sent at several moments: while the load process starts (Locust still importing), mid-run and
near the end; to the CLI alone (`kill PID`, a CI timeout) or to its process group (Ctrl-C in a terminal).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.server import running_sandbox

CLI = str(Path(sys.executable).with_name("coupon-harness"))
EXIT_FOR = {signal.SIGINT: 130, signal.SIGTERM: 143}


class _Sent:
    """Every (series, code) the sandbox put into a 200 answer, as often as it did (GENERIC series repeat)."""

    def __init__(self) -> None:
        self.codes: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def __call__(self, answer: Answer) -> Answer:
        if answer.status == 200 and isinstance(answer.body, dict):
            found = [(str(entity.get("entityId")), entity["result"]["code"])
                     for entity in answer.body.get("response", [])
                     if isinstance(entity.get("result"), dict) and entity["result"].get("code")]
            with self._lock:
                self.codes.update(found)
        return answer


def _csv_codes(folder: Path) -> Counter[tuple[str, str]]:
    with (folder / "coupons.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["series_id", "code", "customer_id", "issued_at", "source"], rows[:2]
    assert all(len(row) == 5 for row in rows), "a garbled line in coupons.csv"
    return Counter((row[0], row[1]) for row in rows[1:])


def _load_listed(folder: Path) -> bool:
    """coupons.csv lists a coupon of the load itself (the preflight's come first, before the load process starts)."""
    try:
        return b",load\r\n" in (folder / "coupons.csv").read_bytes()
    except OSError:
        return False


def _wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the run never reached the moment to signal")
        time.sleep(0.02)


def _send(proc: subprocess.Popen[str], signum: int, to_group: bool) -> None:
    if to_group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)


def _finish(proc: subprocess.Popen[str], log: Path) -> tuple[int, str]:
    try:
        code = proc.wait(60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
        proc.kill()
        proc.wait()
        raise AssertionError(f"the command did not end after the signal:\n{log.read_text()}") from None
    return code, log.read_text()


def _start(args: list[str], log: Path) -> subprocess.Popen[str]:
    # Its own process group, so that a signal to the group reaches the CLI and its children but not pytest.
    with log.open("w") as sink:
        return subprocess.Popen([CLI, *args, "--no-color"], stdout=sink, stderr=subprocess.STDOUT, text=True,
                                process_group=0)


# (signal, moment, to the group): both signals at every moment, each delivery way at least twice.
CASES = [
    (signal.SIGINT, "start-up", True), (signal.SIGTERM, "start-up", False),
    (signal.SIGINT, "mid-run", False), (signal.SIGTERM, "mid-run", True),
    (signal.SIGINT, "near-end", True), (signal.SIGTERM, "near-end", False),
]


@pytest.mark.parametrize(("signum", "moment", "to_group"), CASES,
                         ids=[f"{signal.Signals(s).name}-{m}-{'group' if g else 'cli'}" for s, m, g in CASES])
def test_a_signalled_load_run_keeps_its_report_and_every_code(signum: int, moment: str, to_group: bool,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "reports"
    log = tmp_path / "output.txt"
    sent = _Sent()
    run_time = 4.0
    with running_sandbox(mutate=sent) as sandbox:
        proc = _start(["load", "--base-url", sandbox.base_url, "--users", "8", "--run-time", f"{run_time:g}s",
                       "--batch-size", "1-3", "--report-dir", str(out)], log)
        try:
            if moment == "start-up":
                # The folder is claimed (its lock file made) just before the load process starts: from then on
                # a signal gives the interrupted run's report; before, there is no folder to write it to.
                _wait_for((out / ".coupon-harness.lock").exists, 30)
            else:
                _wait_for(lambda: _load_listed(out), 30)  # the users are issuing coupons
                time.sleep(1.5 if moment == "mid-run" else run_time - 0.3)
            _send(proc, signum, to_group)
        finally:
            code, output = _finish(proc, log)
    assert code == EXIT_FOR[signum], output
    assert "Traceback" not in output, output
    assert (out / "summary.json").is_file(), output
    summary = json.loads((out / "summary.json").read_text())
    if moment != "near-end":  # near the end the run time may have ended first: then it was not interrupted
        assert summary["interrupted"] is True, summary
        assert signal.Signals(signum).name in str(summary.get("stopped_reason")), summary
    assert (out / "report.html").is_file() and (out / "report.md").is_file()
    assert _csv_codes(out) == sent.codes, f"coupons.csv differs from what the sandbox sent:\n{output}"
    if moment == "mid-run":
        assert sent.codes, "mid-run: some coupons should have been issued before the signal"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_the_cli_starts_is_one_line_and_sends_nothing(signum: int, tmp_path: Path) -> None:
    """Before a command has a report folder: nothing was sent, nothing to report, still no traceback."""
    log = tmp_path / "output.txt"
    sent = _Sent()
    with running_sandbox(mutate=sent) as sandbox:
        proc = _start(["load", "--base-url", sandbox.base_url, "--run-time", "3s",
                       "--report-dir", str(tmp_path / "reports")], log)
        time.sleep(0.15)
        _send(proc, signum, to_group=False)
        code, output = _finish(proc, log)
    if code == -signum:
        pytest.skip("the signal arrived before Python had started the program (nothing the harness can do)")
    assert code == EXIT_FOR[signum], output
    assert "Traceback" not in output, output
    if not (tmp_path / "reports").exists():
        assert "interrupted" in output and not sent.codes, output
    else:  # the run got as far as its folder: then its partial report is there
        assert (tmp_path / "reports" / "summary.json").is_file(), output


# Several moments around the property passes' phase boundaries: Schemathesis drops an interrupt that lands
# while a phase's threads wind down, and the run must stop all the same.
CONTRACT_CASES = [(signal.SIGINT, 0.0), (signal.SIGTERM, 0.2), (signal.SIGINT, 0.4), (signal.SIGTERM, 0.6),
                  (signal.SIGINT, 0.9), (signal.SIGTERM, 1.3)]


@pytest.mark.parametrize(("signum", "delay"), CONTRACT_CASES,
                         ids=[f"{signal.Signals(s).name}-{d:g}s" for s, d in CONTRACT_CASES])
def test_a_signalled_contract_run_writes_its_partial_report(signum: int, delay: float, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    log = tmp_path / "output.txt"
    with running_sandbox() as sandbox:
        proc = _start(["contract", "--base-url", sandbox.base_url, "--max-examples", "2000",
                       "--report-dir", str(out)], log)
        _wait_for(lambda: "property-positive: started" in log.read_text(), 60)
        time.sleep(delay)
        _send(proc, signum, to_group=False)
        code, output = _finish(proc, log)
    assert code == EXIT_FOR[signum], output
    assert "Traceback" not in output, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True, summary
    assert summary["requests"] > 0, summary


def test_sigterm_during_the_load_stage_of_run_keeps_both_reports(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    log = tmp_path / "output.txt"
    sent = _Sent()
    with running_sandbox(mutate=sent) as sandbox:
        proc = _start(["run", "--base-url", sandbox.base_url, "--max-examples", "20", "--load-run-time", "20s",
                       "--report-dir", str(out)], log)
        _wait_for((out / "load" / "coupons.csv").is_file, 120)
        time.sleep(1.0)
        _send(proc, signal.SIGTERM, to_group=False)
        code, output = _finish(proc, log)
    assert code == 143, output
    assert "Traceback" not in output, output
    assert json.loads((out / "load" / "summary.json").read_text())["interrupted"] is True
    assert (out / "contract" / "summary.json").is_file() and (out / "index.html").is_file(), output
    # Every code the sandbox sent is listed once: the contract stage's in contract/, the load stage's in load/.
    assert _csv_codes(out / "contract") + _csv_codes(out / "load") == sent.codes
