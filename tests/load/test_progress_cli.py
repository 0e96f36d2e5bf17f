"""What `load` prints while it runs, captured as CI captures it: plain lines, one clock each, the figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.progress_lines import assert_plain_progress

from coupon_harness.sandbox.server import running_sandbox

CLI = str(Path(sys.executable).with_name("coupon-harness"))


def test_load_prints_its_figures_in_plain_lines_with_one_clock(tmp_path: Path) -> None:
    with running_sandbox() as sandbox:
        done = subprocess.run([CLI, "load", "--base-url", sandbox.base_url, "-u", "2", "--wait", "50ms", "-t", "5s",
                               "--report-dir", str(tmp_path / "r")], capture_output=True, text=True, timeout=90,
                              check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = assert_plain_progress(done.stderr)
    figures = [line for line in lines if "] load: " in line]
    # Figures at most every 5 s since the last line: the load process's last, sent once its 5 s ran, always comes
    # more than 5 s after the line printed before it started.
    assert figures, done.stderr
    for figure in ("2 users", "requests", "req/s", "p95", "0 errors", "coupons", "left"):
        assert figure in figures[0], (figure, figures[0])
    assert "reports: " in done.stderr and "PASS" in done.stdout
