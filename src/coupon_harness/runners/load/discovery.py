"""What a coupon-harness sandbox says about itself: its series and its demo user, for plain Locust.

A sandbox answers GET /sandbox/info with `{"sandbox": "coupon-harness", "validSeries": [...], ...}`
(coupon_harness/sandbox/info.py writes it); any other target answers something else and is left alone.
The locustfile asks it when it was given no series or no credentials, as `coupon-harness load` does.
No gevent here: the module also works outside a load process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from coupon_harness.transport.outbound import OutboundPolicy, setup_request

__all__ = ["DISCOVERY_FIX", "INFO_PATH", "SandboxInfo", "ask_sandbox", "sandbox_description"]

#: How to do without the discovery, when the target's answer to it is refused (a redirect).
DISCOVERY_FIX = ("give the series and credentials (--series-ids, --user ...), so that the target is not asked, or "
                 "the URL of the host that serves the API")

#: The sandbox's route (the same path as coupon_harness.sandbox.info.INFO_PATH; a test holds them equal).
INFO_PATH = "/sandbox/info"


@dataclass(frozen=True, slots=True)
class SandboxInfo:
    valid_series: tuple[int, ...]
    invalid_series: tuple[int, ...]
    generic_series: tuple[int, ...]
    #: The sandbox's demo user (public constants of the sandbox, not secrets); None when it names none.
    user: str | None
    password: str | None


def sandbox_description(base_url: str, policy: OutboundPolicy) -> dict[str, Any] | None:
    """GET /sandbox/info under the outbound policy: the description a coupon-harness sandbox gives, or None for
    any other answer (a real target: 404, or nothing). A redirect is `RedirectRefused` (exit 2, naming the URL
    and where it pointed): what the other host would say (its series, its credentials) is never asked."""
    answer = setup_request("GET", base_url.rstrip("/") + INFO_PATH, policy,
                           what="the sandbox discovery (GET /sandbox/info) at", fix=DISCOVERY_FIX)
    if answer.error is not None or answer.status != 200:
        return None
    try:
        info = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(info, dict) or info.get("sandbox") != "coupon-harness":
        return None
    return info


def ask_sandbox(base_url: str, timeout: float = 3.0, *, allow_production: bool = False,
                url_flag: str = "--host") -> SandboxInfo | None:
    """The sandbox's own description, or None when `base_url` is not a coupon-harness sandbox (or is down).
    RedirectRefused when the target answers with a redirect."""
    info = sandbox_description(base_url, OutboundPolicy(timeout=timeout, allow_production=allow_production,
                                                        url_flag=url_flag))
    if info is None:
        return None

    def ids(key: str) -> tuple[int, ...]:
        value = info.get(key)
        if not isinstance(value, list):
            return ()
        return tuple(sorted({int(v) for v in value if isinstance(v, int) and not isinstance(v, bool)}))

    user, password = info.get("defaultUser"), info.get("defaultPassword")
    if not (isinstance(user, str) and isinstance(password, str)):
        user = password = None
    return SandboxInfo(ids("validSeries"), ids("invalidSeries"), ids("genericSeries"), user, password)
