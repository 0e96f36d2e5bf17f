"""summary.json: the whole run, machine-readable, and readable back into a ContractRunResult."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coupon_harness.contract.catalog import Need, Rule, Severity
from coupon_harness.reporting.common import atomic_write_text
from coupon_harness.reporting.contract.common import (
    OUTCOME_ORDER,
    count_outcomes,
    ordered_rules,
    replay_command,
    verdict,
)
from coupon_harness.results.contract import ContractRunResult, Finding, HarnessFault, Outcome, RequestSample, RuleResult

__all__ = ["SCHEMA", "SCHEMA_VERSION", "read_summary_json", "summary_dict", "write_summary_json"]

SCHEMA = "coupon-harness/contract-summary"
SCHEMA_VERSION = 1


def _request_dict(request: RequestSample | None) -> dict[str, Any] | None:
    if request is None:
        return None
    return {"method": request.method, "url": request.url,
            "headers": [[name, value] for name, value in request.headers], "body": request.body}


def _finding_dict(finding: Finding, run_seed: int) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "key": finding.key,
        "expected": finding.expected,
        "received": finding.received,
        "response_status": finding.response_status,
        "response_excerpt": finding.response_excerpt,
        "source": finding.source,
        "seed": finding.seed,
        "occurrences": finding.occurrences,
        "probe": finding.probe,
        "replay": replay_command(finding.seed if finding.seed is not None else run_seed),
        "curl": finding.request.curl if finding.request is not None else None,
        "request": _request_dict(finding.request),
    }


def _rule_dict(rule_result: RuleResult, run_seed: int) -> dict[str, Any]:
    rule = rule_result.rule
    return {
        "id": rule.id,
        "title": rule.title,
        "group": rule.group,
        "severity": rule.severity.value,
        "statement": rule.statement,
        "needs": rule.needs.value if rule.needs is not None else None,
        "outcome": rule_result.outcome.value,
        "checks": rule_result.checks,
        "reason": rule_result.reason,
        "findings": [_finding_dict(finding, run_seed) for finding in rule_result.findings],
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
        "interrupted": result.interrupted,
        "harness_errors": [{"stage": fault.stage, "error": fault.error, "file": fault.file_name}
                           for fault in result.faults],
        "first_finding_s": result.first_finding_s,
        "first_finding_source": result.first_finding_source,
        "passes": [{"name": name, "requests": sent} for name, sent in result.passes],
        "notes": list(result.notes),
        "counts": {**{outcome.value: counts[outcome] for outcome in OUTCOME_ORDER},
                   "total": len(result.rules)},
        "rules": [_rule_dict(rule_result, result.seed) for rule_result in ordered_rules(result)],
    }


def write_summary_json(result: ContractRunResult, path: Path) -> None:
    """Write summary.json to `path` (atomically)."""
    atomic_write_text(path, json.dumps(summary_dict(result), indent=2, ensure_ascii=False) + "\n")


def _request(data: dict[str, Any] | None) -> RequestSample | None:
    if data is None:
        return None
    headers = tuple((str(name), str(value)) for name, value in data["headers"])
    return RequestSample(method=data["method"], url=data["url"], headers=headers, body=data["body"])


def _finding(data: dict[str, Any]) -> Finding:
    return Finding(
        rule_id=data["rule_id"], key=data["key"], expected=data["expected"], received=data["received"],
        request=_request(data["request"]), response_status=data["response_status"],
        response_excerpt=data["response_excerpt"], source=data["source"], seed=data["seed"],
        occurrences=data["occurrences"], probe=data.get("probe"),
    )


def _rule_result(data: dict[str, Any]) -> RuleResult:
    rule = Rule(id=data["id"], group=data["group"], severity=Severity(data["severity"]), title=data["title"],
                statement=data["statement"], needs=Need(data["needs"]) if data["needs"] else None)
    return RuleResult(rule=rule, outcome=Outcome(data["outcome"]), checks=data["checks"],
                      findings=[_finding(finding) for finding in data["findings"]], reason=data["reason"])


def _fault(data: dict[str, Any], report_dir: Path) -> HarnessFault:
    """A harness error; its traceback is read from the file beside summary.json ("" when that is gone)."""
    file = report_dir / Path(str(data.get("file") or "")).name
    try:
        traceback = file.read_text(encoding="utf-8") if file.name else ""
    except OSError:
        traceback = ""
    return HarnessFault(stage=data["stage"], error=data["error"], traceback=traceback)


def read_summary_json(path: Path) -> ContractRunResult:
    """Read a summary.json back (to re-render reports or compare runs).

    Files written before harness errors, probe classes and the time to the first finding were recorded
    read with none of them. A harness error's traceback comes from its file beside summary.json.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema") != SCHEMA or data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path}: not a {SCHEMA} v{SCHEMA_VERSION} file")
    return ContractRunResult(
        target=data["target"], started_at=data["started_at"], duration_s=data["duration_s"],
        seed=data["seed"], requests=data["requests"], interrupted=data["interrupted"],
        rules=[_rule_result(rule) for rule in data["rules"]],
        passes=[(entry["name"], entry["requests"]) for entry in data["passes"]],
        notes=list(data["notes"]),
        faults=[_fault(fault, path.parent) for fault in data.get("harness_errors", [])],
        first_finding_s=data.get("first_finding_s"),
        first_finding_source=data.get("first_finding_source"),
    )
