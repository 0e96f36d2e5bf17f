"""The load process gets its settings (credentials included) through the environment: no file anywhere
holds the password while a load run goes, so a SIGKILL or a CI timeout leaves none behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from coupon_harness.sandbox.config import default_config
from coupon_harness.sandbox.server import running_sandbox

CLI = str(Path(sys.executable).with_name("coupon-harness"))
PASSWORD = "load-secret-pw-7f3a"


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        try:
            if path.is_file() and needle in path.read_bytes():
                found.append(path)
        except OSError:  # a file removed between the listing and the read
            continue
    return found


def test_no_file_holds_the_password_during_or_after_a_load_run(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    reports = tmp_path / "reports"
    config = replace(default_config(), users={"till": PASSWORD})
    with running_sandbox(config) as sandbox:
        proc = subprocess.Popen([CLI, "load", "--base-url", sandbox.base_url, "--user", f"till:{PASSWORD}",
                                 "--users", "2", "--run-time", "4s", "--report-dir", str(reports), "--no-color"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "TMPDIR": str(temp)})
        during: list[Path] = []
        try:
            deadline = time.monotonic() + 3.5
            while time.monotonic() < deadline and proc.poll() is None:
                during += _files_holding(temp, PASSWORD.encode())
                time.sleep(0.25)
            output, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, output
    assert during == [], during
    assert _files_holding(tmp_path, PASSWORD.encode()) == []
    assert PASSWORD not in output
