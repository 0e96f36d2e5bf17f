"""What a coupon-harness sandbox says about itself: its series and its demo user, for plain Locust.

A sandbox answers GET /sandbox/info with `{"sandbox": "coupon-harness", "validSeries": [...], ...}`
(coupon_harness/sandbox/info.py writes it); any other target answers something else and is left alone.
The locustfile asks it when it was given no series or no credentials, as `coupon-harness load` does.
No gevent here: the module also works outside a load process.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

__all__ = ["INFO_PATH", "SandboxInfo", "ask_sandbox"]

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


def ask_sandbox(base_url: str, timeout: float = 3.0) -> SandboxInfo | None:
    """The sandbox's own description, or None when `base_url` is not a coupon-harness sandbox (or is down)."""
    try:
        answer = requests.get(base_url.rstrip("/") + INFO_PATH, timeout=timeout, allow_redirects=False)
        info = answer.json() if answer.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None
    if not isinstance(info, dict) or info.get("sandbox") != "coupon-harness":
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
