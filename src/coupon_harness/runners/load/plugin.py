"""Wires a Locust Environment for a checked load run: recorder, aggregate, auth, CPU watch, stop rules.

Used by the load process and by `locustfiles/bulk_issue.py`. Roles: "local" (records and aggregates),
"master" (aggregates the workers' deltas), "worker" (records, ships deltas through report_to_master).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gevent
import locust.runners as locust_runners
import psutil

from coupon_harness.contract.expectations import Expectations
from coupon_harness.runners.load.abort import abort_reason, evidence_of
from coupon_harness.runners.load.checker import CheckOutcome, ResponseChecker
from coupon_harness.runners.load.recorder import MAX_INTERVALS, Aggregate, Recorder
from coupon_harness.runners.load.settings import LoadSettings
from coupon_harness.runners.load.user import BulkIssueUser
from coupon_harness.safety import coupon_cap, coupon_share, refuse_production
from coupon_harness.transport.auth import Redactor, TokenSource, auth_headers

__all__ = ["DELTA_KEY", "QUIT_MESSAGE", "SHARE_MESSAGE", "LoadState", "LoadStep", "ShareInbox", "install"]

DELTA_KEY = "coupon_harness"
#: The master's message to each worker, before its users start: the coupons that worker may issue.
SHARE_MESSAGE = "coupon_harness_share"
#: The master's message to each worker at the end: stop the users, ship the last delta, quit.
QUIT_MESSAGE = "coupon_harness_quit"
SATURATED_CPU = 90.0
#: How often a local run moves its figures and codes to the aggregate (and coupons.csv).
FLUSH_S = 0.25
#: How often a worker ships its figures and codes to the master.
WORKER_REPORT_S = 0.5
#: How long a worker told to quit waits, once its users stopped, for the report that carries its last delta.
LAST_REPORT_WAIT_S = 5.0
JSON_BODY = {"Content-Type": "application/json"}


@dataclass(slots=True)
class LoadStep:
    """A stretch of the run's shape with one user count; wall-clock times, `end_s` None while it lasts."""

    index: int
    users: int
    start_s: float
    end_s: float | None = None


