"""One test per rule of contracts/rules.yaml; a rule the run could not check is skipped with the reason."""

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
            lines.append(f"- expected {finding.expected}; received {finding.received} ({finding.source}, "
                         f"{finding.occurrences}x)")
            if finding.request is not None:
                lines.append(f"  {finding.request.curl}")
        pytest.fail("\n".join(lines), pytrace=False)
