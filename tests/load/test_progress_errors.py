"""Progress lines carry the rate, p95 and the errors so far (with their share of the requests)."""

from __future__ import annotations

from coupon_harness.runners.load.events import Progress


def test_progress_names_rate_p95_and_errors() -> None:
    text = Progress(elapsed_s=5.0, users=10, requests=1234, failures=37, rps=246.8, p95_ms=12.0).text()
    assert "247 req/s" in text and "p95 12 ms" in text and "37 errors (3.0%)" in text, text
    quiet = Progress(elapsed_s=5.0, users=10, requests=0, failures=0, rps=0.0, p95_ms=None).text()
    assert "0 errors" in quiet and "%" not in quiet and "p95" not in quiet, quiet
