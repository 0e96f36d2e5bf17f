"""The Rerun line of a load report: the whole `coupon-harness load` command that runs the same load again."""

from __future__ import annotations

import shlex

from coupon_harness.reporting.contract.common import target_flags
from coupon_harness.results.capacity import CapacityResult
from coupon_harness.results.load import LoadReplay, LoadRunResult, SloResult

__all__ = ["capacity_rerun_command", "rerun_command"]


def _slo(slo: SloResult) -> str:
    return f"{slo.key}={slo.threshold:g}ms" if slo.unit == "ms" else f"{slo.key}={slo.threshold:g}"


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _load_flags(replay: LoadReplay, request_timeout_s: float | None) -> list[str]:
    """What `load` and `capacity` share after the traffic: workers, batches, coupon cap, timeout, production."""
    parts: list[str] = []
    if replay.workers:
        parts += ["--workers", str(replay.workers)]
    if replay.invalid_share:
        parts += ["--invalid-share", f"{replay.invalid_share:g}"]
    if (replay.batch_min, replay.batch_max) != (1, 2):
        parts += ["--batch-size", f"{replay.batch_min}-{replay.batch_max}"]
    if replay.max_coupons is not None:
        parts += ["--max-coupons", str(replay.max_coupons)]
    if request_timeout_s is not None and request_timeout_s != 10.0:
        parts += ["--request-timeout", f"{request_timeout_s:g}"]
    if replay.allow_production:
        parts.append("--allow-production")
    return parts


def _traffic(result: LoadRunResult, replay: LoadReplay) -> list[str]:
    """Users, rate, time, shape, SLOs: what the traffic was."""
    parts: list[str] = []
    if result.users is not None:
        parts += ["--users", str(result.users)]
    if result.arrival_rate is not None:
        parts += ["--arrival-rate", f"{result.arrival_rate:g}"]
    elif replay.spawn_rate is not None:
        parts += ["--spawn-rate", f"{replay.spawn_rate:g}"]
    parts += ["--run-time", _seconds(replay.run_time_s)]
    if replay.wait_s:
        parts += ["--wait", _seconds(replay.wait_s)]
    if result.shape != "steady":
        parts += ["--shape", result.shape]
    for slo in result.slos:
        parts += ["--slo", _slo(slo)]
    return parts


def rerun_command(result: LoadRunResult) -> str | None:
    """Every flag that shaped the run, credentials as references; None when it was not a `coupon-harness load`
    (a capacity step, `run`'s load stage) or the summary is of an older version."""
    if (replay := result.replay) is None:
        return None
    parts = ["coupon-harness", "load", "--base-url", shlex.quote(result.target), *target_flags(replay),
             *_traffic(result, replay), *_load_flags(replay, result.request_timeout_s)]
    if replay.abort_on_fail:
        parts += ["--abort-on-fail", "--abort-violations", str(replay.abort_violations), "--abort-grace",
                  _seconds(replay.abort_grace_s)]
    return " ".join(parts)


def capacity_rerun_command(result: CapacityResult) -> str | None:
    """The whole `coupon-harness capacity` command of the search; None for a summary of an older version."""
    if (replay := result.replay) is None:
        return None
    parts = ["coupon-harness", "capacity", "--base-url", shlex.quote(result.target), *target_flags(replay)]
    for slo in result.slos:
        parts += ["--slo", slo.replace("<=", "=", 1)]
    parts += ["--start-rate", f"{result.start_rate:g}", "--max-rate", f"{result.max_rate:g}", "--step-time",
              _seconds(result.step_time_s), "--warmup", _seconds(result.warmup_s), "--precision",
              f"{result.precision:g}"]
    if result.max_steps is not None:
        parts += ["--max-steps", str(result.max_steps)]
    if result.users is not None:
        parts += ["--users", str(result.users)]
    if result.min_capacity is not None:
        parts += ["--min-capacity", f"{result.min_capacity:g}"]
    return " ".join([*parts, *_load_flags(replay, result.request_timeout_s)])
