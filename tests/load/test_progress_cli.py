"""What `load` prints while it runs, captured as CI captures it: plain lines, one clock each, the figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.progress_lines import assert_plain_progress

from coupon_harness.cli.main import main
from coupon_harness.reporting import progress
from coupon_harness.sandbox.server import running_sandbox


def test_load_prints_its_figures_in_plain_lines_with_one_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capfd: pytest.CaptureFixture[str]) -> None:
    # Figures every 0.5 s since the last line instead of 5 (a short run): the load process's last figures, sent once
    # its 2 s ran, come more than 0.5 s after the line printed before it started, so at least one line is certain.
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.5)
    with running_sandbox() as sandbox:
        code = main(["load", "--base-url", sandbox.base_url, "-u", "2", "--wait", "50ms", "-t", "2s",
                     "--report-dir", str(tmp_path / "r")])
    out, err = capfd.readouterr()
    assert code == 0, out + err
    lines = assert_plain_progress(err)
    figures = [line for line in lines if "] load: " in line]
    assert figures, err
    for figure in ("2 users", "requests", "req/s", "p95", "0 errors", "coupons", "left"):
        assert figure in figures[-1], (figure, figures[-1])
    assert "reports: " in err and "PASS" in out
