"""A signal just after a command claims its report folder, before its run's own `try`, still leaves the
interrupted run's report there (every command that claims a folder): the claim returns with signals held and
the run re-arms them first thing in the `try` that turns one into its report. Without that, a SIGTERM in those
few statements ended the command with an empty folder (seen on a busy CI machine)."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coupon_harness.cli import capacity_cmd, contract_cmd, diff_cmd, load_cmd, run_cmd
from coupon_harness.cli.main import main
from coupon_harness.sandbox import RunningSandbox, running_sandbox

MODULES: dict[str, Any] = {"load": load_cmd, "contract": contract_cmd, "capacity": capacity_cmd,
                           "diff": diff_cmd, "run": run_cmd}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as running:
        yield running


def _argv(command: str, url: str, folder: Path) -> list[str]:
    common = ["--base-url", url, "--report-dir", str(folder)]
    return {
        "load": ["load", *common, "-u", "1", "-t", "2s"],
        "contract": ["contract", *common, "-n", "1"],
        "capacity": ["capacity", *common, "--start-rate", "5", "--max-rate", "10", "--step-time", "2s",
                     "--slo", "p95=300ms"],
        "diff": ["diff", *common, "--against-url", url.replace("127.0.0.1", "localhost"), "-n", "1"],
        "run": ["run", *common, "-n", "1", "--no-load"],
    }[command]


@pytest.mark.parametrize("command", sorted(MODULES))
def test_a_signal_right_after_the_claim_still_reports(command: str, sandbox: RunningSandbox, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    module = MODULES[command]
    real = module.claim_folder

    def claim_then_signal(*args: Any, **kwargs: Any) -> Path:
        folder: Path = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # lands after the claim returned: the handler runs here
        sum(range(10_000))  # a few thousand bytecodes after it, still before the run's `try`
        return folder

    monkeypatch.setattr(module, "claim_folder", claim_then_signal)
    folder = tmp_path / "reports"
    code = main(_argv(command, sandbox.base_url, folder))
    err = capsys.readouterr().err
    assert code == 143, err
    summaries = sorted(folder.rglob("summary.json"))
    assert summaries, f"no summary.json under {folder}: {sorted(p.name for p in folder.rglob('*'))}\n{err}"
    for summary in summaries:
        assert json.loads(summary.read_text())["interrupted"] is True, summary
    assert (folder / "junit.xml").is_file() or any(folder.rglob("junit.xml"))


def test_a_signalled_command_leaves_no_signal_behind_for_the_next_call(sandbox: RunningSandbox, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A library call after a signalled command in the same process (a test suite, a notebook) is not
    interrupted by that command's signal: the property passes read `interrupts.received()`."""
    from coupon_harness.interrupts import received

    real = contract_cmd.claim_folder

    def claim_then_signal(*args: Any, **kwargs: Any) -> Path:
        folder: Path = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)
        return folder

    monkeypatch.setattr(contract_cmd, "claim_folder", claim_then_signal)
    assert main(_argv("contract", sandbox.base_url, tmp_path / "reports")) == 130
    assert received() is None
