"""summary.json of a capacity search: `capacity_rps`, `breaking_rps` and every step, machine-readable; its `result`
member reads back (`reporting.stored`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coupon_harness.reporting.capacity.common import gate_text, holds, step_verdict
from coupon_harness.reporting.load.rerun import capacity_rerun_command
from coupon_harness.reporting.stored import stored_member
from coupon_harness.reporting.writer import atomic_write_text
from coupon_harness.results.capacity import CapacityResult
from coupon_harness.results.codec import encode

__all__ = ["CAPACITY_SCHEMA", "capacity_summary_dict", "write_capacity_summary_json"]

CAPACITY_SCHEMA = "coupon-harness/capacity-summary"


def capacity_summary_dict(result: CapacityResult) -> dict[str, Any]:
    raw = encode(result)
    steps = raw.pop("steps")
    for step, typed in zip(steps, result.steps, strict=True):
        step["met"] = typed.met
        step["verdict"] = step_verdict(typed)
        step["latency_ms"] = {key: round(value, 3) for key, value in step["latency_ms"].items()}
        for key, places in (("error_rate", 6), ("failure_ratio", 6), ("generator_cpu_mean", 1)):
            step[key] = round(step[key], places)
    return {"schema": CAPACITY_SCHEMA, "version": 1, "verdict": result.verdict, "holds": holds(result),
            "headline": gate_text(result),
            # "replay": the whole command that runs the search again (its record stays in "result").
            **raw, "replay": capacity_rerun_command(result), "steps": steps, **stored_member(result)}


def write_capacity_summary_json(result: CapacityResult, path: Path) -> None:
    atomic_write_text(path, json.dumps(capacity_summary_dict(result), indent=2) + "\n")
