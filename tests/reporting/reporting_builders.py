"""Builders of hand-made contract run results over the real rule catalog (a uniquely named module:
test modules import it, where importing `conftest` could pick another folder's)."""

from __future__ import annotations

from coupon_harness.contract.catalog import get_rule, rules
from coupon_harness.results.contract import ContractRunResult, Finding, HarnessFault, Outcome, RequestSample, RuleResult

URL = "http://127.0.0.1:8080/v2/coupon/bulk/issue"
NOT_RUN_REASON = "needs --series-ids (the target's valid series)"
INVALID_REASON = "needs --invalid-series-ids | none given"
PROBE = "type confusion: numeric string in seriesIds[0]"
FAULT_ERROR = "TypeError: Integer exceeds 64-bit range"
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/app/coupon_harness/runners/contract/runner.py", line 72, in run_contract\n'
    "    _run_pass(name, settings, client, headers, progress)\n"
    '  File "/app/coupon_harness/runners/contract/scenarios.py", line 40, in run_scenarios\n'
    "    body = dump_json(payload)\n"
    "TypeError: Integer exceeds 64-bit range\n"
)


def request(body: str = '{"seriesIds":[101,102],"customer":{"id":"c-1"}}') -> RequestSample:
    headers = (("Content-Type", "application/json"), ("Authorization", "Basic <redacted>"))
    return RequestSample(method="POST", url=URL, headers=headers, body=body)


def finding(rule_id: str, key: str, expected: str, received: str, *, seed: int | None = 7,
            occurrences: int = 1, source: str = "property/positive", status: int | None = 200,
            with_request: bool = True, probe: str | None = None, body: str | None = None) -> Finding:
    sent = (request(body) if body is not None else request()) if with_request else None
    return Finding(rule_id=rule_id, key=key, expected=expected, received=received, request=sent,
                   response_status=status,
                   response_excerpt='{"response":[{"entityId":102}]}', source=source, seed=seed,
                   occurrences=occurrences, probe=probe)


def fault(stage: str = "scenarios", error: str = FAULT_ERROR, traceback: str = TRACEBACK) -> HarnessFault:
    return HarnessFault(stage=stage, error=error, traceback=traceback)


def build(overrides: dict[str, RuleResult] | None = None, *, interrupted: bool = False) -> ContractRunResult:
    """Every catalog rule passed, except those in `overrides`."""
    overrides = overrides or {}
    results = [overrides.get(rule.id) or RuleResult(rule=rule, outcome=Outcome.PASSED, checks=40)
               for rule in rules()]
    return ContractRunResult(
        target="http://127.0.0.1:8080", started_at="2026-11-26T07:18:36+00:00", duration_s=12.345,
        seed=7, requests=812, rules=results, interrupted=interrupted,
        passes=[("property/positive", 500), ("property/negative", 312)],
        notes=["auth pass skipped: no credentials given"], concurrency_peak=1,
    )


def faulted() -> ContractRunResult:
    """The failed run, plus a probe-labelled finding, a harness fault in 'scenarios', the first finding's time and
    --workers 8 (the key figures show it)."""
    overrides = failed_overrides()
    overrides["rejects-malformed"] = RuleResult(get_rule("rejects-malformed"), Outcome.FAILED, 60, [
        finding("rejects-malformed", "200", "400 Bad Request", "200 OK", source="malformed", probe=PROBE,
                body='{"seriesIds":["101"],"customer":{"id":"c-1"}}'),
    ])
    result = build(overrides)
    result.faults = [fault()]
    result.first_finding_s = 0.412
    result.first_finding_source = "property/negative"
    result.workers, result.concurrency_peak = 8, 8
    return result


def failed_overrides() -> dict[str, RuleResult]:
    """Two failed rules (one critical), one warned, four not run."""
    return {
        "no-server-error": RuleResult(get_rule("no-server-error"), Outcome.FAILED, 812, [
            finding("no-server-error", "500", "a status below 500", "500 Internal Server Error",
                    occurrences=3, source="property/negative", seed=11),
        ]),
        "entity-order": RuleResult(get_rule("entity-order"), Outcome.FAILED, 500, [
            finding("entity-order", "order", "entityId 101 at position 0", "entityId 102"),
            finding("entity-order", "order-tail", "entityId 102 at position 1", "entityId 101",
                    seed=None, with_request=False, source="scenario/mixed-batch"),
        ]),
        "error-body": RuleResult(get_rule("error-body"), Outcome.WARNED, 30, [
            finding("error-body", "html", "empty, JSON or XML", "<html><body>Bad Request</body></html>",
                    status=400, source="property/negative"),
        ]),
        "valid-series-issues": RuleResult(get_rule("valid-series-issues"), Outcome.NOT_RUN, 0,
                                          reason=NOT_RUN_REASON),
        "invalid-series-refused": RuleResult(get_rule("invalid-series-refused"), Outcome.NOT_RUN, 0,
                                             reason=INVALID_REASON),
        "unique-codes": RuleResult(get_rule("unique-codes"), Outcome.NOT_RUN, 0, reason=NOT_RUN_REASON),
        "series-attributes-stable": RuleResult(get_rule("series-attributes-stable"), Outcome.NOT_RUN, 0,
                                               reason=NOT_RUN_REASON),
    }