@dataclass
class LoadState:
    settings: LoadSettings
    role: str
    checker: ResponseChecker
    recorder: Recorder
    aggregate: Aggregate | None
    arrival_interval: float
    tokens: TokenSource | None
    #: The coupons this process may issue (a worker's share of --max-coupons); None: no cap.
    coupon_cap: int | None
    redactor: Redactor
    #: Batches drawn once at start, cycled by the users (drawing per request costs the generator).
    batches: list[list[int]] = field(default_factory=list)
    static_headers: dict[str, str] | None = None
    #: Coupons issued here, and reserved by requests in flight (their batch size): together never past the cap.
    coupons_here: int = 0
    coupons_reserved: int = 0
    coupons_unanswered: int = 0
    #: A worker: True once its share of the cap is settled (the master's message, or worked out locally).
    share_settled: bool = False
    #: A worker: its users have stopped (Locust's test_stop), so the delta it ships now is its last.
    users_stopped: bool = False
    #: A worker: the delta shipped after its users stopped has gone to the master.
    last_delta_shipped: bool = False
    #: The master: workers whose last delta (shipped after their users stopped) has arrived.
    finished_workers: set[str] = field(default_factory=set)
    #: The master: the workers the current test started on.
    test_workers: set[str] = field(default_factory=set)
    #: Notes for the report the run's own process learned (a worker that sent no last report).
    notes: list[str] = field(default_factory=list)
    stopping: bool = False
    stopped_reason: str | None = None
    cpu_samples: list[float] = field(default_factory=list)
    environment: Any = None
    #: Ends the run in order (the load process's); None: Locust's runner.quit (plain locust).
    finish: Callable[[], None] | None = None
    #: The shape's steps as the run went through them (the harness's load process, local or master).
    steps: list[LoadStep] = field(default_factory=list)
    #: --prometheus-port: the metrics server of the aggregating process (None: off).
    metrics_server: Any = None
    #: A setup error met by a user (the token endpoint answered a redirect): the run stops, and ends as exit 2.
    setup_error: str | None = None

    def begin_step(self, users: int, at: float) -> None:
        """A new target user count from `at` (wall clock) on: the step before ends there."""
        self.end_steps(at)
        self.steps.append(LoadStep(len(self.steps), users, at))

    def end_steps(self, at: float) -> None:
        if self.steps and self.steps[-1].end_s is None:
            self.steps[-1].end_s = at

    def traffic_s(self, fallback: float) -> float:
        """The aggregate's traffic time (every generator's); `fallback` when no answer came."""
        traffic = self.aggregate.traffic_s() if self.aggregate is not None else None
        return traffic if traffic is not None else fallback

    def headers(self) -> dict[str, str]:
        if self.static_headers is not None:
            return self.static_headers
        return {**auth_headers(self.settings.credentials, self.tokens), **JSON_BODY}

    def reserve(self, wanted: int) -> int:
        """Reserve up to `wanted` coupons of the cap for one request; the number granted (0: none left now)."""
        cap = self.coupon_cap
        if cap is None:
            return wanted
        left = cap - self.coupons_here - self.coupons_reserved
        if left <= 0:
            # A worker whose share is not settled yet has a cap of 0 for now: its users wait for the share.
            if self.coupons_here >= cap and (self.share_settled or self.role != "worker"):
                self.cap_reached()
            return 0
        granted = wanted if wanted <= left else left
        self.coupons_reserved += granted
        return granted

    def cap_reached(self, unanswered: int | None = None) -> None:
        unanswered = self.coupons_unanswered if unanswered is None else unanswered
        if not self.stopping:
            self.stop(f"--max-coupons reached ({self.settings.max_coupons})" + (
                f", counting {unanswered} coupons of requests that got no answer (the target may have issued them)"
                if unanswered else ""))

    def record(self, outcome: CheckOutcome, latency_s: float, customer: str, at: float, reserved: int = 0) -> None:
        """Book one answer and give back `reserved`; a request without an answer keeps it (the target may have
        issued those coupons: they count against the cap, as `coupons_unanswered`)."""
        self.recorder.record(outcome, latency_s, customer, at)
        if self.coupon_cap is not None:
            tally = outcome.tally
            self.coupons_reserved -= reserved
            if tally is not None and tally.coupons:
                self.coupons_here += len(tally.coupons)
            elif outcome.status == "transport" and reserved:
                self.coupons_here += reserved
                self.coupons_unanswered += reserved
                self.recorder.counters["coupons_unanswered"] += reserved
            if self.coupons_here >= self.coupon_cap:
                self.cap_reached()

    def flush(self) -> None:
        """Local role: move the recorder's delta into the aggregate."""
        if self.aggregate is not None:
            self.aggregate.merge(self.recorder.take_delta())
            self.check_coupon_log()

    def check_coupon_log(self) -> None:
        """coupons.csv stopped taking codes (a full disk): the run stops, and ends as a setup error (exit 2)."""
        aggregate = self.aggregate
        if aggregate is not None and aggregate.coupon_error is not None and self.setup_error is None:
            self.setup_error = aggregate.coupon_failure() or str(aggregate.coupon_error)
            self.stop(self.setup_error)

    def final_setup_error(self) -> str | None:
        """Why the run ended as a setup error (coupons.csv's final counts when that was it); None if not."""
        if self.aggregate is not None:
            self.aggregate.close()  # coupons.csv holds every code issued before the error
            failure = self.aggregate.coupon_failure()
            if failure is not None:
                return failure
        return self.setup_error

    def setup_failed(self, message: str) -> None:
        """A user met a setup error (redacted `message`): the run stops in order and ends as a setup error."""
        if self.setup_error is None:
            self.setup_error = message
            print(f"coupon-harness: error: {message}", file=sys.stderr, flush=True)
        self.stop(message)

    def stop(self, reason: str) -> None:
        if self.stopping:
            return
        self.stopping = True
        self.stopped_reason = self.stopped_reason or reason
        if self.finish is not None:
            gevent.spawn(self.finish)
            return
        runner = self.environment.runner if self.environment is not None else None
        if runner is not None and self.role != "worker":
            gevent.spawn(runner.quit)


