"""The contract runner: property tests, business scenarios and probes, judged by one set of rules.

Its names load on first use (PEP 562): every command's settings import `runners.contract.settings`, which must not
bring Schemathesis and Hypothesis (~0.3 CPU-s) to `load`, `capacity`, `serve` and plain Locust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coupon_harness.runners.contract.runner import PASSES, run_contract
    from coupon_harness.runners.contract.settings import ContractSettings

__all__ = ["PASSES", "ContractSettings", "run_contract"]


def __getattr__(name: str) -> Any:
    if name in ("PASSES", "run_contract"):
        from coupon_harness.runners.contract import runner

        return getattr(runner, name)
    if name == "ContractSettings":
        from coupon_harness.runners.contract.settings import ContractSettings

        return ContractSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
