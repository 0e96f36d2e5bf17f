"""Runs a load test in child processes (Locust's gevent never enters the caller) and reads the result."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from coupon_harness.coupon_log import HEADER, read_rows
from coupon_harness.errors import HarnessError
from coupon_harness.interrupts import Terminated, signal_name
from coupon_harness.log_setup import LINE, PACKAGE
from coupon_harness.results.load import LoadRunResult
from coupon_harness.results.progress import Figures, FiguresSink
from coupon_harness.runners.load.events import Listening, Progress, SetupError, decode
from coupon_harness.runners.load.settings import RESULT_FILE, SETTINGS_ENV, LoadSettings
from coupon_harness.transport.auth import Redactor

__all__ = ["interrupted_result", "load_figures", "read_result_file", "run_load", "run_worker"]

_MODULE = "coupon_harness.runners.load.process"
_log = logging.getLogger(__name__)
#: How often a caller without a figures sink reads the figures as a line (seconds of the run).
TEXT_EVERY_S = 5.0


def _command(out: Path) -> list[str]:
    """The load process's command line, up to its role; it logs at this process's level."""
    level = logging.getLogger(PACKAGE).getEffectiveLevel()
    name = next((name for name in ("DEBUG", "INFO", "WARNING") if level <= logging.getLevelName(name)), "ERROR")
    return [sys.executable, "-m", _MODULE, "--out", str(out), "--log-level", name]


def _child_env(settings: LoadSettings) -> dict[str, str]:
    return {**os.environ, SETTINGS_ENV: settings.to_json()}


class _Channel:
    """The load process's typed events on a pipe, and the tail of its stderr (read by a thread, so neither pipe
    can fill) for a crash that leaves no event."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self.tail: deque[str] = deque(maxlen=20)
        self.setup_error: str | None = None
        self._thread: threading.Thread | None = None

    def started(self, process: subprocess.Popen[str]) -> None:
        os.close(self.write_fd)  # the child holds it now: the read end sees EOF when the child ends
        self._thread = threading.Thread(target=self._drain, args=(process,), daemon=True)
        self._thread.start()

    def _drain(self, process: subprocess.Popen[str]) -> None:
        if process.stderr is not None:
            for line in process.stderr:
                if LINE.match(line):  # its diagnostics (redacted there), on this process's stderr
                    sys.stderr.write(line)
                elif line.strip():
                    self.tail.append(line.rstrip())

    def relay(self, progress: Callable[[str], None], listening: Callable[[int], None] = lambda _: None,
              figures: FiguresSink | None = None) -> None:
        """Notices to `progress`; figures to `figures`, or as a line to `progress` every `TEXT_EVERY_S`."""
        said = 0.0
        with os.fdopen(self.read_fd, encoding="utf-8", errors="replace") as events:
            for line in events:
                event = decode(line)
                if isinstance(event, SetupError):
                    self.setup_error = event.message
                elif isinstance(event, Listening):
                    listening(event.port)
                elif isinstance(event, Progress) and figures is not None:
                    figures(load_figures(event))
                elif isinstance(event, Progress):
                    if event.elapsed_s - said >= TEXT_EVERY_S:
                        said = event.elapsed_s
                        progress(event.text())
                elif event is not None:
                    progress(event.text())

    def finished(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=5)


def load_figures(event: Progress) -> Figures:
    return Figures(stage="load", requests=event.requests, rps=event.rps, p95_ms=event.p95_ms, errors=event.failures,
                   coupons=event.coupons, users=event.users, remaining_s=event.remaining_s,
                   planned_s=event.run_time_s)


