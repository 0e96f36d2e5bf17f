"""A master and two local workers (run_load starts them on 127.0.0.1): one merged result."""

from __future__ import annotations

import json
from pathlib import Path

from load.support import coupon_rows, describe, run_against_sandbox, slos
from targets.load_faults import DuplicatesUnderConcurrency


def test_two_workers_merge_into_one_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_against_sandbox(out, workers=2, users=20, run_time_s=5.0,
                                 slos=slos("p95=500ms", "error-rate=0.01"))
    why = describe(result)
    assert result.workers == 2, why
    assert result.requests > 100, why
    assert result.holds, why
    assert result.duplicate_codes == 0 and "unique-codes" not in result.violation_counts, why
    assert result.coupons_issued > 0, why
    assert sum(result.status_counts.values()) == result.requests, why
    rows = coupon_rows(out)
    assert rows[0] == ["series_id", "code", "customer_id", "issued_at", "source"]
    assert len(rows) - 1 == result.coupons_issued, why
    assert len({(row[0], row[1]) for row in rows[1:]}) == result.coupons_issued
    # Every request Locust counted reached the merged figures (the workers' last reports included).
    stats = json.loads((out / "locust_stats.json").read_text())
    total = next(entry for entry in stats["entries"] if entry["name"] == "Aggregated")
    assert total["requests"] == result.requests, (total, why)
    # Each worker quit on the master's QUIT_MESSAGE after shipping its last delta (none was waited for in vain).
    assert not [note for note in result.notes if "sent no last report" in note], why


def test_duplicates_across_workers_are_caught(tmp_path: Path) -> None:
    target = DuplicatesUnderConcurrency()
    result = run_against_sandbox(tmp_path / "out", workers=2, users=20, run_time_s=5.0, **target.hooks())
    why = describe(result)
    assert target.reused > 0, why
    assert result.duplicate_codes > 0, why
    assert result.violation_counts.get("unique-codes") == result.duplicate_codes, why
    assert not result.holds, why
