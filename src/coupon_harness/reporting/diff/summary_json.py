"""summary.json of a differential run: every difference with its reproducer, machine-readable; its `result` member
reads back (`reporting.stored`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coupon_harness.reporting.diff.common import against_curl, replay_command, verdict
from coupon_harness.reporting.stored import stored_member
from coupon_harness.reporting.writer import atomic_write_text
from coupon_harness.results.codec import encode
from coupon_harness.results.diff import DiffRunResult

__all__ = ["DIFF_SCHEMA", "diff_summary_dict", "write_diff_summary_json"]

DIFF_SCHEMA = "coupon-harness/diff-summary"


def diff_summary_dict(result: DiffRunResult) -> dict[str, Any]:
    raw = encode(result)
    for difference, typed in zip(raw["differences"], result.differences, strict=True):
        difference["reproducer"]["base_curl"] = typed.reproducer.base_request.curl
        difference["reproducer"]["against_curl"] = against_curl(typed.reproducer.against_request)
    raw["series_map"] = {str(a): b for a, b in result.series_map.items()}
    raw["faults"] = [{"stage": f.stage, "error": f.error, "file": f.file_name} for f in result.faults]
    return {"schema": DIFF_SCHEMA, "version": 1, "differs": result.differs, "holds": result.holds,
            "no_answer": result.no_answer, "headline": verdict(result),
            "replay": replay_command(result),
            "counts": {category: len(items) for category, items in result.by_category()}, **raw,
            **stored_member(result)}


def write_diff_summary_json(result: DiffRunResult, path: Path) -> None:
    atomic_write_text(path, json.dumps(diff_summary_dict(result), indent=2) + "\n")
