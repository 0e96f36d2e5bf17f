"""Recognises a coupon-harness sandbox as the target, so that `contract` knows its series and users.

The sandbox answers GET /sandbox/info with its catalog; a real target answers 404 (or anything else)
and is left alone. Only asked when the user gave neither series nor credentials.
"""

from __future__ import annotations

from dataclasses import replace

from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.runners.load.discovery import sandbox_description
from coupon_harness.transport.auth import Credentials
from coupon_harness.transport.outbound import OutboundPolicy

__all__ = ["discover_sandbox", "sandbox_settings"]


def sandbox_settings(settings: ContractSettings, info: dict[str, object]) -> ContractSettings:
    def ids(key: str) -> frozenset[int]:  # integers only: a target that says otherwise is not read as one
        value = info.get(key)
        return frozenset(v for v in value if type(v) is int) if isinstance(value, list) else frozenset()

    credentials = settings.credentials
    if not credentials.any:
        user, password = info.get("defaultUser"), info.get("defaultPassword")
        if isinstance(user, str) and isinstance(password, str):
            credentials = Credentials(user=user, password=password, extra=credentials.extra,
                                      headers=credentials.headers, tls=credentials.tls)
    expectations = settings.expectations
    if not expectations.valid_series and not expectations.invalid_series:
        expectations = replace(expectations, valid_series=ids("validSeries"), invalid_series=ids("invalidSeries"),
                               generic_series=ids("genericSeries") | expectations.generic_series)
    return replace(settings, credentials=credentials, expectations=expectations)


def discover_sandbox(settings: ContractSettings) -> ContractSettings:
    known = settings.expectations
    if settings.credentials.any and (known.valid_series or known.invalid_series):
        return settings
    # Under the outbound policy: what another host (a redirect) says about series and credentials is never adopted.
    policy = OutboundPolicy(timeout=min(settings.request_timeout, 3.0), allow_production=settings.allow_production,
                            headers=settings.credentials.headers, tls=settings.credentials.tls)
    info = sandbox_description(settings.base_url, policy)
    return settings if info is None else sandbox_settings(settings, info)
