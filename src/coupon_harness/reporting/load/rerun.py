"""The Rerun line of a load report: the whole `coupon-harness load` command that runs the same load again."""

from __future__ import annotations

import shlex

from coupon_harness.reporting.contract.common import credential_flags
from coupon_harness.results.load import LoadReplay, LoadRunResult, SloResult

__all__ = ["rerun_command"]


def _slo(slo: SloResult) -> str:
    return f"{slo.key}={slo.threshold:g}ms" if slo.unit == "ms" else f"{slo.key}={slo.threshold:g}"


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _traffic(result: LoadRunResult, replay: LoadReplay) -> list[str]:
    """Users, rate, time, shape, SLOs, workers, batches: what the traffic was."""
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
    if replay.workers:
        parts += ["--workers", str(replay.workers)]
    if replay.invalid_share:
        parts += ["--invalid-share", f"{replay.invalid_share:g}"]
    if (replay.batch_min, replay.batch_max) != (1, 2):
        parts += ["--batch-size", f"{replay.batch_min}-{replay.batch_max}"]
    return parts


def rerun_command(result: LoadRunResult) -> str | None:
    """Every flag that shaped the run, credentials as `${COUPON_HARNESS_*}` references; None for a run that was
    not a `coupon-harness load` (a capacity step, `run`'s load stage) or a summary of an older version."""
    replay = result.replay
    if replay is None:
        return None
    parts = ["coupon-harness", "load", "--base-url", shlex.quote(result.target)]

    def ids(flag: str, values: tuple[int, ...] | tuple[str, ...]) -> None:
        if values:
            parts.extend((flag, shlex.quote(",".join(str(value) for value in values))))

    ids("--series-ids", replay.series_ids)
    ids("--invalid-series-ids", replay.invalid_series_ids)
    ids("--generic-series-ids", replay.generic_series_ids)
    ids("--customer-ids", replay.customer_ids)
    parts += credential_flags(replay.credentials)
    parts += _traffic(result, replay)
    if replay.max_coupons is not None:
        parts += ["--max-coupons", str(replay.max_coupons)]
    if result.request_timeout_s is not None and result.request_timeout_s != 10.0:
        parts += ["--request-timeout", f"{result.request_timeout_s:g}"]
    if replay.allow_production:
        parts.append("--allow-production")
    if replay.abort_on_fail:
        parts += ["--abort-on-fail", "--abort-violations", str(replay.abort_violations), "--abort-grace",
                  _seconds(replay.abort_grace_s)]
    return " ".join(parts)
