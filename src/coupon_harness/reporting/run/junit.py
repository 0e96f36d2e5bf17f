"""`run`'s junit.xml: the contract stage's suite and the load stage's suite in one document, so a CI job that
runs `coupon-harness run` uploads one file. Each suite is the one its stage writes into its own folder."""

from __future__ import annotations

from coupon_harness.reporting.contract.junit import contract_suite
from coupon_harness.reporting.junit_xml import document
from coupon_harness.reporting.load.junit import load_suite
from coupon_harness.reporting.setup_error import setup_suite
from coupon_harness.results.contract import ContractRunResult
from coupon_harness.results.load import LoadRunResult
from coupon_harness.results.setup import SetupFailure

__all__ = ["RUN_NAME", "render_run_junit"]

RUN_NAME = "coupon-harness run"


def render_run_junit(contract: ContractRunResult | None, load: LoadRunResult | None,
                     load_error: SetupFailure | None = None) -> str:
    """One <testsuites> document of the stages that ran (a load setup error is a suite with that error)."""
    suites = [*([contract_suite(contract)] if contract is not None else []),
              *([load_suite(load)] if load is not None else []),
              *([setup_suite(load_error)] if load_error is not None else [])]
    return document(RUN_NAME, suites)
