"""A signal while the console script still imports the CLI is the command's: noted from the script's first line
(`interrupts.listen_early`), kept by `handled()` and raised by `armed()`, so the command ends as interrupted (130 or
143, one line, nothing sent). Before, Python's own handler raised inside whatever import ran then; under load a
`load` signalled 0.15 s after its start once ran to its end and exited 0."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from coupon_harness import interrupts
from coupon_harness.sandbox import running_sandbox

#: The console script's own lines, with the signal sent between its entry's import and `main()`: the moment a
#: command's heavy imports run.
_SCRIPT = """
import os, signal, sys
from coupon_harness.cli.entry import main
os.kill(os.getpid(), signal.{name})
sys.argv = ["coupon-harness", *sys.argv[1:]]
sys.exit(main())
"""


@pytest.fixture
def restored_handlers() -> Iterator[None]:
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        interrupts._early[0] = False
        for signum, handler in before.items():
            signal.signal(signum, handler)


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_during_the_imports_ends_the_command_as_interrupted(name: str, code: int, tmp_path: Path) -> None:
    with running_sandbox() as sandbox:
        done = subprocess.run([sys.executable, "-c", _SCRIPT.format(name=name), "load", "--base-url",
                               sandbox.base_url, "-t", "2s", "--report-dir", str(tmp_path / "r"), "--no-color"],
                              capture_output=True, text=True, timeout=120, check=False)
        issued = sum(sandbox.issuer.coupons_issued(series) for series in (101, 102, 103, 104, 105))
    assert done.returncode == code, done.stdout + done.stderr
    assert "before the run started" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert issued == 0 and not (tmp_path / "r").exists()


def test_what_the_early_handler_noted_is_kept_by_handled_and_raised_by_armed(restored_handlers: None) -> None:
    interrupts.listen_early()
    signal.raise_signal(signal.SIGTERM)
    with pytest.raises(interrupts.Terminated), interrupts.handled():
        assert interrupts.received() == signal.SIGTERM
        interrupts.armed()


def test_without_the_early_handler_handled_starts_afresh(restored_handlers: None) -> None:
    """A library call after a signalled command in the same process is not interrupted by that command's signal."""
    interrupts._received.append(signal.SIGINT)
    with interrupts.handled():
        assert interrupts.received() is None
        interrupts.armed()
