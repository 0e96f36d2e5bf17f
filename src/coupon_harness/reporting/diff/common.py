"""What every format of a differential report says the same way: the verdict, the replay command, the groups."""

from __future__ import annotations

import shlex

from coupon_harness.reporting.contract.common import credential_flags, shape_flags
from coupon_harness.reporting.text import plural
from coupon_harness.results.diff import DiffRunResult
from coupon_harness.results.request import RequestSample

__all__ = ["against_curl", "replay_command", "verdict"]


def against_curl(request: RequestSample) -> str:
    """The curl of a request to the second target: its credentials come from its own variables
    ($COUPON_HARNESS_AGAINST_USER, $COUPON_HARNESS_AGAINST_TOKEN), as `diff` reads them."""
    return (request.curl.replace("$COUPON_HARNESS_USER", "$COUPON_HARNESS_AGAINST_USER")
            .replace("$COUPON_HARNESS_TOKEN", "$COUPON_HARNESS_AGAINST_TOKEN"))


def verdict(result: DiffRunResult) -> str:
    """One line: what the run found, and how it ended."""
    if result.faults:
        head = f"harness error in {plural(len(result.faults), 'pass')}"
    elif result.no_answer is not None:
        head = result.no_answer + ("; " + plural(len(result.differences), 'difference') if result.differs else "")
    elif result.differs:
        head = f"{plural(len(result.differences), 'difference')} between the targets"
    else:
        head = "no difference between the targets"
    tail = f" over {plural(result.cases, 'case')}"
    if result.interrupted:
        tail += " (interrupted: partial)"
    elif result.stopped:
        tail += f" (stopped early: {result.stopped})"
    return head + tail


def replay_command(result: DiffRunResult) -> str:
    """The command that sends the same cases again: both targets, every flag that shaped the run and the seed;
    credentials as `${COUPON_HARNESS_*}` references (COUPON_HARNESS_AGAINST_USER and its kin for --against-url)."""
    parts = ["coupon-harness", "diff", "--base-url", shlex.quote(result.base_target), "--against-url",
             shlex.quote(result.against_target)]
    if result.shape is not None:
        parts += shape_flags(result.shape)
    parts += credential_flags(result.against_credentials, "against-")
    if result.series_map:
        parts += ["--series-map", shlex.quote(",".join(f"{a}={b}" for a, b in result.series_map.items()))]
    if result.customer_map:
        parts += ["--customer-map", shlex.quote(",".join(f"{a}={b}" for a, b in result.customer_map.items()))]
    if result.max_coupons is not None:
        parts += ["--max-coupons", str(result.max_coupons)]
    return " ".join([*parts, "--seed", str(result.seed)])
