"""`coupon-harness load`: a checked load run with SLO gates."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from typing import Any

from coupon_harness.cli.console import progress_display, say
from coupon_harness.cli.contract_cmd import use_color
from coupon_harness.cli.exit_codes import EXIT_HARNESS_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_VIOLATIONS
from coupon_harness.cli.lifecycle import check_reports, claim_folder, command_options, preflight_load, write_reports
from coupon_harness.cli.option_table import LOAD, Resolved, add_command
from coupon_harness.cli.settings_builders import check_load_options, contract_settings, load_settings, target_url
from coupon_harness.errors import ConfigError
from coupon_harness.results.load import LoadRunResult, MaxRegression
from coupon_harness.runners.load.abort import PREFIX as ABORT_PREFIX
from coupon_harness.runners.load.settings import LoadSettings
from coupon_harness.transport.auth import Redactor

__all__ = ["Earlier", "check_metrics_port", "earlier_run", "execute_load", "load_exit_code", "register"]

#: The earlier run of --compare (read before any request), where it was read, and the --max-regression limits.
Earlier = tuple[LoadRunResult, str, tuple[MaxRegression, ...]]


def register(commands: Any) -> None:
    add_command(commands, "load", _handle, LOAD, help="load the target, check every response, gate on SLOs",
                description="Load POST /v2/coupon/bulk/issue with Locust, check every response against the contract, "
                "measure exact percentiles and gate on SLOs. Exit 0: every SLO met and no violation; 1: an SLO "
                "breached or a violation found; 2: the harness could not run; 130 (SIGINT) or 143 (SIGTERM): "
                "interrupted (the report is still written).")


def check_metrics_port(settings: LoadSettings) -> None:
    """--prometheus-port must be free before the run starts (exit 2, no report folder)."""
    port, host = settings.prometheus_port, settings.prometheus_host
    if port is None:
        return
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the metrics server binds
            probe.bind(address)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"--prometheus-port {port}: cannot listen on {host}:{port} ({reason}): choose a free "
                          "port") from None


def earlier_run(resolved: Resolved) -> Earlier | None:
    """The --compare run, read and checked before any request; None without --compare."""
    limits = tuple(resolved.get("max-regression") or ())
    path = resolved.get("compare")
    if path is None:
        if limits:
            raise ConfigError(f"{resolved.label('max-regression')} needs {resolved.flag_prefix}compare (the earlier "
                              "run to compare with)")
        return None
    from coupon_harness.reporting.load.summary_json import read_earlier

    try:
        earlier = read_earlier(Path(path))
    except ValueError as exc:
        raise ConfigError(f"{resolved.label('compare')}: {exc}") from None
    return earlier, str(path), limits


def _handle(args: argparse.Namespace) -> int:
    from coupon_harness.cli.lifecycle import import_now
    from coupon_harness.cli.sandbox_target import discover_sandbox

    resolved = command_options(args, LOAD)
    target_url(resolved)  # the URL checked, production refused: before the other options
    check_load_options(resolved)  # every option before any request, the sandbox discovery included
    worker, master = bool(resolved.get("worker")), bool(resolved.get("master"))
    earlier = None if worker else earlier_run(resolved)
    if not worker:
        check_reports(resolved)
    # A sandbox tells its series and demo user, where the options give none; a real target says nothing.
    settings = load_settings(resolved, known=discover_sandbox(contract_settings(resolved)))
    if worker:
        from coupon_harness.runners.load.runner import run_worker

        # A worker sends: it tries its target first; the coupons its preflight issued travel to the master's list.
        settings = preflight_load(settings, None)
        return run_worker(settings, resolved.get("master-host", "127.0.0.1"), resolved.get("master-port", 5557))
    check_metrics_port(settings)
    import_now("coupon_harness.reporting.load.compare", "coupon_harness.reporting.load.document",
               "coupon_harness.runners.load.runner")
    report_dir = claim_folder(resolved, "load", Redactor(settings.credentials).text(settings.base_url))
    result, _ = execute_load(settings, report_dir, color=use_color(resolved),
                             master_bind=resolved.get("master-bind-host", "127.0.0.1") if master else None,
                             master_port=resolved.get("master-port", 5557) if master else None,
                             earlier=earlier, preflight=not master)  # a master sends nothing; its workers try
    say(f"reports: {report_dir}")
    return load_exit_code(result)


def execute_load(settings: LoadSettings, report_dir: Path, *, color: bool, master_bind: str | None = None,
                 master_port: int | None = None, earlier: Earlier | None = None, preflight: bool = True,
                 ) -> tuple[LoadRunResult, dict[str, Path]]:
    """Preflight the target (not `preflight`: a master, whose workers send), run the load, compare it with
    `earlier` (--compare), write its reports and print its table."""
    from coupon_harness.interrupts import armed, received
    from coupon_harness.reporting.load.compare import compare_runs
    from coupon_harness.reporting.load.document import redact_load_result, render_load_table, write_load_reports
    from coupon_harness.results.request import credentials_help, headers_help
    from coupon_harness.runners.load.runner import interrupted_result, run_load

    # The load process redacts what it records (it alone knows its tokens); this process again, with its secrets.
    redact = Redactor(settings.credentials).text
    notes: list[str] = []
    try:
        armed()  # a signal held since the folder's claim (lifecycle.claim_folder) raises here, into its report
        with progress_display(redact, color=color) as progress:
            if preflight:
                def note(text: str) -> None:
                    notes.append(text.removeprefix("note: "))
                    progress(text)

                settings = preflight_load(settings, report_dir, progress=note)
            mode = f"{settings.arrival_rate:g} req/s" if settings.arrival_rate else f"{settings.users} users"
            progress(f"load run against {settings.base_url}: {mode}, {settings.run_time_s:g}s, shape "
                     f"{settings.shape}")
            result = run_load(settings, report_dir, progress, master_bind=master_bind, master_port=master_port,
                              figures=progress.figures)
    except KeyboardInterrupt:  # before run_load could take it: the report folder still gets its report
        result = interrupted_result(settings, report_dir, received())
    result.notes[:0] = notes
    result = redact_load_result(result, redact)
    if result.violation_samples:  # how to run the reports' curl commands
        helps = credentials_help(settings.credentials.kind), headers_help(settings.credentials.access()["header_names"])
        result.notes += [how for how in helps if how is not None]
    if earlier is not None:
        before, source, limits = earlier
        result.comparison = compare_runs(before, result, limits, source=redact(source))
    paths = write_reports(lambda: write_load_reports(result, report_dir),
                          lambda: render_load_table(result, color=color))
    return result, paths


def load_exit_code(result: LoadRunResult) -> int:
    if result.harness_errors:
        print("coupon-harness load: error: the harness itself failed during the run (please report it): "
              + "; ".join(result.harness_errors[:3]), file=sys.stderr)
        return EXIT_HARNESS_ERROR
    if result.no_answer is not None:  # no verdict without evidence: said in one line (and in every report)
        print(f"coupon-harness load: {result.no_answer}", file=sys.stderr)
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.stopped_reason is not None and result.stopped_reason.startswith(ABORT_PREFIX):
        # Stopped because it could no longer pass: the answers in flight at the stop cannot turn that into a pass.
        return EXIT_VIOLATIONS
    return EXIT_OK if result.holds and not result.regressed else EXIT_VIOLATIONS
