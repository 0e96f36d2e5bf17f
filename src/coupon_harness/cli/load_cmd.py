"""`coupon-harness load`: a checked load run with SLO gates."""

from __future__ import annotations

import argparse
import socket
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from coupon_harness.cli.exit_codes import EXIT_HARNESS_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_VIOLATIONS
from coupon_harness.cli.options import add_target_flags, check_base_url, target_from_args
from coupon_harness.config import TargetConfig, check_int, check_number
from coupon_harness.errors import ConfigError, TargetUnreachable
from coupon_harness.load_results import LoadRunResult
from coupon_harness.runners.load.settings import SHAPES, LoadSettings, Slo, parse_duration, parse_slo
from coupon_harness.safety import DEFAULT_MAX_COUPONS, coupon_cap, refuse_production

__all__ = ["MAX_RATE", "MAX_USERS", "MAX_WORKERS", "check_max_coupons", "check_run_time", "check_users",
           "execute_load", "load_exit_code", "load_settings", "register"]

#: Bounds that keep a typo from eating the machine: every user holds a connection and a greenlet.
MAX_USERS = 100_000
#: Requests (or users started) per second.
MAX_RATE = 100_000.0
MAX_WORKERS = 256
_MAX_COUPONS_LIMIT = 2**63 - 1


def register(commands: Any) -> None:
    parser = commands.add_parser("load", help="load the target, check every response, gate on SLOs",
                                 description="Load POST /v2/coupon/bulk/issue with Locust, check every response "
                                 "against the contract, measure exact percentiles and gate on SLOs. Exit 0: every "
                                 "SLO met and no violation; 1: an SLO breached or a violation found; 2: the "
                                 "harness could not run; 130: interrupted (the report is still written).")
    add_target_flags(parser, base_url_required=True)
    add_load_flags(parser)
    parser.add_argument("--report-dir", metavar="DIR", help="where the reports go (default "
                        "reports/load-<time>-<random>/)")
    parser.add_argument("--overwrite", action="store_true", help="write into a --report-dir that already holds "
                        "reports (refused without it)")
    parser.add_argument("--no-color", action="store_true", help="no ANSI colours")
    parser.set_defaults(handler=_handle)


def add_load_flags(parser: argparse.ArgumentParser) -> None:
    load = parser.add_argument_group("load")
    load.add_argument("--invalid-share", type=float, default=0.0, metavar="0.1",
                      help="share of batch slots given an invalid series (default 0)")
    load.add_argument("--batch-size", default="1-2", metavar="MIN-MAX",
                      help="series per request, drawn uniformly (default 1-2)")
    load.add_argument("--users", type=int, default=None, metavar="N", help="concurrent users (default 10)")
    load.add_argument("--spawn-rate", type=float, default=None, metavar="R", help="users started per second")
    load.add_argument("--run-time", default="30s", metavar="30s", help="how long (default 30s)")
    load.add_argument("--wait", default=None, metavar="0.5s", help="think time between a user's requests")
    load.add_argument("--arrival-rate", type=float, default=None, metavar="R",
                      help="open model: R requests/s, latency measured from the intended send time")
    load.add_argument("--shape", choices=SHAPES, default="steady", help="steady, ramp, spike or soak")
    load.add_argument("--slo", action="append", default=[], metavar="KEY=VALUE",
                      help="p50|p90|p95|p99|max=300ms, error-rate=0.01, failure-ratio=0.02 (repeatable)")
    load.add_argument("--workers", type=int, default=0, metavar="N", help="N local worker processes under a master")
    load.add_argument("--master", action="store_true", help="be the master of a distributed run (waits for "
                      "--expect-workers workers)")
    load.add_argument("--expect-workers", type=int, default=1, metavar="N", help="with --master")
    load.add_argument("--worker", action="store_true", help="be a worker of the master at --master-host")
    load.add_argument("--master-host", default="127.0.0.1", metavar="H")
    load.add_argument("--master-port", type=int, default=5557, metavar="P")
    load.add_argument("--master-bind-host", default="127.0.0.1", metavar="H",
                      help="address a --master listens on (default 127.0.0.1; 0.0.0.0 for other machines)")
    load.add_argument("--max-coupons", type=int, default=None, metavar="N",
                      help=f"stop after N coupons (default {DEFAULT_MAX_COUPONS} against any non-loopback host)")
    load.add_argument("--allow-production", action="store_true",
                      help="allow a run against a Capillary production host (issues real coupons)")
    load.add_argument("--request-timeout", type=float, default=None, metavar="S",
                      help="seconds before a request counts as failed (default 10)")


