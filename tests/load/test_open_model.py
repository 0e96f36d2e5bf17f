"""The open model (--arrival-rate): the schedule is kept, and latency counts from the intended send time."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from coupon_harness.sandbox.config import Faults, default_config
from load.support import describe, run_against_sandbox


def test_arrival_rate_is_kept_against_a_fast_target(tmp_path: Path) -> None:
    result = run_against_sandbox(tmp_path / "out", arrival_rate=200.0, users=20, run_time_s=3.0)
    why = describe(result)
    assert result.holds, why
    # 3 s at 200/s, less the spawn-up; the schedule must not run ahead either: at most 200/s over the step's own
    # span (a busy machine stretches the span, never the rate).
    (step,) = result.steps
    assert 450 <= result.requests <= 200 * (step.end_s - step.start_s) * 1.05 + 20, why


def test_a_slow_target_cannot_hide_behind_fewer_requests(tmp_path: Path) -> None:
    """2 users, 50 ms per answer: at most 40 answers/s, but 100/s are scheduled. Measured from the intended
    send time the queue shows (latency grows far past 50 ms); a closed model would report ~50 ms."""
    slow = replace(default_config(), faults=Faults(latency_ms=50.0))
    open_model = run_against_sandbox(tmp_path / "open", config=slow, arrival_rate=100.0, users=2, run_time_s=3.0)
    closed = run_against_sandbox(tmp_path / "closed", config=slow, users=2, run_time_s=3.0)
    assert closed.latency_ms["p50"] < 100, describe(closed)  # ~50 ms: the closed model hides the queue
    assert open_model.latency_ms["p95"] > 300, describe(open_model)
    assert open_model.latency_ms["p50"] > closed.latency_ms["p95"], describe(open_model)
