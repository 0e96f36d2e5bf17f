"""`pytest tests/contract`: the contract suite as plain pytest tests, one test per rule.

The target comes from options or the environment (the same COUPON_HARNESS_* variables as the CLI):

    pytest tests/contract --harness-base-url https://staging.example.com --harness-user till:pw \
        --harness-series-ids 101,102 --harness-invalid-series-ids 999

A Capillary production host is refused before any request unless --harness-allow-production is given (the
CLI's --allow-production). Without a target, a sandbox is started in-process and tested.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from coupon_harness.config import TargetConfig, from_env, load_target, merge, parse_int_list, parse_user
from coupon_harness.errors import ConfigError
from coupon_harness.results import ContractRunResult
from coupon_harness.safety import refuse_production

OPTIONS = ("base-url", "user", "token", "oauth-key", "oauth-secret", "series-ids", "invalid-series-ids",
           "customer-ids", "max-examples", "seed", "config", "target")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("coupon-harness", "coupon-harness contract target")
    for name in OPTIONS:
        group.addoption(f"--harness-{name}", dest=f"harness_{name.replace('-', '_')}", default=None)
    group.addoption("--harness-md5-password", dest="harness_md5_password", action="store_true", default=None)
    group.addoption("--harness-allow-production", dest="harness_allow_production", action="store_true",
                    default=False, help="allow a run against a Capillary production host (issues real coupons)")


def _target(config: pytest.Config) -> TargetConfig:
    opt = lambda name: config.getoption(f"harness_{name}")  # noqa: E731
    layers = []
    if opt("config"):
        layers.append(load_target(Path(opt("config")), opt("target")))
    layers.append(from_env())
    flags: dict[str, object] = {}
    if opt("base_url"):
        flags["base_url"] = opt("base_url")
    if opt("user"):
        flags["user"], flags["password"] = parse_user(opt("user"))
    for name in ("token", "oauth_key", "oauth_secret", "md5_password"):
        if opt(name) is not None:
            flags[name] = opt(name)
    for name in ("series_ids", "invalid_series_ids"):
        if opt(name):
            flags[name] = parse_int_list(opt(name), name)
    if opt("customer_ids"):
        flags["customer_ids"] = tuple(opt("customer_ids").split(","))
    for name in ("max_examples", "seed"):
        if opt(name):
            flags[name] = int(opt(name))
    layers.append(TargetConfig(**flags))  # type: ignore[arg-type]
    return merge(*layers)


@pytest.fixture(scope="session")
def contract_result(pytestconfig: pytest.Config) -> Iterator[ContractRunResult]:
    """One contract run per session, shared by the per-rule tests."""
    from coupon_harness.cli.options import settings_from_args
    from coupon_harness.cli.sandbox_target import discover_sandbox, sandbox_settings
    from coupon_harness.runners.contract import run_contract

    target = _target(pytestconfig)
    allow_production = bool(pytestconfig.getoption("harness_allow_production"))
    if target.base_url is not None:
        # Before any request (the sandbox discovery included): one line, exit 2, as the CLI.
        try:
            refuse_production(target.base_url, allow=allow_production, url_flag="--harness-base-url",
                              allow_flag="--harness-allow-production")
        except ConfigError as exc:
            pytest.exit(f"coupon-harness: {exc}", returncode=2)
    if target.seed is None:
        target = merge(target, TargetConfig(seed=int(os.environ.get("COUPON_HARNESS_SEED", "1"))))
    if target.base_url is None:
        from coupon_harness.sandbox.info import sandbox_info
        from coupon_harness.sandbox.server import running_sandbox

        with running_sandbox() as sandbox:
            target = merge(target, TargetConfig(base_url=sandbox.base_url))
            yield run_contract(sandbox_settings(settings_from_args(target), sandbox_info(sandbox.config)))
        return
    settings = replace(settings_from_args(target), allow_production=allow_production)
    yield run_contract(discover_sandbox(settings))