def check_users(value: object, what: str) -> int:
    return check_int(value, what, low=1, high=MAX_USERS)


def check_run_time(text: str, what: str) -> float:
    seconds = parse_duration(text, what)
    if seconds <= 0:
        raise ConfigError(f"{what} {text!r} must be longer than 0, e.g. 30s")
    return seconds


def check_max_coupons(value: int | None, what: str = "--max-coupons") -> int | None:
    return None if value is None else check_int(value, what, low=1, high=_MAX_COUPONS_LIMIT)


@dataclass(frozen=True, slots=True)
class _LoadArgs:
    """The load flags, checked: everything that needs no request to the target."""

    users: int
    spawn_rate: float
    run_time_s: float
    wait_s: float
    slos: tuple[Slo, ...]
    batch_min: int
    batch_max: int
    max_coupons: int | None
    workers: int


def check_load_args(args: argparse.Namespace) -> _LoadArgs:
    """Every load flag, before any request (the sandbox discovery included)."""
    check_number(args.invalid_share, "--invalid-share", low=0, high=1)
    low, sep, high = str(args.batch_size).partition("-")
    shown = str(args.batch_size)[:40]
    try:
        if sep and not high.strip():
            raise ValueError
        batch_min, batch_max = int(low), int(high or low)
    except ValueError:
        raise ConfigError(f"--batch-size {shown!r}: write MIN-MAX like 1-5, or one number") from None
    if not 1 <= batch_min <= batch_max:
        raise ConfigError(f"--batch-size {shown!r}: need 1 <= MIN <= MAX")
    if args.arrival_rate is not None:
        check_number(args.arrival_rate, "--arrival-rate", low=0, high=MAX_RATE, low_open=True,
                     unit=" requests per second")
        if args.shape != "steady":
            raise ConfigError("--arrival-rate runs at a constant rate: drop --shape (or use --users for shapes)")
    if args.users is not None:
        users = check_users(args.users, "--users")
    else:
        users = max(10, int(args.arrival_rate)) if args.arrival_rate else 10
    spawn_rate = float(users) if args.spawn_rate is None else check_number(
        args.spawn_rate, "--spawn-rate", low=0, high=MAX_RATE, low_open=True, unit=" users per second")
    workers = check_int(args.workers, "--workers", low=0, high=MAX_WORKERS)
    if args.master:
        workers = check_int(args.expect_workers, "--expect-workers", low=1, high=MAX_WORKERS)
    check_int(args.master_port, "--master-port", low=1, high=65535)
    return _LoadArgs(
        users=users, spawn_rate=spawn_rate, run_time_s=check_run_time(args.run_time, "--run-time"),
        wait_s=parse_duration(args.wait, "--wait") if args.wait else 0.0,
        slos=tuple(parse_slo(s) for s in args.slo), batch_min=batch_min, batch_max=batch_max,
        max_coupons=check_max_coupons(args.max_coupons), workers=workers)


def load_settings(target: TargetConfig, args: argparse.Namespace) -> LoadSettings:
    checked = check_load_args(args)
    base_url = check_base_url(target.base_url)
    refuse_production(base_url, allow=args.allow_production)
    if not target.series_ids:
        raise ConfigError("a load run needs series that issue coupons: give --series-ids 101,102")
    if args.invalid_share > 0 and not target.invalid_series_ids:
        raise ConfigError("--invalid-share needs --invalid-series-ids")
    return LoadSettings(
        base_url=base_url, series_ids=tuple(target.series_ids),
        invalid_series_ids=tuple(target.invalid_series_ids or ()),
        generic_series_ids=tuple(target.generic_series_ids or ()), invalid_share=args.invalid_share,
        batch_min=checked.batch_min, batch_max=checked.batch_max, customer_ids=tuple(target.customer_ids or ()),
        user=target.user, password=target.password, md5_password=bool(target.md5_password),
        oauth_key=target.oauth_key, oauth_secret=target.oauth_secret, token=target.token,
        users=checked.users, spawn_rate=checked.spawn_rate, run_time_s=checked.run_time_s, wait_s=checked.wait_s,
        arrival_rate=args.arrival_rate, shape=args.shape, slos=checked.slos, workers=checked.workers,
        max_coupons=coupon_cap(base_url, checked.max_coupons), allow_production=args.allow_production,
        request_timeout=target.request_timeout if target.request_timeout is not None else 10.0,
    )


