#!/usr/bin/env python3
"""One side of the generator-throughput benchmark (scripts/bench_load.py runs it, pinned to one core).

    python scripts/bench_load_generator.py --side plain|catch|checked --host http://127.0.0.1:PORT \
        [--users 32] [--seconds 10] [--warmup 2] [--profile FILE]

Locust in library mode, users sending as fast as answers come back. `plain`: a bare FastHttpUser that
POSTs a 2-series bulk-issue body and looks at nothing. `checked`: the harness's BulkIssueUser wired by
`plugin.install` (schema + invariants through ResponseChecker, HDR recording, the coupon ledger of
Aggregate merged once a second, the CPU watch). Requests are counted over `--seconds` after `--warmup`
(users spawned and connections open); prints one line `GENERATOR {json}`. `catch`: the plain user
through Locust's catch_response, an ablation (not part of bench_load's verdict).

The only change to the checked side: its batch is sorted, so that it matches the static answer's entity
order (the target cannot echo the request); the sampling itself still runs.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import cProfile  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import orjson  # noqa: E402
from locust import constant, task  # noqa: E402
from locust.contrib.fasthttp import FastHttpUser  # noqa: E402
from locust.env import Environment  # noqa: E402

from coupon_harness import ENDPOINT  # noqa: E402
from coupon_harness.runners.load.plugin import LoadState, install  # noqa: E402
from coupon_harness.runners.load.settings import LoadSettings  # noqa: E402
from coupon_harness.runners.load.user import BulkIssueUser  # noqa: E402
from coupon_harness.transport.auth import Credentials  # noqa: E402

SERIES = (101, 102)
USER, PASSWORD = "sandbox", "sandbox"
_plain_numbers = itertools.count()


class _BareUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    headers: dict[str, str] = {"Authorization": Credentials(user=USER, password=PASSWORD).basic_header() or ""}

    def on_start(self) -> None:
        self._prefix = f"plain-{next(_plain_numbers)}"
        self._customers = itertools.count()

    def body(self) -> bytes:
        return orjson.dumps({"seriesIds": list(SERIES), "customer": {"id": f"{self._prefix}-{next(self._customers)}"}})


class PlainUser(_BareUser):
    """What one would write without the harness: post, count, nothing checked."""

    abstract = False

    @task
    def issue(self) -> None:
        self.client.post(ENDPOINT, data=self.body(), headers=self.headers, name="bulk-issue")


class CatchUser(_BareUser):
    """PlainUser through Locust's catch_response (what the checked side uses to mark failures): an ablation."""

    abstract = False

    @task
    def issue(self) -> None:
        with self.client.post(ENDPOINT, data=self.body(), headers=self.headers, name="bulk-issue",
                              catch_response=True) as response:
            response.success()


class CheckedUser(BulkIssueUser):
    """BulkIssueUser, batch in the static answer's order."""

    abstract = False

    def _batch(self) -> list[int]:
        return sorted(super()._batch())


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(side: str, host: str, users: int, seconds: float, warmup: float,
            profile: str | None) -> dict[str, Any]:
    state: LoadState | None = None
    if side in ("plain", "catch"):
        env = Environment(user_classes=[PlainUser if side == "plain" else CatchUser], host=host)
    else:
        env = Environment(user_classes=[CheckedUser], host=host)
        settings = LoadSettings(base_url=host, series_ids=SERIES, batch_min=2, batch_max=2,
                                credentials=Credentials(user=USER, password=PASSWORD), users=users, spawn_rate=users,
                                run_time_s=seconds)
        state = install(env, settings, "local", None)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(warmup)
    profiler = cProfile.Profile() if profile else None
    n0, c0, t0 = env.stats.total.num_requests, cpu_seconds(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    gevent.sleep(seconds)
    if profiler is not None:
        profiler.disable()
    n1, c1, t1 = env.stats.total.num_requests, cpu_seconds(), time.perf_counter()
    runner.quit()
    if profiler is not None and profile:
        profiler.dump_stats(profile)
    requests = n1 - n0
    figures: dict[str, Any] = {
        "side": side, "users": users, "seconds": round(t1 - t0, 3), "requests": requests,
        "rps": requests / (t1 - t0), "cpu_share": (c1 - c0) / (t1 - t0),
        "cpu_us_per_request": (c1 - c0) / requests * 1e6 if requests else None,
        "failures": env.stats.total.num_failures,
        "failure_kinds": sorted({str(e.error) for e in env.stats.errors.values()}),
    }
    if state is not None and state.aggregate is not None:
        state.flush()
        aggregate = state.aggregate
        figures.update(checked_requests=aggregate.requests, violations=dict(aggregate.violations),
                       coupons=aggregate.coupons_issued, duplicates=aggregate.duplicates)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--side", choices=("plain", "catch", "checked"), required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--profile", help="write a cProfile of the measured window to this file")
    args = parser.parse_args(argv)
    figures = measure(args.side, args.host, args.users, args.seconds, args.warmup, args.profile)
    print("GENERATOR " + json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
