"""`coupon-harness load` end to end: safety refusals, exit codes, the report files, Ctrl-C."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from coupon_harness.cli.main import main
from coupon_harness.sandbox.config import Faults, SandboxConfig
from coupon_harness.sandbox.server import running_sandbox

CLI = str(Path(sys.executable).with_name("coupon-harness"))
REPORTS = ("summary.json", "report.md", "report.html", "coupons.csv")
PRODUCTION = "https://eu.api.capillarytech.com"

needs_writers = pytest.mark.skipif(importlib.util.find_spec("coupon_harness.reporting.load.document") is None,
                                   reason="coupon_harness.reporting.load.document (the load report writers) "
                                          "is not written yet")


def _cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "load", *args, "--no-color"], capture_output=True, text=True, timeout=timeout,
                          check=False)


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def test_production_host_is_refused() -> None:
    done = _cli("--base-url", PRODUCTION, "--series-ids", "101", "--user", "u:p", "--run-time", "2s", timeout=30)
    assert done.returncode == 2, done
    line = _one_line(done.stderr)
    assert "--allow-production" in line and "eu.api.capillarytech.com" in line
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_production_host_is_refused_before_any_request(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    sent: list[str] = []

    def record(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(f"{method} {url}")
        raise requests.ConnectionError("no network in this test")

    monkeypatch.setattr(requests.Session, "request", record)
    code = main(["load", "--base-url", PRODUCTION, "--run-time", "2s"])
    assert code == 2
    assert "--allow-production" in capsys.readouterr().err
    assert sent == []


@pytest.mark.parametrize(("slo", "words"), [("p95=300", "unit"), ("p95", "KEY=VALUE"), ("error-rate=2", "between"),
                                            ("p42=1s", "unknown key")])
def test_bad_slo_is_refused_in_one_line(slo: str, words: str) -> None:
    done = _cli("--base-url", "http://127.0.0.1:9", "--series-ids", "101", "--user", "u:p", "--slo", slo,
                timeout=30)
    assert done.returncode == 2, done
    line = _one_line(done.stderr)
    assert words in line and "--slo" in line, line
    assert done.stdout == ""


@needs_writers
def test_sandbox_run_holds_and_writes_reports(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    with running_sandbox() as sandbox:
        done = _cli("--base-url", sandbox.base_url, "--slo", "p95=500ms", "--slo", "error-rate=0.01",
                    "--users", "20", "--run-time", "4s", "--report-dir", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    for name in REPORTS:
        assert (out / name).is_file(), (name, sorted(p.name for p in out.iterdir()))
    summary = json.loads((out / "summary.json").read_text())
    text = json.dumps(summary)
    assert "p95" in text and "error-rate" in text
    rows = (out / "coupons.csv").read_text().splitlines()
    assert rows[0] == "series_id,code,customer_id,issued_at,source" and len(rows) > 1
    assert not (out / "result.json").exists()


@needs_writers
def test_five_hundreds_exit_1_naming_the_slo(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    config = SandboxConfig(faults=Faults(error_rate=0.05))
    with running_sandbox(config) as sandbox:
        done = _cli("--base-url", sandbox.base_url, "--slo", "p95=500ms", "--slo", "error-rate=0.01",
                    "--users", "10", "--run-time", "3s", "--report-dir", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert "error-rate" in output, output
    assert (out / "summary.json").is_file()


def _kill_tree(proc: subprocess.Popen[str], children: list[psutil.Process]) -> None:
    """End the CLI and the load processes it started (by pid), whatever state they are in."""
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def _children(proc: subprocess.Popen[str]) -> list[psutil.Process]:
    with contextlib.suppress(psutil.NoSuchProcess):
        return psutil.Process(proc.pid).children(recursive=True)
    return []


def _interrupt(tmp_path: Path, send: str, run_time: str = "30s", wait_s: float = 20) -> tuple[int | None, str, Path]:
    """A run interrupted ~1 s after its users started; `send`: "process" (the CLI alone, like `kill -INT PID`)
    or "group" (the CLI and its children, like Ctrl-C in a terminal). Returns (exit code or None if still running after
    `wait_s`, output, report folder)."""
    out = tmp_path / "reports"
    log = tmp_path / "output.txt"
    with running_sandbox() as sandbox, log.open("w") as sink:
        proc = subprocess.Popen([CLI, "load", "--base-url", sandbox.base_url, "--users", "5", "--run-time", run_time,
                                 "--report-dir", str(out), "--no-color"], stdout=sink, stderr=subprocess.STDOUT,
                                text=True, start_new_session=False, process_group=0 if send == "group" else None)
        children: list[psutil.Process] = []
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and b",load\r\n" not in (
                    (out / "coupons.csv").read_bytes() if (out / "coupons.csv").is_file() else b""):
                time.sleep(0.05)  # until the users issue coupons (the preflight lists its own first)
            time.sleep(1.0)
            children = _children(proc)
            if send == "group":
                os.killpg(proc.pid, signal.SIGINT)
            else:
                proc.send_signal(signal.SIGINT)
            try:
                code: int | None = proc.wait(wait_s)
            except subprocess.TimeoutExpired:
                code = None
        finally:
            _kill_tree(proc, children)
    return code, log.read_text(), out


@needs_writers
def test_ctrl_c_in_a_terminal_exits_130_with_a_partial_report(tmp_path: Path) -> None:
    code, output, out = _interrupt(tmp_path, "group")
    assert code == 130, output
    assert (out / "summary.json").is_file(), output
    summary = (out / "summary.json").read_text()
    assert "interrupt" in summary.lower(), summary[:2000]


@needs_writers
def test_sigint_to_the_cli_alone_exits_130_with_a_partial_report(tmp_path: Path) -> None:
    code, output, out = _interrupt(tmp_path, "process", run_time="10s", wait_s=15)
    assert code == 130, f"exit {code}\n{output}"
    assert (out / "summary.json").is_file(), output


def test_a_killed_cli_leaves_no_load_process_behind(tmp_path: Path) -> None:
    with running_sandbox() as sandbox:
        proc = subprocess.Popen([CLI, "load", "--base-url", sandbox.base_url, "--users", "2", "--run-time", "7s",
                                 "--report-dir", str(tmp_path / "reports"), "--no-color"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children: list[psutil.Process] = []
        try:
            deadline = time.monotonic() + 30
            while not (children := _children(proc)) and time.monotonic() < deadline:
                time.sleep(0.05)  # a poll: the load process starts after the preflight
            assert children, "the CLI started no load process"
            proc.kill()
            proc.wait(10)
            # The run time was 7 s (the load process reports progress every 5 s, to the dead CLI's pipe): it must
            # end, not run on orphaned. How soon is the machine's (a busy one ends it late): 60 s is a hang guard.
            _gone, alive = psutil.wait_procs(children, timeout=60)
            issued_before = sandbox.issuer.codes_issued
            time.sleep(0.5)
            still_loading = sandbox.issuer.codes_issued - issued_before
        finally:
            _kill_tree(proc, children)
    assert alive == [], f"{len(alive)} load process(es) still running a minute into a 7 s run; " \
                        f"{still_loading} codes issued in the last 0.5 s"
