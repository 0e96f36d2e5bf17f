"""`pytest tests/contract`: this checkout's contract suite, through the package's pytest plugin
(`coupon_harness.cli.pytest_plugin`, registered by the `pytest11` entry point of the installed package;
this file registers nothing, so it is never registered twice).

The target and its options come from `--harness-*` options, `COUPON_HARNESS_*` variables or a config file,
as for `coupon-harness contract`:

    pytest tests/contract --harness-base-url https://staging.example.com --harness-user till:pw \
        --harness-series-ids 101,102 --harness-invalid-series-ids 999

A Capillary production host is refused before any request unless --harness-allow-production is given.
Without a target, unlike the plugin elsewhere, this suite starts an in-process sandbox and tests it.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("coupon_harness"):
        raise pytest.UsageError("the coupon-harness pytest plugin is not registered: reinstall the package "
                                "(pip install -e '.[dev]') so that its pytest11 entry point is known")


@pytest.fixture(scope="session")
def harness_sandbox_fallback() -> bool:
    return True
