"""What a coupon-harness sandbox says about itself: its series and its demo user.

A sandbox answers GET /sandbox/info with `{"sandbox": "coupon-harness", "validSeries": [...], ...}`
(coupon_harness/sandbox/info.py writes it); any other target answers something else and is left alone.
Every command and the locustfile ask it when given no series or no credentials, and read its description into
their settings (`cli/sandbox_target.py`). No gevent here: the module also works outside a load process.
"""

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

