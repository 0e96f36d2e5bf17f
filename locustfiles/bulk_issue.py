"""Checked bulk-issue load under plain Locust, web UI included:

    locust -f locustfiles/bulk_issue.py --host http://127.0.0.1:8080 \
        --series-ids 101,102 --user sandbox:sandbox [--invalid-series-ids 999999 --invalid-share 0.1] \
        [--slo p95=300ms --slo error-rate=0.01] [--harness-report-dir reports/locust]

Every response is checked against the contract (contracts/), violations count as Locust failures
named by rule id, latencies go into an HDR histogram, and at the end the same report as
`coupon-harness load` is written and the exit code is 1 when an SLO is breached or a rule broken.
The load options are those of `coupon-harness load` (one option table): each also comes from its
COUPON_HARNESS_* variable or, through COUPON_HARNESS_CONFIG, a config-file target; Locust's own -u, -r, -t and
--host give users, spawn rate, run time and the target.
Without --series-ids (or without credentials) the target is asked GET /sandbox/info, as `coupon-harness
load` does: a coupon-harness sandbox names its series and demo user; any other target needs --series-ids.
Locust's own statistics (web UI, --json, --csv) count each request once and fail it exactly when the
harness counts an error: a 200 that breaks a rule fails with the rule id as its message.
The same safety as `coupon-harness load`: a Capillary production host is refused before any request
without --allow-production, and off loopback the coupons are capped (--max-coupons, default 10,000).
--abort-on-fail stops the run early (users finish the request in flight; the report is full and names why) once
an SLO can no longer be met or --abort-violations violations came; --prometheus-port PORT serves live figures
at http://127.0.0.1:PORT/metrics from the process that aggregates (alone or --master). Both are off by default.
"""

from __future__ import annotations

import signal
import sys
import time
from datetime import datetime
from typing import Any, NoReturn

import gevent
import gevent.lock
from locust import events
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner
from locust.stats import CSV_STATS_INTERVAL_SEC

from coupon_harness.cli.lifecycle import note_target, preflight_load, report_setup_error
from coupon_harness.cli.option_table import LOAD, LOCUST_OWNS, StoreOnce, add_options
from coupon_harness.cli.report_dir import prepare_report_dir, release_claims
from coupon_harness.cli.sandbox_target import sandbox_settings
from coupon_harness.cli.settings_builders import credentials, locust_options, locust_settings
from coupon_harness.coupon_log import FILE_NAME
from coupon_harness.errors import ConfigError, HarnessError, one_line
from coupon_harness.interrupts import signal_name
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.runners.load.discovery import sandbox_description
from coupon_harness.runners.load.plugin import WORKER_REPORT_S, ShareInbox, install
from coupon_harness.runners.load.user import BulkIssueUser
from coupon_harness.safety import refuse_production
from coupon_harness.transport.auth import Redactor
from coupon_harness.transport.outbound import OutboundPolicy

__all__ = ["BulkIssueUser"]

_state: dict[str, Any] = {}
#: One report written at a time (a web-UI stop's and Locust's quit may overlap).
_writing = gevent.lock.Semaphore()


def _options(parser: Any) -> None:
    """The load options of `coupon-harness load` (same names, COUPON_HARNESS_* variables and config keys, from
    the one option table) less those Locust has itself (--host, -u, -r, -t, ...), plus the report folder."""
    add_options(parser, LOAD, exclude=LOCUST_OWNS, short=False)
    parser.add_argument("--harness-report-dir", default="", action=StoreOnce, help="where the harness report goes "
                        "(default reports/locust-<time>-<random>/; one locust run writes there at a time)")