# Complexity allowed: every Locust event listener of a run wired in one place.
def install(environment: Any, settings: LoadSettings, role: str, coupons_csv: Path | None,  # noqa: C901, PLR0915
            expected_workers: int = 1, share_inbox: ShareInbox | None = None) -> LoadState:
    """Raises ConfigError for a production host without allow_production: every load way in comes here.
    `share_inbox`: a worker's, listening since before the preflight (plain locust's worker is connected by then)."""
    refuse_production(settings.base_url, allow=settings.allow_production)
    settings = replace(settings, max_coupons=coupon_cap(settings.base_url, settings.max_coupons))
    expectations = Expectations(valid_series=frozenset(settings.series_ids),
                                invalid_series=frozenset(settings.invalid_series_ids),
                                generic_series=frozenset(settings.generic_series_ids))
    credentials = settings.credentials
    tokens = None
    if credentials.oauth_key and not credentials.token and role != "master":
        tokens = TokenSource(settings.base_url, credentials.oauth_key, credentials.oauth_secret or "",
                             settings.request_timeout, allow_production=settings.allow_production,
                             headers=credentials.headers, tls=credentials.tls)
    redactor = Redactor(credentials, tokens)
    cap = settings.max_coupons
    if cap is not None and role == "worker":
        cap = 0  # until the share is settled (before the first user starts: see _receive_share)
    interval = settings.timeline_interval()
    state = LoadState(
        settings=settings, role=role, checker=ResponseChecker(expectations), recorder=Recorder(interval, redactor),
        aggregate=(Aggregate(interval, expectations.generic_series, coupons_csv, coupon_source=settings.coupon_source,
                             max_intervals=settings.timeline_cap() or MAX_INTERVALS)
                   if role != "worker" else None),
        arrival_interval=(settings.users / settings.arrival_rate) if settings.arrival_rate else 0.0, tokens=tokens,
        coupon_cap=cap, redactor=redactor, environment=environment)
    state.batches = draw_batches(settings, random.Random(settings.seed))
    if settings.carried_coupons:  # the preflight's: counted against the cap, checked and listed with the load's
        state.recorder.carry(settings.carried_coupons, listed=settings.carried_listed)
        state.coupons_here = len(settings.carried_coupons)
    if tokens is None:
        state.static_headers = {**auth_headers(credentials, None), **JSON_BODY}
    BulkIssueUser.state = state
    BulkIssueUser.network_timeout = settings.request_timeout
    BulkIssueUser.connection_timeout = settings.request_timeout
    events = environment.events
    if role == "worker":
        # Twice a second (Locust's default: 3 s): a worker killed outright loses at most that much.
        locust_runners.WORKER_REPORT_INTERVAL = WORKER_REPORT_S
        def _ship(client_id: str, data: dict[str, Any]) -> None:
            delta = state.recorder.take_delta()
            delta["cpu"] = state.cpu_samples
            state.cpu_samples = []
            delta["final"] = state.users_stopped
            data[DELTA_KEY] = delta
            state.last_delta_shipped = state.users_stopped

        def _users_stopped(**_kwargs: Any) -> None:
            state.users_stopped = True
            runner = environment.runner
            if runner is not None:
                # The last figures now, while the master counts this worker: after "stop" it discards its reports.
                data: dict[str, Any] = {}
                environment.events.report_to_master.fire(client_id=runner.client_id, data=data)
                runner.send_message("stats", data)
            # After "stop" a worker waits stop_timeout again before it reports ready: short, its users stopped.
            environment.stop_timeout = min(environment.stop_timeout or 0.0, WORKER_REPORT_S)

        def _users_start(**_kwargs: Any) -> None:  # the web UI's next test: its last delta is yet to come
            state.users_stopped = state.last_delta_shipped = False

        events.report_to_master.add_listener(_ship)
        events.test_stop.add_listener(_users_stopped)
        events.test_start.add_listener(_users_start)
        _receive_share(state, expected_workers, share_inbox)
        _quit_when_told(state)
    elif role == "master":
        def _merge(client_id: str, data: dict[str, Any]) -> None:
            delta = data.get(DELTA_KEY)
            if delta is None or state.aggregate is None:
                return
            state.cpu_samples.extend(delta.pop("cpu", []))
            if delta.pop("final", False):
                state.finished_workers.add(client_id)
            aggregate = state.aggregate
            aggregate.merge(delta)
            state.check_coupon_log()
            unanswered = aggregate.counters["coupons_unanswered"]
            if settings.max_coupons is not None and aggregate.coupons_issued + unanswered >= settings.max_coupons:
                state.cap_reached(unanswered)

        def _test_start(**_kwargs: Any) -> None:
            state.finished_workers.clear()  # the web UI's next test: each worker's last delta is yet to come
            state.test_workers = _hand_out_shares(state)

        events.worker_report.add_listener(_merge)
        events.test_start.add_listener(_test_start)
    if role != "master":
        gevent.spawn(_watch_cpu, state)
    if role == "local":
        gevent.spawn(_flush_often, state)
    if role != "worker":
        if settings.prometheus_port is not None:
            _serve_metrics(state)
        if settings.abort_on_fail and state.aggregate is not None:
            gevent.spawn(_watch_abort, state, state.aggregate)
    return state


