"""Nothing lost when a process dies outright or the disk fills:

- SIGKILL of the load process (local), of one worker of a distributed run, and of a contract run: every code the
  target issued more than 1 s before the kill is in coupons.csv (targets/issued.py logs what the sandbox issued,
  with the time). A killed load process is exit 2 with one line naming the file and its count, and the setup
  error's reports.
- A full tmpfs under the report folder: `load` and `contract` stop with exit 2 and one line saying how many codes are
  recorded, where, and that later ones are not; never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from coupon_harness.coupon_log import count_rows
from coupon_harness.sandbox.config import Faults, SandboxConfig
from coupon_harness.sandbox.server import running_sandbox
from targets.issued import Issued, listed

CLI = str(Path(sys.executable).with_name("coupon-harness"))
#: The bound of the issue: at most the last second of codes may be missing after a SIGKILL.
LOST_AT_MOST_S = 1.0


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def _rows(path: Path) -> int:
    """As CSV: a customer id of the strings pass may hold a line break."""
    try:
        return count_rows(path)
    except OSError:
        return 0


def _children(proc: subprocess.Popen[str], role: str) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(proc.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            line = child.cmdline()
            if "coupon_harness.runners.load.process" in line and role in line:
                found.append(child)
    return found


def _assert_nothing_older_lost(issued: Issued, csv: Path, killed_at: float) -> None:
    missing = issued.missing_since(listed(csv))
    late = [at for at in missing if at < killed_at - LOST_AT_MOST_S]
    assert not late, (f"{len(late)} codes issued more than {LOST_AT_MOST_S} s before the kill are not listed "
                      f"(the oldest {killed_at - min(late):.2f} s before it); {len(missing)} missing in all")


def test_sigkill_of_the_load_process_loses_at_most_the_last_second(tmp_path: Path) -> None:
    issued = Issued()
    folder = tmp_path / "r"
    with running_sandbox(mutate=issued) as sandbox:
        proc = subprocess.Popen([CLI, "load", "--base-url", sandbox.base_url, "--users", "6", "--wait", "10ms",
                                 "--run-time", "30s", "--no-color", "--report-dir", str(folder)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for(lambda: _rows(folder / "coupons.csv") > 200, 60, "the load issued coupons")
            time.sleep(1.3)  # mid-run, between two of the aggregate's merges or not
            [victim] = _children(proc, "local")
            killed_at = time.time()
            victim.kill()
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 2, err
    last = err.strip().splitlines()[-1]
    assert "the load process was killed (SIGKILL) without a result" in last, err
    assert f"{folder / 'coupons.csv'} lists the " in last and "Traceback" not in err
    _assert_nothing_older_lost(issued, folder / "coupons.csv", killed_at)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["outcome"] == "setup-error" and summary["coupons_issued"] == _rows(folder / "coupons.csv")


def test_sigkill_of_a_worker_loses_at_most_its_last_second(tmp_path: Path) -> None:
    issued = Issued()
    folder = tmp_path / "r"
    with running_sandbox(mutate=issued) as sandbox:
        proc = subprocess.Popen([CLI, "load", "--base-url", sandbox.base_url, "--users", "6", "--wait", "10ms",
                                 "--run-time", "5s", "--workers", "2", "--request-timeout", "2", "--no-color",
                                 "--report-dir", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            _wait_for(lambda: _rows(folder / "coupons.csv") > 200, 60, "the load issued coupons")
            time.sleep(0.7)
            victim = _children(proc, "worker")[0]
            killed_at = time.time()
            victim.kill()
            _, err = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode in (0, 1), err  # the master reports what it has; a lost worker is noted, not a crash
    assert "Traceback" not in err
    summary = json.loads((folder / "summary.json").read_text())
    assert any("sent no last report" in note for note in summary["notes"]), summary["notes"]
    _assert_nothing_older_lost(issued, folder / "coupons.csv", killed_at)


def test_sigkill_of_a_contract_run_loses_at_most_the_last_second(tmp_path: Path) -> None:
    issued = Issued()
    folder = tmp_path / "r"
    config = SandboxConfig(faults=Faults(latency_ms=3.0))  # a run long enough to be killed in the middle
    with running_sandbox(config, mutate=issued) as sandbox:
        proc = subprocess.Popen([CLI, "contract", "--base-url", sandbox.base_url, "--max-examples", "300",
                                 "--no-color", "--report-dir", str(folder)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            _wait_for(lambda: _rows(folder / "coupons.csv") > 150, 60, "the contract run issued coupons")
            killed_at = time.time()
            proc.kill()
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
    _assert_nothing_older_lost(issued, folder / "coupons.csv", killed_at)


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KB tmpfs: a run's coupons.csv fills it within a second or two."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    where = tmp_path / "tiny"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.parametrize("command", ["load", "contract"])
def test_a_full_disk_is_exit_2_with_the_count(command: str, full_disk: Path) -> None:
    folder = full_disk / "r"
    # A load run that went on after the disk was full would run its 600 s and hit the subprocess's timeout.
    extra = ["--users", "8", "--run-time", "600s"] if command == "load" else ["--max-examples", "300"]
    with running_sandbox() as sandbox:
        done = subprocess.run([CLI, command, "--base-url", sandbox.base_url, *extra, "--no-color",
                               "--report-dir", str(folder)], capture_output=True, text=True, timeout=300,
                              check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    last = done.stderr.strip().splitlines()[-1]
    recorded = _rows(folder / "coupons.csv")
    assert "No space left on device" in last and f"{recorded} codes are recorded there" in last, last
    assert str(folder / "coupons.csv") in last
    assert recorded > 0
