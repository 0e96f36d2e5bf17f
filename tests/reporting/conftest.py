"""Fixtures: hand-built contract run results (passed, failed, warned, interrupted, faulted)."""

from __future__ import annotations

import pytest
from tests.reporting.reporting_builders import build, failed_overrides, faulted

from coupon_harness.results.contract import ContractRunResult


@pytest.fixture
def passed_result() -> ContractRunResult:
    return build()


@pytest.fixture
def failed_result() -> ContractRunResult:
    return build(failed_overrides())


@pytest.fixture
def warned_result() -> ContractRunResult:
    """Holds, with one warning."""
    return build({"error-body": failed_overrides()["error-body"]})


@pytest.fixture
def interrupted_result() -> ContractRunResult:
    return build(failed_overrides(), interrupted=True)


@pytest.fixture
def make_one_failed() -> ContractRunResult:
    return build({"entity-order": failed_overrides()["entity-order"]})


@pytest.fixture
def faulted_result() -> ContractRunResult:
    """Failed, with a probe-labelled finding, a harness fault in pass 'scenarios' and the first finding's time."""
    return faulted()
