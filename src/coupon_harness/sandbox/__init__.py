"""A stateful sandbox of Capillary's POST /v2/coupon/bulk/issue, faithful to the contract.

For demos, rehearsals and the harness's own tests. Depends on `coupon_harness.contract` only.

What it answers
  POST /v2/coupon/bulk/issue    401 without valid credentials (checked before the body); 400 (code 756)
                                for a body that is not JSON or not the request schema, or more than
                                `max_batch` seriesIds; else 200 with one entity per series id, in order
                                (a refused series: 707 unknown, 712 expired, 714 total reached, 5002
                                per-customer limit, 722 no code left).
  other methods on that path    405 with Allow: POST.
  POST /v3/oauth/token/generate {"key", "secret"} -> {"data": {"accessToken", "ttlSeconds"}, "errors": null}
  GET /sandbox/info             the series to expect and the demo user (info.py), without credentials.

Hooks for deliberately broken variants (tests of the harness itself)::

    def reverse(answer: Answer) -> Answer:           # runs on every answer of the bulk-issue path
        if answer.status == 200:
            answer.body["response"].reverse()         # body: JSON value, or bytes sent verbatim
        return answer                                 # status and headers may be rewritten too

    async def hang(request: web.Request) -> web.StreamResponse | None:
        await asyncio.sleep(60)                       # runs before dispatch; a response returned
        return None                                   # here is sent as is, None carries on

    create_app(config, mutate=reverse, before=hang)   # or running_sandbox(config, mutate=..., before=...)
"""

from coupon_harness.sandbox.app import Answer, Before, Mutate, create_app
from coupon_harness.sandbox.config import (
    Faults,
    SandboxConfig,
    SandboxConfigError,
    SeriesConfig,
    Variations,
    default_config,
)
from coupon_harness.sandbox.config_file import load_config
from coupon_harness.sandbox.server import RunningSandbox, running_sandbox, serve

__all__ = ["Answer", "Before", "Faults", "Mutate", "RunningSandbox", "SandboxConfig", "SandboxConfigError",
           "SeriesConfig", "Variations", "create_app", "default_config", "load_config", "running_sandbox", "serve"]
