"""What a coupon-harness sandbox says about itself (GET /sandbox/info): its series and its demo user, asked
when a command is given no series or no credentials. No gevent here."""

from __future__ import annotations

from typing import Any

import orjson

from coupon_harness.transport.outbound import OutboundPolicy, setup_request

__all__ = ["DISCOVERY_FIX", "INFO_PATH", "sandbox_description"]

#: How to do without the discovery, when the target's answer to it is refused (a redirect).
DISCOVERY_FIX = ("give the series and credentials (--series-ids, --user ...), so that the target is not asked, or "
                 "the URL of the host that serves the API")

#: The sandbox's route (the same path as coupon_harness.sandbox.info.INFO_PATH; a test holds them equal).
INFO_PATH = "/sandbox/info"


def sandbox_description(base_url: str, policy: OutboundPolicy) -> dict[str, Any] | None:
    """The description a coupon-harness sandbox gives, or None; a redirect is `RedirectRefused` (exit 2)."""
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

