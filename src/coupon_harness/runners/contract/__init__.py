"""The contract runner: property tests, business scenarios and probes, judged by one set of rules."""

from coupon_harness.runners.contract.runner import PASSES, run_contract
from coupon_harness.runners.contract.settings import ContractSettings

__all__ = ["PASSES", "ContractSettings", "run_contract"]