def _install(environment: Any, **_kwargs: Any) -> None:
    options = environment.parsed_options
    if options is None:  # library use: the caller installs the plugin itself
        return
    runner = environment.runner
    role = "worker" if isinstance(runner, WorkerRunner) else "master" if isinstance(runner, MasterRunner) else "local"
    # A worker is connected already: its master may start the test (and send its share of the cap) while the
    # preflight below runs. Listen for the share now; the users that start meanwhile wait for the plugin.
    inbox = ShareInbox(environment) if role == "worker" else None
    # The lifecycle of every way in (coupon_harness/cli/lifecycle.py): validate every flag, claim the report folder,
    # preflight the target, then the users start. Every refusal is one line and exit 2 before any user starts.
    try:
        resolved = locust_options(options)
        base_url = (environment.host or options.host or "").rstrip("/")
        # Before the sandbox is asked (a production host gets no request at all) and before the report folder;
        # the message names Locust's flag (--host), not the CLI's --base-url.
        refuse_production(base_url, allow=bool(resolved.get("allow-production")), url_flag="--host")
        known = None
        if not resolved.given("series-ids") or not credentials(resolved).any:
            # As `coupon-harness load`: a sandbox names its series and demo user; a real target is left alone.
            policy = OutboundPolicy(timeout=3.0, allow_production=bool(resolved.get("allow-production")),
                                    url_flag="--host")
            info = sandbox_description(base_url, policy) if base_url else None
            known = None if info is None else sandbox_settings(ContractSettings(base_url), info)
        if not resolved.given("series-ids") and (known is None or not known.expectations.valid_series):
            # Without it no user could send: one line, exit 2, no user starts.
            where = f"{base_url} is not a coupon-harness sandbox (no /sandbox/info)" if base_url else "no --host"
            raise ConfigError(f"--series-ids is required: the valid series to issue from, e.g. --series-ids "
                              f"101,102 (or COUPON_HARNESS_SERIES_IDS); {where}")
        settings = locust_settings(options, base_url, known=known, resolved=resolved)
        folder = None
        if role != "worker":
            # One writer a folder: a second locust given the same --harness-report-dir is refused. Reusing a folder
            # between runs replaces its reports (keeping an earlier coupons.csv aside), as plain locust always did.
            folder = prepare_report_dir(options.harness_report_dir or None, "locust", overwrite=True,
                                        flag="--harness-report-dir")
            note_target(Redactor(settings.credentials).text(base_url))
        if role != "master":  # who sends tries the target first (a worker's coupons go to its master's list)
            settings = preflight_load(settings, folder, progress=_say)
        state = install(environment, settings, role, folder / FILE_NAME if folder is not None else None,
                        expected_workers=max(getattr(options, "expect_workers", 1) or 1, 1), share_inbox=inbox)
    except HarnessError as exc:
        _refuse(str(exc))
    if not environment.stop_timeout:
        # As `coupon-harness load`: at the end users finish the request in flight (it ends by its deadline at the
        # latest), so every request is counted and every coupon the target issued is in coupons.csv (Locust's
        # default, 0, kills them mid-request). --stop-timeout wins.
        environment.stop_timeout = settings.stop_timeout_s()
    if state.aggregate is not None:
        # The duration counts traffic (first request sent to last answer received); in the web UI the idle time
        # between two tests is left out: a gap without any request in flight longer than this ends a span (users
        # that run leave no such gap, unless all of them wait at once: --wait or the open model's schedule).
        state.aggregate.bridge_s = max(1.0, 2 * settings.wait_s, 2 * state.arrival_interval)
    _state.update(settings=settings, folder=folder, started=datetime.now(), state=state, traffic=_Traffic())
    # Ctrl-C in a greenlet of its own, as in `coupon-harness load`: Python's KeyboardInterrupt lands in whatever
    # greenlet runs, often a user mid-request, whose answer (and its coupons) would be lost, with a traceback.
    gevent.signal_handler(signal.SIGINT, _interrupt, environment)


def _interrupt(environment: Any) -> None:
    """Stop the users (they finish the request in flight), then end Locust as its own Ctrl-C would: its main
    greenlet ends, Locust shuts down (the report is written on `quitting`). A second Ctrl-C is ignored.
    The run counts as interrupted only if users were running: Ctrl-C is how a web-UI session ends."""
    if _state.get("signalled"):
        return
    _state["signalled"] = True
    runner = environment.runner
    state = _state.get("state")
    if runner is not None and runner.state in (STATE_SPAWNING, STATE_RUNNING) and state is not None:
        _state["interrupted"] = True
        state.stopped_reason = state.stopped_reason or f"interrupted by {signal_name(signal.SIGINT)}"

    def finish() -> None:
        if environment.runner is not None:
            environment.runner.quit()
        if environment.web_ui is not None:
            environment.web_ui.stop()

    gevent.spawn(finish)


def _say(text: str) -> None:
    sys.stderr.write(f"coupon-harness locustfile: {text}\n")


def _refuse(message: str) -> NoReturn:
    """One line, exit 2; a claimed report folder gets the setup error's junit.xml, summary.json and report.md."""
    report_setup_error("locust", message)
    release_claims()
    sys.stderr.write(f"coupon-harness locustfile: error: {one_line(message)}\n")
    raise SystemExit(2)


