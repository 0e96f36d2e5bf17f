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


def test_a_result_of_another_version_is_one_line_not_a_type_error(tmp_path: Path) -> None:
    """A load process that imported a newer (or edited) package: a field this one does not know is kept, another
    version or a missing field is one line."""
    import json

    from coupon_harness.errors import HarnessError
    from coupon_harness.results.load import LoadRunResult
    from coupon_harness.runners.load.runner import read_result_file

    def read(data: object) -> LoadRunResult:
        path = tmp_path / "result.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return read_result_file(path)

    result = LoadRunResult(
        target="http://127.0.0.1:9", started_at="", duration_s=1.0, shape="steady", users=1, arrival_rate=None,
        workers=0, requests=0, status_counts={}, violation_counts={}, violation_examples={}, latency_ms={},
        error_rate=0.0, entities=0, entity_failures=0, expected_failures=0, unexpected_failures=0,
        failure_ratio=0.0, entity_error_codes={}, coupons_issued=0, duplicate_codes=0)
    raw = result.to_json()
    assert read(raw) == result
    assert read({**raw, "newer_field": 1}).to_json()["newer_field"] == 1
    with pytest.raises(HarnessError, match=r"version 2, .*newer coupon-harness.*another version of the package"):
        read({**raw, "version": 2})
    missing = dict(raw)
    del missing["requests"]
    with pytest.raises(HarnessError, match=r"does not fit this coupon-harness \(load-result: no 'requests'\)"):
        read(missing)
    with pytest.raises(HarnessError, match="does not fit"):
        read("garbage")
