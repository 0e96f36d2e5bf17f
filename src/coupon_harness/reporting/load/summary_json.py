"""summary.json of a load run: every figure, machine-readable, numbers rounded; its `result` member (unrounded)
reads back (`reporting.stored`)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

from coupon_harness.input_files import UnreadableFile
from coupon_harness.reporting.load.common import (
    FIGURE_LABELS,
    causes,
    figure_label,
    finite,
    no_sample_text,
    sample_curl,
    slo_label,
    throughput_rps,
    verdict,
)
from coupon_harness.reporting.load.compare import fmt_limit
from coupon_harness.reporting.load.rerun import rerun_command
from coupon_harness.reporting.stored import read_stored, stored_member
from coupon_harness.reporting.writer import atomic_write_text
from coupon_harness.results.load import (
    Comparison,
    LoadHistograms,
    LoadRunResult,
    SloResult,
    StepFigures,
    TimelinePoint,
)

__all__ = ["LOAD_SCHEMA", "LOAD_SCHEMA_VERSION", "comparison_dict", "load_summary_dict", "read_earlier",
           "write_load_summary_json"]

LOAD_SCHEMA = "coupon-harness/load-summary"
LOAD_SCHEMA_VERSION = 1

# Decimal places kept: microseconds for times, a millionth for ratios.
_MS = 3
_RATIO = 6
_RATE = 3
_CPU = 1
_SECONDS = 3


def _round(value: float | None, places: int) -> float | None:
    """Rounded; None for a missing, NaN or infinite value (JSON has no NaN)."""
    value = finite(value)
    return None if value is None else round(value, places)


def _number(value: float, places: int) -> float:
    rounded = _round(value, places)
    return 0.0 if rounded is None else rounded


def _slo_dict(slo: SloResult) -> dict[str, Any]:
    places = _MS if slo.unit == "ms" else _RATIO
    return {"key": slo.key, "label": slo_label(slo), "figure": figure_label(slo.key),
            "threshold": _number(slo.threshold, places), "unit": slo.unit,
            "measured": _round(slo.measured, places), "passed": slo.passed}


def _point_dict(point: TimelinePoint) -> dict[str, Any]:
    return {"t_s": _number(point.t_s, _SECONDS), "requests": point.requests, "errors": point.errors,
            "rps": _number(point.rps, _RATE), "p50_ms": _round(point.p50_ms, _MS),
            "p95_ms": _round(point.p95_ms, _MS), "p99_ms": _round(point.p99_ms, _MS)}


def _step_dict(step: StepFigures) -> dict[str, Any]:
    return {"index": step.index, "users": step.users, "rate": _round(step.rate, _RATE),
            "start_s": _number(step.start_s, _SECONDS), "end_s": _number(step.end_s, _SECONDS),
            "requests": step.requests, "errors": step.errors, "error_rate": _number(step.error_rate, _RATIO),
            "rps": _number(step.rps, _RATE), "p50_ms": _round(step.p50_ms, _MS), "p95_ms": _round(step.p95_ms, _MS),
            "p99_ms": _round(step.p99_ms, _MS)}


def _samples_dict(result: LoadRunResult) -> dict[str, Any]:
    """Rule id -> its sample request (as sent, redacted) and curl command; or why there is none."""
    out: dict[str, Any] = {}
    for rule in sorted(result.violation_counts):
        sample = result.violation_samples.get(rule)
        curl = sample_curl(result, rule)
        out[rule] = ({"request": dict(sample), "curl": curl} if sample is not None and curl is not None
                     else {"request": None, "curl": None, "why_none": no_sample_text(rule)})
    return out


def comparison_dict(comparison: Comparison) -> dict[str, object]:
    """summary.json's `comparison` object."""
    number = partial(_round, places=_RATIO)
    return {
        "earlier": {"source": comparison.earlier_source, "started_at": comparison.earlier_started_at,
                    "target": comparison.earlier_target},
        "noise_judged": comparison.noise_judged, "resamples": comparison.resamples, "seed": comparison.seed,
        "confidence": comparison.confidence, "regressed": comparison.regressed,
        "regressions": [row.key for row in comparison.regressions],
        "rows": [{"key": row.key, "label": row.label, "unit": row.unit, "earlier": number(row.earlier),
                  "current": number(row.current), "change": number(row.change),
                  "change_kind": "relative" if row.relative else "difference", "low": number(row.low),
                  "high": number(row.high), "limit": fmt_limit(row.limit) if row.limit is not None else None,
                  "verdict": row.verdict} for row in comparison.rows],
        "entity_error_codes": {code: {"earlier": b, "current": a} for code, (b, a) in comparison.error_codes.items()},
        "notes": list(comparison.notes),
    }


