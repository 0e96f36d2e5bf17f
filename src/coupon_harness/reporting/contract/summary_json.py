"""summary.json: the whole run, machine-readable; its `result` member reads back (`reporting.stored`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coupon_harness.contract.catalog import rules
from coupon_harness.reporting.contract.common import (
    OUTCOME_ORDER,
    baseline_groups,
    count_outcomes,
    replay_command,
    verdict,
)
from coupon_harness.reporting.stored import stored_member
from coupon_harness.reporting.writer import atomic_write_text
from coupon_harness.results.codec import encode
from coupon_harness.results.contract import ContractRunResult, Finding, ReplayInfo, RuleResult, RunShape
from coupon_harness.results.request import request_dict

__all__ = ["SCHEMA", "SCHEMA_VERSION", "finding_dict", "summary_dict", "write_summary_json"]

SCHEMA = "coupon-harness/contract-summary"
SCHEMA_VERSION = 1
#: The fields of a finding summary.json holds as the codec writes them, in this order (after its id).
_FINDING_FIELDS = ("rule_id", "key", "expected", "received", "response_status", "response_excerpt", "source", "seed",
                   "occurrences", "probe", "probe_class", "baseline")


def _catalog_rules(result: ContractRunResult) -> list[RuleResult]:
    """The rule results in catalog order (summary.json's order); rules the catalog does not know come last."""
    index = {rule.id: position for position, rule in enumerate(rules())}
    return sorted(result.rules, key=lambda r: index.get(r.rule.id, len(index)))


def _replay_dict(info: ReplayInfo | None) -> dict[str, Any] | None:
    """How a request was judged (`ReplayInfo` in the codec's form; `route` only for a routes probe)."""
    if info is None:
        return None
    return {key: value for key, value in encode(info).items() if key != "route" or value is not None}


def _baseline_dict(result: ContractRunResult) -> dict[str, Any] | None:
    if (groups := baseline_groups(result)) is None:
        return None
    return {"file": groups.file, "updated": groups.updated,
            "new": [f.fingerprint for f in groups.new], "known": [f.fingerprint for f in groups.known],
            "fixed": [{"id": e.fingerprint, "rule": e.rule_id, "description": e.description} for e in groups.fixed],
            "warnings": list(groups.warnings)}


def finding_dict(finding: Finding, run_seed: int, shape: RunShape | None = None) -> dict[str, Any]:
    raw = encode(finding)
    return {
        "id": finding.fingerprint,
        **{name: raw[name] for name in _FINDING_FIELDS},
        "replay": replay_command(finding.seed if finding.seed is not None else run_seed, shape),
        "curl": finding.curl,
        "request": request_dict(finding.request) if finding.request is not None else None,
        # The requests a cross-request rule needs before `request`, in the order sent (coupon-harness replay).
        "sequence": [request_dict(request) for request in finding.sequence],
        # How `request` was judged: its allowed statuses and rules, and whether a 200 is a bulk issue's answer.
        "judged": _replay_dict(finding.replay),
        # How each request of `sequence` was judged (a stateful sequence's steps); [] means bulk issues.
        "sequence_judged": [_replay_dict(info) for info in finding.sequence_judged],
    }


def _rule_dict(rule_result: RuleResult, run_seed: int, shape: RunShape | None = None) -> dict[str, Any]:
    raw = encode(rule_result.rule)
    return {
        **{name: raw[name] for name in ("id", "title", "group", "severity", "statement", "needs")},
        "outcome": rule_result.outcome.value,
        "checks": rule_result.checks,
        "reason": rule_result.reason,
        "findings": [finding_dict(finding, run_seed, shape) for finding in rule_result.findings],
    }


def summary_dict(result: ContractRunResult) -> dict[str, Any]:
    """The summary as plain JSON-able data; outcome values are those of `Outcome` ("not run" included)."""
    counts = count_outcomes(result)
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "verdict": verdict(result),
        "holds": result.holds,
        "target": result.target,
        "started_at": result.started_at,
        "duration_s": result.duration_s,
        "seed": result.seed,
        "requests": result.requests,
        "workers": result.workers,
        "concurrency_peak": result.concurrency_peak,
        "interrupted": result.interrupted,
        "harness_errors": [{"stage": fault.stage, "error": fault.error, "file": fault.file_name}
                           for fault in result.faults],
        "first_finding_s": result.first_finding_s,
        "first_finding_source": result.first_finding_source,
        "passes": [{"name": name, "requests": sent} for name, sent in result.passes],
        "notes": list(result.notes),
        "counts": {**{outcome.value: counts[outcome] for outcome in OUTCOME_ORDER},
                   "total": len(result.rules)},
        "replay": replay_command(result.seed, result.shape),
        "run": encode(result.shape),
        "baseline": _baseline_dict(result),
        "rules": [_rule_dict(rule_result, result.seed, result.shape) for rule_result in _catalog_rules(result)],
        **stored_member(result),
    }


def write_summary_json(result: ContractRunResult, path: Path) -> None:
    atomic_write_text(path, json.dumps(summary_dict(result), indent=2, ensure_ascii=False) + "\n")
