"""A sandbox in a process of its own for the soak self-test: many series (so one request carries a large batch),
its memory measurable apart from the load process's, and optionally one planted duplicate.

`python tests/load/soak_target.py --series N [--plant-after K]` serves a sandbox on 127.0.0.1 (a free port) whose
catalog is N plain series (ids 1001..1000+N, fixed attributes, fresh 10-character codes, no limits). With
--plant-after K it answers, once, after at least K coupons were answered, the first coupon of a series with the
code that series first answered (to another customer: the load runner gives every request a customer of its
own). It prints `ready <base URL>` once listening, and when its stdin closes one JSON line: the coupons the
sandbox issued and answered (counted by the hook, so only with --plant-after; else the issued count), and what
was planted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.config import SandboxConfig, SeriesConfig

__all__ = ["FIRST_SERIES", "Plant", "series_ids", "soak_config"]

FIRST_SERIES = 1001


def series_ids(count: int) -> tuple[int, ...]:
    return tuple(range(FIRST_SERIES, FIRST_SERIES + count))


def soak_config(count: int) -> SandboxConfig:
    """`count` series that issue a fresh code to every customer, and the batch cap above them."""
    far_future = datetime(2099, 12, 31, tzinfo=UTC)
    series = tuple(SeriesConfig(series_id, f"Soak series {series_id}", f"SOAK{series_id}", "ABS", 100, 0,
                                detailed_info="100 off", valid_till=far_future)
                   for series_id in series_ids(count))
    return SandboxConfig(series=series, max_batch=max(count, 1))


class Plant:
    """A sandbox `mutate` hook: counts the coupons answered; with `after`, re-answers one earlier code once."""

    def __init__(self, after: int | None) -> None:
        self.after = after
        self.answered = 0
        self.donors: dict[int, tuple[str, str]] = {}  # series -> (its first code, the customer it went to)
        self.planted: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def __call__(self, answer: Answer) -> Answer:
        if answer.status != 200 or not isinstance(answer.body, dict):
            return answer
        request = answer.request_json if isinstance(answer.request_json, dict) else {}
        customer = str((request.get("customer") or {}).get("id"))
        with self._lock:
            for entity in answer.body.get("response") or []:
                result = entity.get("result") if isinstance(entity, dict) else None
                if not isinstance(result, dict) or not isinstance(result.get("code"), str):
                    continue
                series = result.get("seriesId")
                if not isinstance(series, int):
                    continue
                donor = self.donors.get(series)
                if donor is None:
                    self.donors[series] = (result["code"], customer)
                elif (self.after is not None and self.planted is None and self.answered >= self.after
                      and donor[1] != customer):
                    self.planted = {"series": series, "code": donor[0], "first_customer": donor[1],
                                    "second_customer": customer, "replaced": result["code"],
                                    "after": self.answered}
                    result["code"] = donor[0]
                self.answered += 1
        return answer


def _serve(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="soak_target.py")
    parser.add_argument("--series", type=int, required=True)
    parser.add_argument("--plant-after", type=int)
    args = parser.parse_args(argv)
    from coupon_harness.sandbox.server import running_sandbox

    with contextlib.suppress(ImportError):  # uvloop, as `coupon-harness serve` runs: ~10% more requests a core
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    # The hook costs a walk of every answer: only where a code is planted.
    plant = Plant(args.plant_after) if args.plant_after is not None else None
    with running_sandbox(soak_config(args.series), mutate=plant) as sandbox:
        print(f"ready {sandbox.base_url}", flush=True)
        sys.stdin.read()  # until the test closes our stdin
        issued = sum(sandbox.issuer.coupons_issued(series) for series in series_ids(args.series))
        tally = {"issued": issued, "answered": plant.answered if plant else issued,
                 "planted": plant.planted if plant else None}
        print(json.dumps(tally), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(_serve(sys.argv[1:]))
