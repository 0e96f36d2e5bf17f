"""The load process: `python -m coupon_harness.runners.load.process --out DIR --role ...`, its settings (with
the credentials) in the environment variable COUPON_HARNESS_LOAD_SETTINGS, never in a file.

Runs Locust in library mode (gevent never enters the CLI's process) and writes result.json, coupons.csv and
locust_stats.json into --out, a Ctrl-C included.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

#: Signals that arrived while this process still imported Locust: acted on once the run is wired.
_early_signals: list[int] = []


def _note_signal(signum: int, frame: object) -> None:
    _early_signals.append(signum)


# Ctrl-C or SIGTERM while this process still imports Locust must not end it with a traceback and no result.
signal.signal(signal.SIGINT, _note_signal)
signal.signal(signal.SIGTERM, _note_signal)

from gevent import monkey  # noqa: E402

monkey.patch_all()

import gevent  # noqa: E402
from locust.env import Environment  # noqa: E402

from coupon_harness.errors import HarnessError  # noqa: E402
from coupon_harness.interrupts import signal_name  # noqa: E402
from coupon_harness.log_setup import configure, redact_with  # noqa: E402
from coupon_harness.runners.load.abort import PREFIX as ABORT_PREFIX  # noqa: E402
from coupon_harness.runners.load.events import Listening, LoadEvent, Notice, Progress, SetupError, encode  # noqa: E402
from coupon_harness.runners.load.plugin import QUIT_MESSAGE, LoadState, install  # noqa: E402
from coupon_harness.runners.load.result import build_result  # noqa: E402
from coupon_harness.runners.load.settings import RESULT_FILE, SETTINGS_ENV, LoadSettings  # noqa: E402
from coupon_harness.runners.load.shapes import users_at  # noqa: E402
from coupon_harness.runners.load.user import BulkIssueUser  # noqa: E402

_log = logging.getLogger("coupon_harness.runners.load.process")  # run as __main__

#: How long a worker's exit waits for ZeroMQ to send its last report.
WORKER_LINGER_MS = 3000
#: How often the parent hears the run's figures (its display shows them live; plain lines are fewer).
PROGRESS_EVERY_S = 1.0

#: The event channel to the parent (--events-fd); None: events go nowhere (a remote worker has no parent run).
_channel: TextIO | None = None


def _emit(event: LoadEvent) -> None:
    if _channel is None:
        return
    with contextlib.suppress(OSError, ValueError):  # the parent may be gone: that must not stop the run's end
        _channel.write(encode(event) + "\n")
        _channel.flush()


def _watch_parent(stop: Callable[[], None]) -> None:
    """Ends the run when the process that started this one is gone: no orphan keeps loading a target."""
    parent = os.getppid()
    while os.getppid() == parent:
        gevent.sleep(0.5)
    stop()


def _on_signals(stop: Callable[[int], None]) -> None:
    """SIGINT and SIGTERM call `stop` in gevent's hub, never inside a user (which would lose the answer it was
    reading, and its codes)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, stop, signum)
    if _early_signals:
        stop(_early_signals[0])


def _finish(runner: Any, role: str, state: LoadState) -> None:
    """End the run in order: the users finish the request in flight, then quit; a master first tells every
    worker to quit and waits for each last delta (Locust's own quit waits 0.5 s)."""
    if role == "master":
        workers = [client.id for client in runner.clients.all]
        for worker in workers:
            runner.send_message(QUIT_MESSAGE, client_id=worker)
        deadline = time.monotonic() + runner.environment.stop_timeout + 10
        while not state.finished_workers.issuperset(workers) and time.monotonic() < deadline:
            gevent.sleep(0.05)
        missing = len(set(workers) - state.finished_workers)
        if missing:
            state.notes.append(f"{missing} worker(s) sent no last report: everything they did since their last "
                               "report (twice a second, up to all of it) is missing from the figures and coupons.csv")
    runner.quit()


