"""run_load is called from the CLI and from tests: it must leave no open file behind.

Regression: run_load once never closed the stderr pipe of its load process (ResourceWarning
'unclosed file', an error in any pytest caller that treats warnings as errors)."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

from load.support import run_against_sandbox


def test_run_load_closes_its_pipes(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_against_sandbox(tmp_path / "out", users=2, run_time_s=1.0)
        gc.collect()
    assert result.requests > 0
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
