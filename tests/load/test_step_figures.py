"""Per-step figures: a ramp run reports its five steps with rising users and requests that add up to the run's;
the step windows take the intervals whose middle lies inside them, their histograms merged exactly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from coupon_harness.runners.load.checker import CheckOutcome
from coupon_harness.runners.load.recorder import Aggregate, Recorder, step_figures
from load.support import describe, run_against_sandbox


@dataclass
class LoadStep:
    """plugin.LoadStep's fields (importing the plugin imports Locust, which monkey-patches this process)."""

    index: int
    users: int
    start_s: float
    end_s: float | None = None

START = 1_700_000_000.0


def _aggregate(latency_of_second: dict[int, float], seconds: int) -> Aggregate:
    recorder = Recorder(1.0)
    for second in range(seconds):
        for _ in range(10):
            failed = second == 7
            outcome = CheckOutcome("500" if failed else "200")
            recorder.record(outcome, latency_of_second.get(second, 0.010), "c", at=START + second + 0.5)
    aggregate = Aggregate(1.0, frozenset(), None)
    aggregate.merge(recorder.take_delta())
    return aggregate


def test_steps_split_the_intervals_and_merge_their_histograms() -> None:
    aggregate = _aggregate({second: 0.100 for second in range(5, 10)}, 10)
    steps = [LoadStep(0, 2, START, START + 5), LoadStep(1, 4, START + 5, START + 10)]
    first, second = step_figures(aggregate, steps, 4, None)
    assert (first.users, first.requests, first.errors, first.start_s, first.end_s) == (2, 50, 0, 0.0, 5.0)
    assert (second.users, second.requests, second.errors) == (4, 50, 10)
    assert second.error_rate == 0.2 and first.rps == 10.0
    assert first.p95_ms is not None and abs(first.p95_ms - 10.0) < 0.1
    assert second.p50_ms is not None and abs(second.p50_ms - 100.0) < 0.2
    assert first.rate is None


def test_the_open_model_gives_each_step_its_rate() -> None:
    aggregate = _aggregate({}, 4)
    steps = [LoadStep(0, 2, START, START + 2), LoadStep(1, 10, START + 2, START + 4)]
    figures = step_figures(aggregate, steps, 10, 100.0)
    assert [step.rate for step in figures] == [20.0, 100.0]


def test_a_ramp_run_reports_five_rising_steps(tmp_path: Path) -> None:
    result = run_against_sandbox(tmp_path / "out", shape="ramp", users=10, spawn_rate=100.0, run_time_s=5.0,
                                 wait_s=0.02)
    why = describe(result)
    assert len(result.steps) == 5, why
    users = [step.users or 0 for step in result.steps]
    assert users == sorted(users) and users[0] > 0 and users[-1] == 10, why
    assert all(step.requests > 0 for step in result.steps), why
    assert abs(sum(step.requests for step in result.steps) - result.requests) <= result.requests * 0.02, why
    assert all(step.p95_ms is not None for step in result.steps), why
    starts = [step.start_s for step in result.steps]
    assert starts == sorted(starts), why


def test_a_steady_run_has_one_step(tmp_path: Path) -> None:
    result = run_against_sandbox(tmp_path / "out", users=2, run_time_s=1.0)
    assert len(result.steps) == 1 and result.steps[0].requests == result.requests, describe(result)