def _serve_metrics(state: LoadState) -> None:
    """--prometheus-port: live figures from the aggregate (ConfigError when the port is taken)."""
    from coupon_harness.runners.load.metrics import LoadCollector, serve

    generators = max(1, state.settings.workers)

    def users() -> int:
        runner = state.environment.runner if state.environment is not None else None
        return int(getattr(runner, "user_count", 0) or 0)

    def cpu() -> float | None:
        # The busiest of the last few seconds of every generator.
        recent = state.cpu_samples[-3 * generators:]
        return max(recent) if recent else None

    settings = state.settings
    assert settings.prometheus_port is not None
    state.metrics_server = serve(LoadCollector(state.aggregate, users, cpu), settings.prometheus_host,
                                 settings.prometheus_port)


def _watch_abort(state: LoadState, aggregate: Aggregate) -> None:
    """--abort-on-fail, every second: a run that cannot pass any more stops in order, with a full report."""
    while not state.stopping:
        gevent.sleep(1.0)
        reason = abort_reason(state.settings, evidence_of(aggregate, state.settings.slos))
        if reason is not None:
            state.stop(reason)


def _hand_out_shares(state: LoadState) -> set[str]:
    """Master, at test start (before the spawn messages): each worker's share of the cap, by its rank. Returns the
    workers' ids (the locustfile's web-UI stop waits for each one's last figures)."""
    runner = state.environment.runner if state.environment is not None else None
    if runner is None:
        return set()
    clients = sorted(runner.clients.ready + runner.clients.running + runner.clients.spawning,
                     key=lambda client: runner.get_worker_index(client.id))
    cap = state.settings.max_coupons
    for position, client in enumerate(clients):
        share = None if cap is None else coupon_share(cap, len(clients), position)
        runner.send_message(SHARE_MESSAGE, {"share": share, "workers": len(clients)}, client_id=client.id)
    return {client.id for client in clients}


class ShareInbox:
    """Worker: the master's SHARE_MESSAGE, listened for as soon as the runner exists. Plain locust installs the
    plugin after the worker said it is ready: a share that came meanwhile is kept until `install` takes it."""

    def __init__(self, environment: Any) -> None:
        self.data: dict[str, Any] | None = None
        self.take: Callable[[dict[str, Any]], None] | None = None
        _when_runner(environment, lambda runner: runner.register_message(SHARE_MESSAGE, self._received))

    def _received(self, msg: Any, **_kwargs: Any) -> None:
        data = msg.data if isinstance(msg.data, dict) else {}
        if self.take is None:
            self.data = data
        else:
            self.take(data)

    def deliver_to(self, take: Callable[[dict[str, Any]], None]) -> None:
        """From now on every share goes to `take`; one that came before goes there now."""
        self.take = take
        if self.data is not None:
            take(self.data)
            self.data = None


