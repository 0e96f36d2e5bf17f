"""run_load is called from the CLI and from tests: it must leave no open file behind."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

import pytest

from load.support import run_against_sandbox


@pytest.mark.xfail(strict=True, reason="harness bug: run_load never closes the stderr pipe of the load process "
                   "(runner.py Popen(..., stderr=PIPE) without close): ResourceWarning 'unclosed file'")
def test_run_load_closes_its_pipes(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_against_sandbox(tmp_path / "out", users=2, run_time_s=1.0)
        gc.collect()
    assert result.requests > 0
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
