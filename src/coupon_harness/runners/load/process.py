"""The load process: `python -m coupon_harness.runners.load.process --out DIR --role ...`, its settings (with
the credentials) in the environment variable COUPON_HARNESS_LOAD_SETTINGS, never in a file.

Runs Locust in library mode (so gevent never enters the CLI's process), writes result.json (a
LoadRunResult), coupons.csv and locust_stats.json into --out. Ctrl-C stops the users and still
writes everything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_early_interrupt = False


def _note_interrupt(signum: int, frame: object) -> None:
    global _early_interrupt
    _early_interrupt = True


# Ctrl-C while this process still imports Locust must not end it with a traceback and no result.
signal.signal(signal.SIGINT, _note_interrupt)

from gevent import monkey  # noqa: E402

monkey.patch_all()

import gevent  # noqa: E402
from locust.env import Environment  # noqa: E402

from coupon_harness.runners.load.plugin import LoadState, install  # noqa: E402
from coupon_harness.runners.load.result import build_result  # noqa: E402
from coupon_harness.runners.load.settings import RESULT_FILE, SETTINGS_ENV, LoadSettings  # noqa: E402
from coupon_harness.runners.load.shapes import users_at  # noqa: E402
from coupon_harness.runners.load.user import BulkIssueUser  # noqa: E402


def _say(message: str) -> None:
    with contextlib.suppress(OSError):  # the caller may be gone (a broken pipe must not stop the run's end)
        print(f"load: {message}", file=sys.stderr, flush=True)


def _watch_parent(runner: Any, state: LoadState | None) -> None:
    """Ends the run when the process that started this one is gone: no orphan keeps loading a target."""
    parent = os.getppid()
    while os.getppid() == parent:
        gevent.sleep(0.5)
    if state is not None:
        state.stopped_reason = state.stopped_reason or "the harness process that started the run is gone"
    runner.quit()


def _join(runner: Any) -> bool:
    """Wait for the runner to end; False when Ctrl-C came first (also while Locust was still loading).

    After the first Ctrl-C further ones are ignored: the parent relays it, and it must not cut the
    writing of the partial result.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if _early_interrupt:
            raise KeyboardInterrupt
        runner.greenlet.join()
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return False
    return True


def _drive(runner: Any, settings: LoadSettings, state: LoadState) -> None:
    """Start the users, follow the shape, stop at the run time."""
    started = time.monotonic()
    current = users_at(settings.shape, 0.0, settings.run_time_s, settings.users)
    runner.start(current, spawn_rate=settings.spawn_rate)
    last_report = started
    while not state.stopping:
        elapsed = time.monotonic() - started
        if elapsed >= settings.run_time_s:
            break
        wanted = users_at(settings.shape, elapsed, settings.run_time_s, settings.users)
        if wanted != current:
            current = wanted
            runner.start(current, spawn_rate=settings.spawn_rate)
        if time.monotonic() - last_report >= 5:
            last_report = time.monotonic()
            stats = runner.stats.total
            _say(f"{elapsed:.0f}s: {current} users, {stats.num_requests} requests, {stats.num_failures} failures")
        gevent.sleep(0.2)
    runner.quit()


def run(settings: LoadSettings, out: Path, role: str, master_host: str, master_port: int,
        expect_workers: int) -> int:
    # stop_timeout: at the end users finish the request in flight, so every coupon issued is counted.
    env = Environment(user_classes=[BulkIssueUser], host=settings.base_url,
                      stop_timeout=min(settings.request_timeout, 10.0))
    state = install(env, settings, role, out / "coupons.csv" if role != "worker" else None,
                    expected_workers=max(expect_workers, 1))
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.monotonic()
    interrupted = False
    runner: Any
    if role == "worker":
        runner = env.create_worker_runner(master_host, master_port)
        gevent.spawn(_watch_parent, runner, None)
        if not _join(runner):
            runner.quit()
        return 0
    if role == "master":
        runner = env.create_master_runner(master_bind_host=master_host, master_bind_port=master_port)
        deadline = time.monotonic() + 60
        while len(runner.clients.ready) < expect_workers:
            if time.monotonic() > deadline:
                _say(f"only {len(runner.clients.ready)} of {expect_workers} workers connected within 60 s")
                runner.quit()
                return 2
            gevent.sleep(0.1)
    else:
        runner = env.create_local_runner()
    driver = gevent.spawn(_drive, runner, settings, state)
    gevent.spawn(_watch_parent, runner, state)
    if not _join(runner):
        interrupted = True
        state.stopped_reason = state.stopped_reason or "interrupted (Ctrl-C)"
        driver.kill()
        runner.quit()
    if role == "master":
        gevent.sleep(0.5)  # the workers' last reports
    state.flush()
    result = build_result(settings, state, started_at, time.monotonic() - started, interrupted,
                          workers=expect_workers if role == "master" else 0)
    (out / "locust_stats.json").write_text(json.dumps(_locust_stats(env), indent=1))
    result.files = {"coupons.csv": str(out / "coupons.csv"), "locust_stats.json": str(out / "locust_stats.json")}
    # An exception inside the user's task is the harness's own bug: its figures cannot be trusted.
    for error in runner.exceptions.values():
        result.harness_errors.append(f"{error['count']}x {error['msg']}"[:300])
        result.notes.append(f"harness error (a bug of coupon-harness, figures not to be trusted): "
                            f"{result.harness_errors[-1]}")
    (out / RESULT_FILE).write_text(json.dumps(asdict(result)))
    return 0


def _locust_stats(env: Any) -> dict[str, Any]:
    """Locust's own counters, read from the runner (its CSV lags; these do not)."""
    stats = env.stats
    entries = []
    for entry in [*stats.entries.values(), stats.total]:
        entries.append({
            "method": entry.method, "name": entry.name, "requests": entry.num_requests,
            "failures": entry.num_failures, "median_ms": entry.median_response_time,
            "p95_ms": entry.get_response_time_percentile(0.95), "avg_ms": entry.avg_response_time,
            "max_ms": entry.max_response_time, "rps": entry.total_rps,
        })
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
    args = parser.parse_args(argv)
    raw = args.settings.read_text() if args.settings else os.environ.pop(SETTINGS_ENV, "")
    if not raw:
        parser.error(f"no settings: give --settings FILE or set {SETTINGS_ENV}")
    settings = LoadSettings.from_json(raw)
    args.out.mkdir(parents=True, exist_ok=True)
    return run(settings, args.out, args.role, args.master_host, args.master_port, args.expect_workers)


if __name__ == "__main__":
    raise SystemExit(main())