def _receive_share(state: LoadState, expected_workers: int, inbox: ShareInbox | None) -> None:
    """Worker: the master's share, else one worked out from this worker's index when the users spawn, else
    none; until it is settled the users wait."""
    environment = state.environment
    if environment is None:
        return

    def take(data: dict[str, Any]) -> None:
        share = data.get("share")
        if share is None:  # the master keeps no cap: this worker's own, if any, is settled at test_start
            return
        own = state.settings.max_coupons
        state.coupon_cap = int(share) if own is None else min(int(share), own)
        state.share_settled = True

    def settle(**_kwargs: Any) -> None:
        if state.share_settled or state.settings.max_coupons is None:
            return
        # Only a count the harness was given is trusted (Locust's --expect-workers is a minimum, not a count).
        workers = expected_workers if expected_workers > 1 else state.settings.workers
        index = getattr(environment.runner, "worker_index", -1)
        if workers >= 1 and index >= 0:
            state.coupon_cap = coupon_share(state.settings.max_coupons, workers, index)
        else:
            state.coupon_cap = 0
            print("coupon-harness: this worker got no share of --max-coupons from the master and cannot work one "
                  "out: it sends nothing", file=sys.stderr, flush=True)
        state.share_settled = True

    (inbox if inbox is not None else ShareInbox(environment)).deliver_to(take)
    environment.events.test_start.add_listener(settle)
    runner = environment.runner
    if getattr(runner, "worker_state", None) in (locust_runners.STATE_SPAWNING, locust_runners.STATE_RUNNING):
        settle()  # the test started while the plugin was being installed: its test_start has passed


def _quit_when_told(state: LoadState) -> None:
    """Worker: the master's QUIT_MESSAGE stops the users, waits for the report with the last delta, then quits
    (`concurrent`: the message loop keeps answering heartbeats meanwhile)."""

    def quit_now(**_kwargs: Any) -> None:
        runner = state.environment.runner
        runner.stop()
        deadline = time.monotonic() + LAST_REPORT_WAIT_S
        while not state.last_delta_shipped and time.monotonic() < deadline:
            gevent.sleep(0.02)
        runner.quit()

    _when_runner(state.environment,
                 lambda runner: runner.register_message(QUIT_MESSAGE, quit_now, concurrent=True))


def _when_runner(environment: Any, register: Callable[[Any], None]) -> None:
    """Call `register(runner)` once the environment has its runner (plain locust makes it before `install`)."""
    if environment.runner is not None:
        register(environment.runner)
        return

    def wait() -> None:
        while environment.runner is None:
            gevent.sleep(0.001)
        register(environment.runner)

    gevent.spawn(wait)


def draw_batches(settings: LoadSettings, rng: random.Random, count: int = 4096) -> list[list[int]]:
    """Batches of batch_min..batch_max distinct valid series, each slot invalid with probability invalid_share."""
    valid, invalid = sorted(set(settings.series_ids)), sorted(set(settings.invalid_series_ids))
    low, high = (max(1, min(bound, len(valid) or 1)) for bound in (settings.batch_min, settings.batch_max))
    share = settings.invalid_share
    batches = []
    for _ in range(count):
        size = rng.randint(low, high)
        batch = rng.sample(valid, min(size, len(valid))) if valid else []
        if invalid and share > 0:
            batch = [rng.choice(invalid) if rng.random() < share else s for s in batch]
        batches.append(batch or [rng.choice(invalid)])
    return batches


def _watch_cpu(state: LoadState) -> None:
    """Samples this process's CPU every second (Locust's own warning samples every 10 s, first at 0)."""
    process = psutil.Process()
    process.cpu_percent(None)
    while True:
        gevent.sleep(1.0)
        state.cpu_samples.append(process.cpu_percent(None))


def _flush_often(state: LoadState) -> None:
    """Local role: the recorder's delta into the aggregate (and its codes into coupons.csv) every FLUSH_S."""
    while True:
        gevent.sleep(FLUSH_S)
        state.flush()