def _histograms_dict(histograms: LoadHistograms | None) -> dict[str, Any] | None:
    if histograms is None:
        return None
    return {"encoding": "HdrHistogram.encode() base64, microseconds, 1 us .. 600 s, 3 significant digits",
            "interval_s": histograms.interval_s, "total": histograms.total,
            "intervals": [{"t_s": _number(i.t_s, _SECONDS), "requests": i.requests, "errors": i.errors,
                           "histogram": i.histogram} for i in histograms.intervals]}


def load_summary_dict(result: LoadRunResult) -> dict[str, Any]:
    """The summary as plain JSON-able data: the result's fields (rounded) plus the derived gate figures."""
    return {
        "schema": LOAD_SCHEMA,
        "schema_version": LOAD_SCHEMA_VERSION,
        "verdict": verdict(result),
        "causes": causes(result),
        "holds": result.holds,
        "slos_met": result.slos_met,
        "target": result.target,
        # The whole `coupon-harness load` command that runs it again (None: a capacity step, run's load stage).
        "replay": rerun_command(result),
        "started_at": result.started_at,
        "duration_s": _number(result.duration_s, _SECONDS),
        "shape": result.shape,
        "users": result.users,
        "arrival_rate": _round(result.arrival_rate, _RATE),
        "workers": result.workers,
        "requests": result.requests,
        # Requests that got a whole answer; with none, the run cannot pass (no_answer says so in one line).
        "answered": result.answered,
        "no_answer": result.no_answer,
        "request_timeout_s": result.request_timeout_s,
        "throughput_rps": _number(throughput_rps(result), _RATE),
        "interrupted": result.interrupted,
        "stopped_reason": result.stopped_reason,
        "latency_ms": {key: _round(value, _MS) for key, value in result.latency_ms.items()},
        "status_counts": dict(result.status_counts),
        #: The one name of each ratio, as every format and the SLO table show it.
        "figure_labels": dict(FIGURE_LABELS),
        "error_rate": _number(result.error_rate, _RATIO),
        "violations": result.violations,
        "violation_counts": dict(result.violation_counts),
        "violation_examples": dict(result.violation_examples),
        "violation_samples": _samples_dict(result),
        "duplicate_codes": result.duplicate_codes,
        "entities": result.entities,
        "entity_failures": result.entity_failures,
        "failure_count_ratio": _number(result.failure_count_ratio, _RATIO),
        "expected_failures": result.expected_failures,
        "unexpected_failures": result.unexpected_failures,
        "failure_ratio": _number(result.failure_ratio, _RATIO),
        "entity_error_codes": dict(result.entity_error_codes),
        "coupons_issued": result.coupons_issued,
        "generator_cpu_max": _number(result.generator_cpu_max, _CPU),
        "generator_cpu_mean": _number(result.generator_cpu_mean, _CPU),
        "generator_saturated": result.generator_saturated,
        "generator_late_share": _round(result.generator_late_share, _RATIO),
        "generator_behind": result.generator_behind,
        "slos": [_slo_dict(slo) for slo in result.slos],
        "steps": [_step_dict(step) for step in result.steps],
        "timeline": [_point_dict(point) for point in result.timeline],
        "notes": list(result.notes),
        "files": dict(result.files),
        "comparison": comparison_dict(result.comparison) if result.comparison is not None else None,
        #: The raw material of a later --compare (last: the largest part of the file).
        "histograms": _histograms_dict(result.histograms),
        **stored_member(result),
    }


def write_load_summary_json(result: LoadRunResult, path: Path) -> None:
    text = json.dumps(load_summary_dict(result), indent=2, ensure_ascii=False, allow_nan=False)
    atomic_write_text(path, text + "\n")


def read_earlier(path: Path) -> LoadRunResult:
    """The earlier run of `--compare`: a load report folder, its summary.json, or a `run` folder (its
    load/summary.json). ValueError with a one-line reason for anything else."""
    candidates = [path / "summary.json", path / "load" / "summary.json"] if path.is_dir() else [path]
    for candidate in candidates:
        if candidate.exists():  # a device or a pipe named summary.json is refused by name, not skipped
            try:
                return read_stored(candidate, LoadRunResult)
            except UnreadableFile as exc:
                raise ValueError(f"{exc}: give a load report folder, a run folder or a summary.json") from None
    if path.is_dir():
        raise ValueError(f"{path} holds no summary.json nor load/summary.json: give a load report folder, a run "
                         "folder or a summary.json")
    raise ValueError(f"{path} does not exist: give a load report folder, a run folder or a summary.json")
