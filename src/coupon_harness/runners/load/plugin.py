"""Wires a Locust Environment for a checked load run: recorder, aggregate, auth, CPU watch, stop rules.

Used by the harness's own load process and by `locustfiles/bulk_issue.py` under plain `locust`.
Roles: "local" (one process records and aggregates), "master" (aggregates the workers' deltas,
decides the exit code), "worker" (records, ships deltas through report_to_master).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gevent
import psutil

from coupon_harness.contract.expectations import Expectations
from coupon_harness.runners.load.checker import Outcome, ResponseChecker
from coupon_harness.runners.load.recorder import Aggregate, Recorder
from coupon_harness.runners.load.settings import LoadSettings
from coupon_harness.runners.load.user import BulkIssueUser
from coupon_harness.safety import coupon_cap, refuse_production
from coupon_harness.transport.auth import Credentials, TokenSource, auth_headers

__all__ = ["DELTA_KEY", "LoadState", "install"]

DELTA_KEY = "coupon_harness"
SATURATED_CPU = 90.0


@dataclass
class LoadState:
    settings: LoadSettings
    role: str
    checker: ResponseChecker
    recorder: Recorder
    aggregate: Aggregate | None
    valid: list[int]
    invalid: list[int]
    batch_min: int
    batch_max: int
    arrival_interval: float
    credentials: Credentials
    tokens: TokenSource | None
    coupon_cap: int | None
    #: Batches drawn once at start (sizes, series, invalid share as configured), cycled by the users:
    #: drawing them per request costs the generator a few microseconds it should spend sending.
    batches: list[list[int]] = field(default_factory=list)
    static_headers: dict[str, str] | None = None
    coupons_here: int = 0
    stopping: bool = False
    stopped_reason: str | None = None
    cpu_samples: list[float] = field(default_factory=list)
    environment: Any = None

    def headers(self) -> dict[str, str]:
        if self.static_headers is not None:
            return self.static_headers
        return auth_headers(self.credentials, self.tokens)

    def record(self, outcome: Outcome, latency_s: float, customer: str, at: float) -> None:
        self.recorder.record(outcome, latency_s, customer, at)
        if self.coupon_cap is not None and outcome.tally is not None and outcome.tally.coupons:
            self.coupons_here += len(outcome.tally.coupons)
            if self.coupons_here >= self.coupon_cap and not self.stopping:
                self.stop(f"--max-coupons reached ({self.settings.max_coupons})")

    def flush(self) -> None:
        """Local role: move the recorder's delta into the aggregate."""
        if self.aggregate is not None:
            self.aggregate.merge(self.recorder.take_delta())

    def stop(self, reason: str) -> None:
        self.stopping = True
        self.stopped_reason = self.stopped_reason or reason
        runner = self.environment.runner if self.environment is not None else None
        if runner is not None and self.role != "worker":
            gevent.spawn(runner.quit)


def install(environment: Any, settings: LoadSettings, role: str, coupons_csv: Path | None,
            expected_workers: int = 1) -> LoadState:
    """Raises ConfigError for a production host without allow_production: every load way in comes here."""
    refuse_production(settings.base_url, allow=settings.allow_production)
    settings = replace(settings, max_coupons=coupon_cap(settings.base_url, settings.max_coupons))
    expectations = Expectations(valid_series=frozenset(settings.series_ids),
                                invalid_series=frozenset(settings.invalid_series_ids),
                                generic_series=frozenset(settings.generic_series_ids))
    credentials = Credentials(user=settings.user, password=settings.password, md5_password=settings.md5_password,
                              oauth_key=settings.oauth_key, oauth_secret=settings.oauth_secret, token=settings.token)
    tokens = None
    if credentials.oauth_key and not credentials.token and role != "master":
        tokens = TokenSource(settings.base_url, credentials.oauth_key, credentials.oauth_secret or "",
                             settings.request_timeout)
    valid = sorted(set(settings.series_ids))
    cap = settings.max_coupons
    if cap is not None and role == "worker":
        cap = math.ceil(cap / max(expected_workers, 1))
    interval = settings.timeline_interval()
    state = LoadState(
        settings=settings, role=role, checker=ResponseChecker(expectations), recorder=Recorder(interval),
        aggregate=Aggregate(interval, expectations.generic_series, coupons_csv) if role != "worker" else None,
        valid=valid, invalid=sorted(set(settings.invalid_series_ids)),
        batch_min=max(1, min(settings.batch_min, len(valid) or 1)),
        batch_max=max(1, min(settings.batch_max, len(valid) or 1)),
        arrival_interval=(settings.users / settings.arrival_rate) if settings.arrival_rate else 0.0,
        credentials=credentials, tokens=tokens, coupon_cap=cap, environment=environment,
    )
    state.batches = draw_batches(state, random.Random(settings.seed))
    if tokens is None:
        state.static_headers = auth_headers(credentials, None)
    BulkIssueUser.state = state
    BulkIssueUser.network_timeout = settings.request_timeout
    BulkIssueUser.connection_timeout = settings.request_timeout
    events = environment.events
    if role == "worker":
        def _ship(client_id: str, data: dict[str, Any]) -> None:
            delta = state.recorder.take_delta()
            delta["cpu"] = state.cpu_samples
            state.cpu_samples = []
            data[DELTA_KEY] = delta

        events.report_to_master.add_listener(_ship)
    elif role == "master":
        def _merge(client_id: str, data: dict[str, Any]) -> None:
            delta = data.get(DELTA_KEY)
            if delta is None or state.aggregate is None:
                return
            state.cpu_samples.extend(delta.pop("cpu", []))
            state.aggregate.merge(delta)
            if settings.max_coupons is not None and state.aggregate.coupons_issued >= settings.max_coupons:
                state.stop(f"--max-coupons reached ({settings.max_coupons})")

        events.worker_report.add_listener(_merge)
    if role != "master":
        gevent.spawn(_watch_cpu, state)
    if role == "local":
        gevent.spawn(_flush_every_second, state)
    return state


def draw_batches(state: LoadState, rng: random.Random, count: int = 4096) -> list[list[int]]:
    """Batch sizes uniform in batch_min..batch_max, distinct valid series, each slot swapped for an
    invalid series with probability invalid_share."""
    share = state.settings.invalid_share
    batches = []
    for _ in range(count):
        size = rng.randint(state.batch_min, state.batch_max)
        batch = rng.sample(state.valid, min(size, len(state.valid))) if state.valid else []
        if state.invalid and share > 0:
            batch = [rng.choice(state.invalid) if rng.random() < share else s for s in batch]
        batches.append(batch or [rng.choice(state.invalid)])
    return batches


def _watch_cpu(state: LoadState) -> None:
    """Samples this process's CPU every second (Locust's own warning samples every 10 s, first at 0)."""
    process = psutil.Process()
    process.cpu_percent(None)
    while True:
        gevent.sleep(1.0)
        state.cpu_samples.append(process.cpu_percent(None))


def _flush_every_second(state: LoadState) -> None:
    while True:
        gevent.sleep(1.0)
        state.flush()
