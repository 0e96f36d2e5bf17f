"""Under pytest (tests/contract) a harness bug in one pass fails a test of its own, naming the pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = '''
from dataclasses import replace

from coupon_harness.runners.contract.passes import REGISTRY

def _broken(*args, **kwargs):
    raise TypeError("Integer exceeds 64-bit range")

REGISTRY["scenarios"] = replace(REGISTRY["scenarios"], run=_broken)
'''


def test_a_faulted_pass_fails_the_pytest_run(tmp_path: Path) -> None:
    (tmp_path / "break_scenarios.py").write_text(PLUGIN, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/contract", "-q", "-p", "break_scenarios",
                           "-p", "no:xdist", "--harness-max-examples", "5"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
                          env={**_env(), "PYTHONPATH": str(tmp_path)})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "test_harness_ran_every_pass_without_a_bug FAILED" in out or \
        "FAILED tests/contract/test_contract.py::test_harness_ran_every_pass_without_a_bug" in out, out
    assert "harness error in pass 'scenarios'" in out, out


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("COUPON_HARNESS_", "PYTEST_"))}
