"""run_load is called from the CLI and from tests: it must leave no open file behind.

Regression: run_load once never closed the stderr pipe of its load process (ResourceWarning
'unclosed file', an error in any pytest caller that treats warnings as errors)."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

import pytest

from load.support import run_against_sandbox


def test_run_load_closes_its_pipes(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_against_sandbox(tmp_path / "out", users=2, run_time_s=1.0)
        gc.collect()
    assert result.requests > 0
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


def test_a_result_of_another_version_is_one_line_not_a_type_error() -> None:
    """A load process that imported a newer (or edited) package writes fields this one does not know."""
    from dataclasses import asdict

    from coupon_harness.errors import HarnessError
    from coupon_harness.results.load import LoadRunResult
    from coupon_harness.runners.load.runner import load_result_from_dict

    result = LoadRunResult(
        target="http://127.0.0.1:9", started_at="", duration_s=1.0, shape="steady", users=1, arrival_rate=None,
        workers=0, requests=0, status_counts={}, violation_counts={}, violation_examples={}, latency_ms={},
        error_rate=0.0, entities=0, entity_failures=0, expected_failures=0, unexpected_failures=0,
        failure_ratio=0.0, entity_error_codes={}, coupons_issued=0, duplicate_codes=0)
    raw = asdict(result)
    assert load_result_from_dict(dict(raw)).requests == 0
    with pytest.raises(HarnessError, match=r"newer_field.*another version"):
        load_result_from_dict({**raw, "newer_field": 1})
    missing = dict(raw)
    del missing["requests"]
    with pytest.raises(HarnessError, match="does not fit"):
        load_result_from_dict(missing)
