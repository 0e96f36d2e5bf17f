"""One test per rule of contracts/rules.yaml; a rule the run could not check is skipped with the reason.
A bug in the harness itself (a pass that stopped on an exception) fails its own test, never silently."""

from __future__ import annotations

import pytest

from coupon_harness.contract import rules
from coupon_harness.results import ContractRunResult, Outcome


@pytest.mark.parametrize("rule_id", [rule.id for rule in rules()])
def test_rule(contract_result: ContractRunResult, rule_id: str) -> None:
    result = next(r for r in contract_result.rules if r.rule.id == rule_id)
    if result.outcome is Outcome.NOT_RUN:
        pytest.skip(result.reason or "not run")
    if result.outcome is Outcome.FAILED:
        lines = [f"{result.rule.title}: {len(result.findings)} distinct violation(s), seed {contract_result.seed}"]
        for finding in result.findings:
            probe = f"[{finding.probe}] " if finding.probe else ""
            lines.append(f"- {probe}expected {finding.expected}; received {finding.received} ({finding.source}, "
                         f"{finding.occurrences}x)")
            if finding.request is not None:
                lines.append(f"  {finding.request.curl}")
        pytest.fail("\n".join(lines), pytrace=False)


def test_harness_ran_every_pass_without_a_bug(contract_result: ContractRunResult) -> None:
    if contract_result.faults:
        pytest.fail("\n".join(f"harness error in pass {fault.stage!r} (seed {contract_result.seed}): {fault.error}\n"
                              f"{fault.traceback}" for fault in contract_result.faults), pytrace=False)