def run_load(settings: LoadSettings, out: Path, progress: Callable[[str], None] = lambda _: None, *,
             master_bind: str | None = None, master_port: int | None = None,
             figures: FiguresSink | None = None) -> LoadRunResult:
    """`settings.workers` > 0: a master and that many local workers; `master_bind`: a master that waits
    for `settings.workers` remote workers on that address.

    A KeyboardInterrupt (or `interrupts.Terminated`) is passed on to the load process, which stops in order: the
    partial result is returned, marked interrupted. Local workers live in their own session, stopped by the
    master (a Ctrl-C reaching them directly would cut their last report).
    """
    workers: list[subprocess.Popen[bytes]] = []
    main: subprocess.Popen[str] | None = None
    interrupted: int | None = None
    channel = _Channel()
    env = _child_env(settings)

    def start_workers(port: int) -> None:
        """Local workers, once the master listens (on the free port it bound: no port is chosen beforehand)."""
        if master_bind is None and not workers:
            workers.extend(subprocess.Popen(
                [*_command(out), "--role", "worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env, start_new_session=True)
                for _ in range(settings.workers))

    try:
        out.mkdir(parents=True, exist_ok=True)
        port = master_port if master_port is not None else 0  # 0: the master binds a free one and says which
        role = (["--role", "master", "--master-host", master_bind or "127.0.0.1", "--master-port", str(port),
                 "--expect-workers", str(settings.workers)] if settings.workers > 0 else ["--role", "local"])
        main = subprocess.Popen([*_command(out), f"--events-fd={channel.write_fd}", *role], stderr=subprocess.PIPE,
                                text=True, env=env, pass_fds=(channel.write_fd,))
        channel.started(main)
        _log.info("load process %d started (%s, %d local workers once it listens) for %s", main.pid,
                  "master" if settings.workers > 0 else "local", settings.workers if master_bind is None else 0,
                  out)
        channel.relay(progress, start_workers, figures)
        main.wait()
        _log.info("load process %d exited (%s)", main.pid, main.returncode)
    except KeyboardInterrupt as exc:
        interrupted = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
        _log.info("%s: passing it on to the load process", signal_name(interrupted))
        if main is not None:
            # `kill PID` or a CI timeout reaches only this process: pass it on (the load process takes one).
            with contextlib.suppress(OSError):
                os.kill(main.pid, interrupted)
            main.wait()
    finally:
        if main is None:
            os.close(channel.write_fd)
            os.close(channel.read_fd)
        elif main.poll() is None:  # an error of this process, not of the load process
            main.terminate()
            main.wait()
        channel.finished()
        if main is not None and main.stderr is not None:
            main.stderr.close()
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    result_path = out / RESULT_FILE
    if not result_path.is_file() and interrupted is not None:
        if main is None:
            return interrupted_result(settings, out, interrupted)
        return _empty_result(settings, out, f"interrupted by {signal_name(interrupted)}; the load process ended "
                                            f"(exit {main.returncode}) without its figures")
    if channel.setup_error is not None:
        raise HarnessError(Redactor(settings.credentials).text(channel.setup_error))
    if not result_path.is_file():
        code = main.returncode if main is not None else None
        # The last line the load process wrote to stderr (a traceback's exception), or nothing.
        crash = Redactor(settings.credentials).text(channel.tail[-1] if channel.tail else "")[:300]
        killed = code is not None and code < 0 and -code in set(signal.Signals)
        how = f"was killed ({signal.Signals(-code).name})" if killed else f"ended (exit {code})"  # type: ignore[operator]
        coupons = settings.coupons_path(out)
        raise HarnessError(f"the load process {how} without a result" + (f": {crash}" if crash else "")
                           + f"; {coupons} lists the {len(read_rows(coupons))} coupons recorded until then")
    result = read_result_file(result_path)
    result_path.unlink()
    return result


def read_result_file(path: Path) -> LoadRunResult:
    """The load process's result.json; one that does not fit (another version of the package) is a HarnessError."""
    try:
        return LoadRunResult.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, RecursionError) as exc:  # CodecError, a JSON that is not one
        raise HarnessError(f"the load process's result does not fit this coupon-harness ({exc}): it ran another "
                           "version of the package; reinstall coupon-harness and run again") from None


def run_worker(settings: LoadSettings, master_host: str, master_port: int) -> int:
    """A worker for a master on another machine; returns when the master ends the run."""
    with tempfile.TemporaryDirectory(prefix="coupon-harness-") as folder:
        return subprocess.call([*_command(Path(folder)), "--role", "worker", "--master-host", master_host,
                                "--master-port", str(master_port)], env=_child_env(settings))


def interrupted_result(settings: LoadSettings, out: Path, signum: int | None) -> LoadRunResult:
    """The result of a run interrupted before its load process started: nothing was sent."""
    return _empty_result(settings, out, f"interrupted by {signal_name(signum)} before the load process started: "
                                        "no request was sent")


def _empty_result(settings: LoadSettings, out: Path, reason: str) -> LoadRunResult:
    """A run that sent nothing (or whose figures are lost), its coupons.csv there all the same."""
    coupons = settings.coupons_path(out)
    out.mkdir(parents=True, exist_ok=True)
    if not coupons.exists():
        coupons.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    result = LoadRunResult(
        target=settings.base_url, started_at=datetime.now(UTC).isoformat(timespec="seconds"), duration_s=0.0,
        shape=settings.shape, users=settings.users, arrival_rate=settings.arrival_rate, workers=settings.workers,
        requests=0, status_counts={}, violation_counts={}, violation_examples={}, latency_ms={}, error_rate=0.0,
        entities=0, entity_failures=0, expected_failures=0, unexpected_failures=0, failure_ratio=0.0,
        entity_error_codes={}, coupons_issued=0, duplicate_codes=0, interrupted=True, stopped_reason=reason,
        request_timeout_s=settings.request_timeout)
    result.files = {"coupons.csv": str(coupons)}
    return result
