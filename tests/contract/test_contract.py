"""One test per rule of contracts/rules.yaml; a rule the run could not check is skipped with the reason.
A bug in the harness itself (a pass that stopped on an exception) fails its own test, never silently.
The run and the judging are the pytest plugin's (`coupon_harness.cli.pytest_plugin`)."""

from __future__ import annotations

import pytest

from coupon_harness.cli.pytest_plugin import check_faults, check_rule, rule_ids
from coupon_harness.results.contract import ContractRunResult


@pytest.mark.parametrize("rule_id", rule_ids())
def test_rule(harness_contract_result: ContractRunResult, rule_id: str) -> None:
    check_rule(harness_contract_result, rule_id)


def test_harness_ran_every_pass_without_a_bug(harness_contract_result: ContractRunResult) -> None:
    check_faults(harness_contract_result)