def _progress(runner: Any, state: LoadState, elapsed: float, users: int, run_time_s: float) -> Progress:
    total = runner.stats.total
    p95 = total.get_current_response_time_percentile(0.95) if total.num_requests else None
    return Progress(elapsed_s=round(elapsed, 1), users=users, requests=total.num_requests,
                    failures=total.num_failures, rps=round(total.current_rps, 1),
                    p95_ms=float(p95) if p95 is not None else None,
                    coupons=state.aggregate.coupons_issued if state.aggregate is not None else 0,
                    remaining_s=round(max(run_time_s - elapsed, 0.0), 1), run_time_s=run_time_s)


def _drive(runner: Any, settings: LoadSettings, state: LoadState, role: str) -> None:
    """Start the users, follow the shape, stop at the run time."""
    if state.stopping:  # a signal before the first user
        return
    started = last_report = time.monotonic()
    current, elapsed = -1, 0.0
    while not state.stopping:
        wanted = users_at(settings.shape, elapsed, settings.run_time_s, settings.users)
        if wanted != current:
            current = wanted
            state.begin_step(current, time.time())
            runner.start(current, spawn_rate=settings.spawn_rate)
        if time.monotonic() - last_report >= PROGRESS_EVERY_S:
            last_report = time.monotonic()
            _emit(_progress(runner, state, elapsed, current, settings.run_time_s))
        gevent.sleep(0.2)
        elapsed = time.monotonic() - started
        if elapsed >= settings.run_time_s:
            break
    state.end_steps(time.time())
    if not state.stopping:  # the run time is over; a signal or the coupon cap stops the run on its own
        state.stopping = True
        _finish(runner, role, state)
    # The last figures, once the users stopped (the display's last line; a signal's stop is still under way).
    _emit(_progress(runner, state, time.monotonic() - started, current, settings.run_time_s))


def run(settings: LoadSettings, out: Path, role: str, master_host: str, master_port: int,
        expect_workers: int) -> int:
    # stop_timeout: users finish the request in flight, so every request sent is counted and every coupon listed.
    env = Environment(user_classes=[BulkIssueUser], host=settings.base_url, stop_timeout=settings.stop_timeout_s())
    state = install(env, settings, role, settings.coupons_path(out) if role != "worker" else None,
                    expected_workers=max(expect_workers, 1))
    redact_with(settings.credentials, state.redactor.text)  # the tokens it fetches too
    _log.info("%s load process %d: %s against %s", role, os.getpid(), f"{settings.arrival_rate:g} req/s"
              if settings.arrival_rate else f"{settings.users} users", state.redactor.text(settings.base_url))
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.monotonic()
    interrupted: list[int] = []
    runner: Any
    if role == "worker":
        runner = env.create_worker_runner(master_host, master_port)
        gevent.spawn(_watch_parent, runner.quit)
        _on_signals(lambda signum: gevent.spawn(runner.quit))
        runner.greenlet.join()
        # Its last report may still sit in ZeroMQ's queue, which an exiting interpreter drops: linger to send it.
        with contextlib.suppress(Exception):
            runner.client.close(linger=WORKER_LINGER_MS)
        return 2 if state.setup_error is not None else 0
    runner = (env.create_master_runner(master_bind_host=master_host, master_bind_port=master_port)
              if role == "master" else env.create_local_runner())
    if role == "master":
        _emit(Listening(int(runner.server.port)))  # given 0, it bound a free port: the parent starts workers now

    def finish() -> None:  # the coupon cap and --abort-on-fail end the run this way
        reason = state.stopped_reason or ""
        if reason.startswith(ABORT_PREFIX):
            _emit(Notice(f"stopping early, {reason}"))
        _finish(runner, role, state)

    state.finish = finish

    def stop(signum: int) -> None:
        if interrupted:
            return  # the first signal is being acted on; a second must not cut the partial result
        interrupted.append(signum)
        state.stop(f"interrupted by {signal_name(signum)}")

    _on_signals(stop)
    if role == "master":
        deadline = time.monotonic() + 60
        while len(runner.clients.ready) < expect_workers and not state.stopping:
            if time.monotonic() > deadline:
                _emit(SetupError(f"only {len(runner.clients.ready)} of {expect_workers} workers connected to "
                                 f"{master_host}:{master_port} within 60 s: start them with `coupon-harness load "
                                 "--worker --master-host ...`"))
                runner.quit()
                return 2
            gevent.sleep(0.1)
    gevent.spawn(_drive, runner, settings, state, role)
    gevent.spawn(_watch_parent, lambda: state.stop("the harness process that started the run is gone"))
    runner.greenlet.join()
    if role == "master":
        gevent.sleep(0.5)  # the workers' last reports
    state.flush()
    if state.setup_error is not None:  # a token endpoint that redirects, coupons.csv on a full disk: exit 2
        _emit(SetupError(state.final_setup_error() or state.setup_error))
        return 2
    state.end_steps(time.time())  # a signal or the coupon cap ended the run before _drive saw the run time out
    # The duration counts traffic (first request sent to last answer), not the waits around it.
    result = build_result(settings, state, started_at, state.traffic_s(time.monotonic() - started), bool(interrupted),
                          workers=expect_workers if role == "master" else 0)
    failure = state.final_setup_error()
    if failure is not None:  # coupons.csv failed on its last merge or fsync
        _emit(SetupError(failure))
        return 2
    result.notes.extend(state.notes)
    (out / "locust_stats.json").write_text(json.dumps(_locust_stats(env), indent=1))
    result.files = {"coupons.csv": str(settings.coupons_path(out)), "locust_stats.json": str(out / "locust_stats.json")}
    # An exception inside the user's task is the harness's own bug: its figures cannot be trusted.
    for error in runner.exceptions.values():
        result.harness_errors.append(state.redactor.text(f"{error['count']}x {error['msg']}")[:300])
        result.notes.append(f"harness error (a bug of coupon-harness, figures not to be trusted): "
                            f"{result.harness_errors[-1]}")
    (out / RESULT_FILE).write_text(json.dumps(result.to_json()))
    _log.info("%s load process %d: %d requests, %d coupons; %s written", role, os.getpid(), result.requests,
              result.coupons_issued, out / RESULT_FILE)
    if state.metrics_server is not None:
        state.metrics_server.shutdown()
    return 0


