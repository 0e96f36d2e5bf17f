"""GET /sandbox/info: a sandbox's series and demo user (public, documented constants), so that the harness
tests a running `coupon-harness serve` with no other flag."""

from __future__ import annotations

from typing import Any

from coupon_harness.sandbox.config import SandboxConfig

__all__ = ["INFO_PATH", "sandbox_info"]

INFO_PATH = "/sandbox/info"


def sandbox_info(config: SandboxConfig) -> dict[str, Any]:
    user, password = next(iter(config.users.items()), (None, None))
    return {
        "sandbox": "coupon-harness",
        "validSeries": sorted(config.valid_series),
        "invalidSeries": sorted(config.invalid_series),
        "genericSeries": sorted(config.generic_series),
        "defaultUser": user,
        "defaultPassword": password,
    }