class _Traffic:
    """When users ran and how many: a web-UI run idles before its first swarm and between tests, and its
    --users is unset (the swarm form sets the count); the report counts traffic, not the process's life (its
    duration is the aggregate's, from the first request to the last answer; this one only when none came)."""

    def __init__(self) -> None:
        self.first_start: datetime | None = None
        self.since: float | None = None
        self.spent_s = 0.0
        self.users = 0
        self.tests = 0
        self.stats_resets = 0
        #: The report's requests each time it was written at a stop (web UI): what each test added.
        self.requests_at_stop: list[int] = []
        self.users_of_test: list[int] = []

    def start(self, users: int) -> None:
        if self.since is None:
            self.since = time.monotonic()
            self.tests += 1
            self.users_of_test.append(users)
        self.first_start = self.first_start or datetime.now()
        self.users = max(self.users, users)

    def stop(self) -> None:
        if self.since is not None:
            self.spent_s += time.monotonic() - self.since
            self.since = None

    def index(self, total: int) -> list[str]:
        """A web-UI session of several tests: one line per test (its users, the requests it made), so that the
        report, which counts them all, reads beside Locust's statistics, which count the last test only."""
        if self.tests < 2:
            return []
        ends = [*self.requests_at_stop[:self.tests - 1], total]
        made = [end - begin for begin, end in zip([0, *ends], ends, strict=False)]
        return [f"test {number}: {users} users, {count:,} requests"
                for number, (users, count) in enumerate(zip(self.users_of_test, made, strict=False), start=1)]

    def duration_s(self) -> float:
        return self.spent_s + (time.monotonic() - self.since if self.since is not None else 0.0)


def _traffic() -> _Traffic | None:
    traffic = _state.get("traffic")
    return traffic if isinstance(traffic, _Traffic) else None


def _test_start(environment: Any, **_kwargs: Any) -> None:
    settings, state = _state.get("settings"), _state.get("state")
    host = (environment.host or "").rstrip("/")
    if settings is not None and state is not None and host and host != settings.base_url:
        sys.stderr.write(state.redactor.text(
            f"coupon-harness locustfile: the users send to --host {settings.base_url}, not to {host}: the "
            "production guard and the coupon cap were settled for --host; restart locust with --host to test "
            "another target") + "\n")
    traffic = _traffic()
    if traffic is not None:
        traffic.start(int(getattr(environment.runner, "target_user_count", 0) or 0))


def _spawned(user_count: int, **_kwargs: Any) -> None:
    traffic = _traffic()
    if traffic is not None:  # a web-UI run may change the count while it runs
        traffic.users = max(traffic.users, int(user_count))


def _test_stop(environment: Any, **_kwargs: Any) -> None:
    traffic = _traffic()
    if traffic is not None:
        traffic.stop()
    options = environment.parsed_options
    if environment.web_ui is not None and options is not None and not options.headless and not _state.get(
            "signalled"):
        gevent.spawn(_report_this_test, environment)


def _stats_reset(**_kwargs: Any) -> None:
    traffic = _traffic()
    if traffic is not None:
        traffic.stats_resets += 1


def _report(environment: Any, **_kwargs: Any) -> None:
    """Locust quits: the session's report, the exit code, and the lines said at exit."""
    state = _state.get("state")
    if state is None or state.role == "worker" or _traffic() is None:
        return
    runner = environment.runner
    if runner is not None and runner.state in (STATE_SPAWNING, STATE_RUNNING):
        # Ctrl-C reaches here with users still running: stop them first, so that the report and Locust's
        # own statistics (printed after this) count the same requests.
        runner.stop()
    if getattr(environment.parsed_options, "csv_prefix", None):
        # Locust rewrites its --csv files every CSV_STATS_INTERVAL_SEC and not at the end: let it write once
        # more now that the users have stopped, so its CSV counts what its --json and this report count.
        gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.25)
    with _writing:
        lines = _write_report(environment)
    release_claims()
    # Said last, after Locust's own tables (its `quit` event): the lines `coupon-harness load` ends with.
    _state["last_lines"] = lines


