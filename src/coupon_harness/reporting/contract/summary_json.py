"""summary.json: the whole run, machine-readable, and readable back into a ContractRunResult."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coupon_harness.contract.catalog import Need, Rule, Severity
from coupon_harness.input_files import CONFIG_LIMIT, DATA_LIMIT, read_text
from coupon_harness.reporting.common import atomic_write_text
from coupon_harness.reporting.contract.common import (
    OUTCOME_ORDER,
    baseline_groups,
    catalog_rules,
    count_outcomes,
    replay_command,
    verdict,
)
from coupon_harness.reporting.setup_error import refuse_setup_error
from coupon_harness.results.contract import (
    BaselineStatus,
    BaselineSummary,
    ContractRunResult,
    Finding,
    FixedEntry,
    HarnessFault,
    Outcome,
    ReplayInfo,
    RequestSample,
    RuleResult,
    RunShape,
)

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "finding_dict",
    "finding_from_dict",
    "read_summary_json",
    "summary_dict",
    "write_summary_json",
]

SCHEMA = "coupon-harness/contract-summary"
SCHEMA_VERSION = 1


def _request_dict(request: RequestSample | None) -> dict[str, Any] | None:
    if request is None:
        return None
    return {"method": request.method, "url": request.url,
            "headers": [[name, value] for name, value in request.headers], "body": request.body}


def _str(value: str | None) -> str | None:
    return None if value is None else str(value)


def _replay_dict(info: ReplayInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {"statuses": list(info.statuses), "status_rule": _str(info.status_rule), "warn": list(info.warn),
            "warn_rule": _str(info.warn_rule), "issue_call": info.issue_call, "fresh_customer": info.fresh_customer,
            **({"route": info.route} if info.route is not None else {})}


def _shape_dict(shape: RunShape | None) -> dict[str, Any] | None:
    if shape is None:
        return None
    return {"base_url": shape.base_url, "series_ids": list(shape.series_ids),
            "invalid_series_ids": list(shape.invalid_series_ids),
            "generic_series_ids": list(shape.generic_series_ids), "unique_generic": shape.unique_generic,
            "customer_ids": list(shape.customer_ids), "max_examples": shape.max_examples,
            "request_timeout": shape.request_timeout, "credentials": shape.credentials,
            "allow_production": shape.allow_production, "passes": list(shape.passes),
            "clock_skew_s": shape.clock_skew_s}


def _baseline_dict(result: ContractRunResult) -> dict[str, Any] | None:
    groups = baseline_groups(result)
    if groups is None:
        return None
    return {"file": groups.file, "updated": groups.updated,
            "new": [f.fingerprint for f in groups.new], "known": [f.fingerprint for f in groups.known],
            "fixed": [{"id": e.fingerprint, "rule": e.rule_id, "description": e.description} for e in groups.fixed],
            "warnings": list(groups.warnings)}


def _finding_dict(finding: Finding, run_seed: int, shape: RunShape | None = None) -> dict[str, Any]:
    return {
        "id": finding.fingerprint,
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
        "probe_class": finding.probe_class,
        "baseline": finding.baseline.value if finding.baseline is not None else None,
        "replay": replay_command(finding.seed if finding.seed is not None else run_seed, shape),
        "curl": finding.curl,
        "request": _request_dict(finding.request),
        # The requests a cross-request rule needs before `request`, in the order sent (coupon-harness replay).
        "sequence": [_request_dict(request) for request in finding.sequence],
        # How `request` was judged: its allowed statuses and rules, and whether a 200 is a bulk issue's answer.
        "judged": _replay_dict(finding.replay),
        # How each request of `sequence` was judged (a stateful sequence's steps); [] means bulk issues.
        "sequence_judged": [_replay_dict(info) for info in finding.sequence_judged],
    }


finding_dict = _finding_dict


def _rule_dict(rule_result: RuleResult, run_seed: int, shape: RunShape | None = None) -> dict[str, Any]:
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
        "findings": [_finding_dict(finding, run_seed, shape) for finding in rule_result.findings],
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
        "replay": replay_command(result.seed, result.shape),
        "run": _shape_dict(result.shape),
        "baseline": _baseline_dict(result),
        "rules": [_rule_dict(rule_result, result.seed, result.shape) for rule_result in catalog_rules(result)],
    }


def write_summary_json(result: ContractRunResult, path: Path) -> None:
    """Write summary.json to `path` (atomically)."""
    atomic_write_text(path, json.dumps(summary_dict(result), indent=2, ensure_ascii=False) + "\n")


def _request(data: dict[str, Any] | None) -> RequestSample | None:
    if data is None:
        return None
    headers = tuple((str(name), str(value)) for name, value in data["headers"])
    return RequestSample(method=data["method"], url=data["url"], headers=headers, body=data["body"])


def _replay_info(data: dict[str, Any] | None) -> ReplayInfo | None:
    if data is None:
        return None
    return ReplayInfo(statuses=tuple(int(s) for s in data["statuses"]), status_rule=data.get("status_rule"),
                      warn=tuple(int(s) for s in data.get("warn", ())), warn_rule=data.get("warn_rule"),
                      issue_call=bool(data.get("issue_call")), fresh_customer=bool(data.get("fresh_customer")),
                      route=None if data.get("route") is None else str(data["route"]))


def _shape(data: dict[str, Any] | None) -> RunShape | None:
    if data is None:
        return None
    return RunShape(
        base_url=str(data["base_url"]), series_ids=tuple(int(i) for i in data.get("series_ids", ())),
        invalid_series_ids=tuple(int(i) for i in data.get("invalid_series_ids", ())),
        generic_series_ids=tuple(int(i) for i in data.get("generic_series_ids", ())),
        unique_generic=bool(data.get("unique_generic")),
        customer_ids=tuple(str(c) for c in data.get("customer_ids", ())),
        max_examples=int(data.get("max_examples", 100)), request_timeout=float(data.get("request_timeout", 5.0)),
        credentials=data.get("credentials"), allow_production=bool(data.get("allow_production")),
        passes=tuple(str(p) for p in data.get("passes", ())), clock_skew_s=float(data.get("clock_skew_s", 300.0)))


def _baseline(data: dict[str, Any] | None) -> BaselineSummary | None:
    if data is None:
        return None
    return BaselineSummary(file=str(data["file"]), updated=bool(data.get("updated")),
                           fixed=[FixedEntry(e["id"], e["rule"], e["description"]) for e in data.get("fixed", ())],
                           warnings=list(data.get("warnings", ())))


def finding_from_dict(data: dict[str, Any]) -> Finding:
    """A finding of summary.json's form (the export-tests file keeps the same form); KeyError, TypeError or
    ValueError on anything else."""
    baseline = data.get("baseline")
    return Finding(
        rule_id=data["rule_id"], key=data["key"], expected=data["expected"], received=data["received"],
        request=_request(data["request"]), response_status=data["response_status"],
        response_excerpt=data["response_excerpt"], source=data["source"], seed=data["seed"],
        occurrences=data["occurrences"], probe=data.get("probe"), probe_class=data.get("probe_class"),
        sequence=[request for request in map(_request, data.get("sequence") or ()) if request is not None],
        sequence_judged=[info for info in map(_replay_info, data.get("sequence_judged") or ()) if info is not None],
        replay=_replay_info(data.get("judged")), baseline=BaselineStatus(baseline) if baseline else None,
    )


_finding = finding_from_dict


def _rule_result(data: dict[str, Any]) -> RuleResult:
    rule = Rule(id=data["id"], group=data["group"], severity=Severity(data["severity"]), title=data["title"],
                statement=data["statement"], needs=Need(data["needs"]) if data["needs"] else None)
    return RuleResult(rule=rule, outcome=Outcome(data["outcome"]), checks=data["checks"],
                      findings=[_finding(finding) for finding in data["findings"]], reason=data["reason"])


def _fault(data: dict[str, Any], report_dir: Path) -> HarnessFault:
    """A harness error; its traceback is read from the file beside summary.json ("" when that is gone)."""
    file = report_dir / Path(str(data.get("file") or "")).name
    try:
        traceback = read_text(file, limit=CONFIG_LIMIT) if file.name else ""
    except (OSError, ValueError):  # gone, not a file, too large, not text
        traceback = ""
    return HarnessFault(stage=data["stage"], error=data["error"], traceback=traceback)


def read_summary_json(path: Path) -> ContractRunResult:
    """Read a summary.json back (to re-render reports or compare runs).

    Files written before harness errors, probe classes and the time to the first finding were recorded
    read with none of them. A harness error's traceback comes from its file beside summary.json.
    """
    data = json.loads(read_text(path, limit=DATA_LIMIT))
    refuse_setup_error(data, path)
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or data.get("schema_version") != SCHEMA_VERSION:
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
        shape=_shape(data.get("run")),
        baseline=_baseline(data.get("baseline")),
    )