def _locust_stats(env: Any) -> dict[str, Any]:
    """Locust's own counters, read from the runner (its CSV lags; these do not)."""
    stats = env.stats
    entries = [{
        "method": entry.method, "name": entry.name, "requests": entry.num_requests,
        "failures": entry.num_failures, "median_ms": entry.median_response_time,
        "p95_ms": entry.get_response_time_percentile(0.95), "avg_ms": entry.avg_response_time,
        "max_ms": entry.max_response_time, "rps": entry.total_rps,
    } for entry in [*stats.entries.values(), stats.total]]
    errors = [{"name": e.name, "error": str(e.error), "occurrences": e.occurrences} for e in stats.errors.values()]
    return {"entries": entries, "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coupon_harness.runners.load.process")
    parser.add_argument("--settings", type=Path, help="a settings file (default: $COUPON_HARNESS_LOAD_SETTINGS)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--role", choices=("local", "master", "worker"), default="local")
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, default=5557)
    parser.add_argument("--expect-workers", type=int, default=0)
    parser.add_argument("--events-fd", type=int, default=None, help="a pipe for the events (JSON lines)")
    parser.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="the CLI's level (-v, -vv, -q)")
    args = parser.parse_args(argv)
    configure(logging.getLevelName(args.log_level))
    global _channel
    if args.events_fd is not None:
        _channel = os.fdopen(args.events_fd, "w", encoding="utf-8")
    raw = args.settings.read_text() if args.settings else os.environ.pop(SETTINGS_ENV, "")
    if not raw:
        parser.error(f"no settings: give --settings FILE or set {SETTINGS_ENV}")
    settings = LoadSettings.from_json(raw)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        return run(settings, args.out, args.role, args.master_host, args.master_port, args.expect_workers)
    except HarnessError as exc:  # the settings do not fit (a refused host): one line for the parent, exit 2
        _emit(SetupError(str(exc)))
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