def _write_report(environment: Any, *, final: bool = True) -> list[str]:
    """Write the session's report (every request since Locust started) into the report folder, replacing the one
    there; set the exit code; return the verdict line and where the report is (none after a setup error).
    `final` False: a web-UI stop, the session goes on (coupons.csv stays open)."""
    from dataclasses import replace

    from coupon_harness.reporting.load.document import load_verdict_line, write_load_reports
    from coupon_harness.runners.load.result import build_result

    state, traffic = _state["state"], _traffic()
    if traffic is None:
        return []
    state.flush()
    if state.setup_error is not None:  # a token endpoint that redirected, coupons.csv on a full disk: exit 2
        message = state.final_setup_error() or state.setup_error
        report_setup_error("locust", message)
        release_claims()
        sys.stderr.write(f"coupon-harness locustfile: error: {message}\n")
        environment.process_exit_code = 2
        return []
    settings = _state["settings"]
    started = traffic.first_start or _state["started"]
    result = build_result(replace(settings, users=traffic.users or settings.users), state,
                          started.isoformat(timespec="seconds"), state.traffic_s(traffic.duration_s()),
                          interrupted=bool(_state.get("interrupted")), workers=0, final=final)
    result.files = {"coupons.csv": str(_state["folder"] / FILE_NAME)}  # the codes, for revocation
    result.files.update(_locust_files(environment.parsed_options))
    if traffic.tests > 1 or traffic.stats_resets or getattr(environment.parsed_options, "reset_stats", False):
        result.notes.append(f"Locust cleared its statistics during the run ({traffic.tests} tests, "
                            f"{traffic.stats_resets} resets): this report counts every request of the run, "
                            "Locust's statistics only those since it last cleared them")
    result.notes.extend(traffic.index(result.requests))
    write_load_reports(result, _state["folder"])
    if result.no_answer is not None:  # no verdict without evidence: said in one line, as `coupon-harness load`
        sys.stderr.write(f"coupon-harness locustfile: {result.no_answer}\n")
    environment.process_exit_code = None if result.holds else 1
    return [load_verdict_line(result), f"reports: {_state['folder']}"]


def _report_this_test(environment: Any) -> None:
    """The web UI stopped a test: the session's report now (not only when Locust quits), once the workers' last
    figures are in (a master waits for each worker's last delta, sent after its users stopped)."""
    state = _state.get("state")
    if state is None:
        return
    if state.role == "master":
        # Locust's master fires test_stop once its workers' users stopped; their last figures follow (the next
        # report, within WORKER_REPORT_S). A worker that is gone is waited for a few reports at most.
        deadline = time.monotonic() + 4 * WORKER_REPORT_S + 1.0
        while not state.test_workers <= state.finished_workers and time.monotonic() < deadline:
            gevent.sleep(0.05)
    traffic = _traffic()
    if traffic is None or _state.get("signalled"):  # Ctrl-C: the report is written as Locust quits
        return
    with _writing:
        lines = _write_report(environment, final=False)
        traffic.requests_at_stop.append(_state["state"].aggregate.requests)
    sys.stderr.write("".join(f"coupon-harness locustfile: test {traffic.tests} stopped: {line}\n"
                             for line in lines))
    sys.stderr.flush()


def _last_lines(**_kwargs: Any) -> None:
    """At exit, after Locust's tables: the verdict (`PASS: ...`/`FAIL: <why>`) and where the report is, on stderr
    (stdout may be Locust's --json)."""
    for line in _state.get("last_lines", ()):
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _locust_files(options: Any) -> dict[str, str]:
    """The files Locust itself writes when asked (--csv, --html, --json-file); the CSV and JSON after this report."""
    files: dict[str, str] = {}
    prefix = getattr(options, "csv_prefix", None)
    if prefix:
        for kind in ("stats", "failures", "exceptions"):
            files[f"locust {kind}.csv"] = f"{prefix}_{kind}.csv"
        if getattr(options, "stats_history_enabled", False):
            files["locust stats_history.csv"] = f"{prefix}_stats_history.csv"
    if getattr(options, "html_file", None):  # its {u}, {r}, {t} filled in by now: Locust writes it first
        files["locust report.html"] = str(options.html_file)
    if getattr(options, "json_file", None):
        files["locust stats.json"] = f"{options.json_file}.json"  # Locust adds .json
    return files


# Registered by call through Any, not as decorators: Locust's add_listener is untyped (mypy strict).
_events: Any = events
_events.init_command_line_parser.add_listener(_options)
_events.init.add_listener(_install)
_events.test_start.add_listener(_test_start)
_events.spawning_complete.add_listener(_spawned)
_events.test_stop.add_listener(_test_stop)
_events.reset_stats.add_listener(_stats_reset)
_events.quitting.add_listener(_report)
_events.quit.add_listener(_last_lines)
