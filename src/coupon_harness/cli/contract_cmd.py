"""`coupon-harness contract`: the contract gate against one target."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from coupon_harness.cli.exit_codes import EXIT_HARNESS_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_VIOLATIONS
from coupon_harness.cli.options import add_target_flags, check_base_url, settings_from_args, target_from_args
from coupon_harness.cli.report_dir import check_report_dir, prepare_report_dir
from coupon_harness.cli.sandbox_target import discover_sandbox
from coupon_harness.results import ContractRunResult
from coupon_harness.runners.contract import run_contract
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.safety import refuse_production

__all__ = ["execute_contract", "exit_code", "fault_lines", "register"]


def register(commands: Any) -> None:
    parser = commands.add_parser("contract", help="test a target against the contract (CI gate)",
                                 description="Test a target against the contract of POST /v2/coupon/bulk/issue. "
                                 "Exit 0: the contract holds; 1: violations found; 2: the harness could not run, "
                                 "or met a bug of its own in a pass (the other passes ran; its traceback is "
                                 "in the report folder); 130: interrupted (a partial report is written).")
    add_target_flags(parser, base_url_required=True)
    add_run_flags(parser)
    parser.add_argument("--allow-production", action="store_true",
                        help="allow a run against a Capillary production host (issues real coupons)")
    parser.set_defaults(handler=_handle)


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    run = parser.add_argument_group("run")
    run.add_argument("--max-examples", type=int, metavar="N", help="examples per generated pass (default 100)")
    run.add_argument("--seed", type=int, metavar="N", help="replay a run: the seed a report names")
    run.add_argument("--request-timeout", type=float, metavar="S", help="seconds before a request counts as hung "
                     "(default 5)")
    run.add_argument("--report-dir", metavar="DIR", help="where the reports go (default "
                     "reports/contract-<time>-<random>/; an existing one with reports needs --overwrite)")
    run.add_argument("--no-color", action="store_true", help="no ANSI colours in the console table")
    run.add_argument("--overwrite", action="store_true", help="write into a --report-dir that already holds "
                     "reports (refused without it)")


def _handle(args: argparse.Namespace) -> int:
    target = target_from_args(args)
    # Before any request, the sandbox discovery included; the contract runner checks again.
    refuse_production(check_base_url(target.base_url), allow=args.allow_production)
    check_report_dir(target.report_dir, overwrite=args.overwrite)
    settings = replace(discover_sandbox(settings_from_args(target)), allow_production=args.allow_production)
    report_dir = prepare_report_dir(target.report_dir, "contract", overwrite=args.overwrite)
    result, paths = execute_contract(settings, report_dir, color=_color(args))
    print(f"reports: {paths['report.html'].parent}", file=sys.stderr)
    for line in fault_lines(result, paths):  # last: the line a CI log shows names the pass, seed and file
        print(line, file=sys.stderr)
    return exit_code(result)


def fault_lines(result: ContractRunResult, paths: dict[str, Path]) -> list[str]:
    """One stderr line per harness fault: the pass, the seed, the error and the file with the traceback."""
    lines = []
    for fault in result.faults:
        file = paths.get(fault.file_name, Path(fault.file_name))
        error = " ".join(fault.error.split())
        lines.append(f"coupon-harness contract: harness error in pass '{fault.stage}' (seed {result.seed}): "
                     f"{error}; traceback in {file}")
    return lines


def _color(args: argparse.Namespace) -> bool:
    return not args.no_color and sys.stdout.isatty()


def execute_contract(settings: ContractSettings, report_dir: Path, *, color: bool
                     ) -> tuple[ContractRunResult, dict[str, Path]]:
    from coupon_harness.interrupts import held, received, signal_name
    from coupon_harness.reporting import ProgressPrinter, render_table, write_contract_reports
    from coupon_harness.runners.contract.runner import interrupted_result
    from coupon_harness.transport.auth import Redactor

    try:
        progress = ProgressPrinter(redact=Redactor(settings.credentials).text)
        progress(f"contract run against {settings.base_url} (seed {settings.seed})")
        result = run_contract(settings, progress)  # takes a signal itself once its passes run
    except KeyboardInterrupt:  # the report folder exists: it gets the report of a run that sent nothing
        result = interrupted_result(settings, f"interrupted by {signal_name(received())} before the first request")
    with held():  # a signal now must not cut the reports in half; the run still ends as interrupted
        paths = write_contract_reports(result, report_dir)
        print(render_table(result, color=color))
    return result, paths


def exit_code(result: ContractRunResult) -> int:
    """130 interrupted; else 2 when the harness met a bug of its own in a pass; else 0 holds, 1 violated."""
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.faults:
        return EXIT_HARNESS_ERROR
    return EXIT_OK if result.holds else EXIT_VIOLATIONS