def check_reachable(base_url: str, timeout: float) -> None:
    """A TCP connection to the target before any load process starts: a run against nothing would hammer a
    closed port for its whole run time and end as SLO breaches (exit 1), not as the setup error it is."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # never the userinfo
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=min(timeout, 5.0)):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise TargetUnreachable(f"cannot reach {where} ({reason}): is the server running? check --base-url") from None


def _handle(args: argparse.Namespace) -> int:
    from coupon_harness.cli.options import settings_from_args
    from coupon_harness.cli.report_dir import check_report_dir, prepare_report_dir
    from coupon_harness.cli.sandbox_target import discover_sandbox

    target = target_from_args(args)
    base_url = check_base_url(target.base_url)
    refuse_production(base_url, allow=args.allow_production)
    check_load_args(args)  # every flag before any request, the sandbox discovery included
    if not args.worker:
        check_report_dir(args.report_dir, overwrite=args.overwrite)
    if not target.series_ids or not (target.user or target.token or target.oauth_key):
        # A sandbox tells its series and demo user; a real target is left as it is.
        known = discover_sandbox(settings_from_args(replace(target, series_ids=target.series_ids)))
        target = replace(
            target,
            series_ids=target.series_ids or tuple(sorted(known.expectations.valid_series)) or None,
            invalid_series_ids=target.invalid_series_ids or tuple(sorted(known.expectations.invalid_series)),
            generic_series_ids=target.generic_series_ids or tuple(sorted(known.expectations.generic_series)),
            user=target.user or known.credentials.user, password=target.password or known.credentials.password)
    settings = load_settings(target, args)
    if args.worker:
        from coupon_harness.runners.load.runner import run_worker

        return run_worker(settings, args.master_host, args.master_port)
    if not args.master:  # a master sends nothing itself; its workers may run where the target is
        check_reachable(settings.base_url, settings.request_timeout)
    _import_the_run()
    report_dir = prepare_report_dir(args.report_dir, "load", overwrite=args.overwrite)
    result, _ = execute_load(settings, report_dir, color=not args.no_color and sys.stdout.isatty(),
                             master_bind=args.master_bind_host if args.master else None,
                             master_port=args.master_port if args.master else None)
    print(f"reports: {report_dir}", file=sys.stderr)
    return load_exit_code(result)


def _import_the_run() -> None:
    """Import what the run and its reports need before the report folder exists: a signal while these
    imports ran would leave an empty folder; from the folder on, a signal gives a partial report."""
    import coupon_harness.reporting.load_console
    import coupon_harness.reporting.load_writer
    import coupon_harness.runners.load.runner  # noqa: F401


def execute_load(settings: LoadSettings, report_dir: Path, *, color: bool, master_bind: str | None = None,
                 master_port: int | None = None) -> tuple[LoadRunResult, dict[str, Path]]:
    from coupon_harness.interrupts import held, received
    from coupon_harness.reporting import ProgressPrinter
    from coupon_harness.reporting.load_console import render_load_table
    from coupon_harness.reporting.load_writer import redact_load_result, write_load_reports
    from coupon_harness.runners.load.runner import interrupted_result, run_load
    from coupon_harness.transport.auth import Credentials, Redactor

    # The load process redacts what it records (it alone knows the tokens it fetched); this process redacts
    # again, with every secret it holds, every line it relays and every text of the result it reports.
    redact = Redactor(Credentials(user=settings.user, password=settings.password,
                                  md5_password=settings.md5_password, oauth_key=settings.oauth_key,
                                  oauth_secret=settings.oauth_secret, token=settings.token)).text
    try:
        progress = ProgressPrinter(redact=redact)
        mode = f"{settings.arrival_rate:g} req/s" if settings.arrival_rate else f"{settings.users} users"
        progress(f"load run against {settings.base_url}: {mode}, {settings.run_time_s:g}s, shape {settings.shape}")
        result = run_load(settings, report_dir, progress, master_bind=master_bind, master_port=master_port)
    except KeyboardInterrupt:  # before run_load could take it: the report folder still gets its report
        result = interrupted_result(settings, report_dir, received())
    result = redact_load_result(result, redact)
    with held():  # a signal now must not cut the reports in half; the run still ends as interrupted
        paths = write_load_reports(result, report_dir)
        print(render_load_table(result, color=color))
    return result, paths


def load_exit_code(result: LoadRunResult) -> int:
    if result.harness_errors:
        print("coupon-harness load: error: the harness itself failed during the run (please report it): "
              + "; ".join(result.harness_errors[:3]), file=sys.stderr)
        return EXIT_HARNESS_ERROR
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if result.holds else EXIT_VIOLATIONS
