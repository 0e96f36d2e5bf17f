"""diff: a first case that completes no answer is a setup error (exit 2), as in the contract preflight."""

from __future__ import annotations

from pathlib import Path

import pytest

from coupon_harness.cli.main import main
from coupon_harness.sandbox.server import running_sandbox


def test_diff_whose_first_case_times_out_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """As the contract preflight: a target that completes no answer is a setup error (exit 2), not a run of
    timeouts without a verdict (the option table's garbage test meets it with a tiny --request-timeout)."""
    with running_sandbox() as base, running_sandbox() as against:
        code = main(["diff", "--base-url", base.base_url, "--against-url", against.base_url, "-a", "sandbox:sandbox",
                     "--against-user", "sandbox:sandbox", "--request-timeout", "1e-9", "--report-dir",
                     str(tmp_path / "r")])
    assert code == 2
    assert "no answer completed within --request-timeout" in capsys.readouterr().err.strip().splitlines()[-1]
