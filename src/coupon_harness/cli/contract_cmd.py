"""`coupon-harness contract`: the contract gate against one target."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from coupon_harness.cli.console import progress_display, say
from coupon_harness.cli.exit_codes import EXIT_HARNESS_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_VIOLATIONS
from coupon_harness.cli.lifecycle import check_reports, claim_folder, command_options, write_reports
from coupon_harness.cli.option_table import CONTRACT, Resolved, add_command
from coupon_harness.cli.sandbox_target import discover_sandbox
from coupon_harness.cli.settings_builders import contract_settings
from coupon_harness.coupon_log import FILE_NAME
from coupon_harness.interrupts import armed, received, signal_name
from coupon_harness.results.contract import ContractRunResult
from coupon_harness.results.diff import DiffRunResult
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.transport.auth import Redactor

__all__ = ["execute_contract", "exit_code", "fault_lines", "register", "use_color"]


def register(commands: Any) -> None:
    add_command(commands, "contract", _handle, CONTRACT, help="test a target against the contract (the CI gate)",
                description="Test a target against the contract of POST /v2/coupon/bulk/issue. Exit 0: the contract "
                "holds; 1: violations found; 2: the harness could not run, or met a bug of its own in a pass (the "
                "other passes ran; its traceback is in the report folder); 130 (SIGINT) or 143 (SIGTERM): interrupted "
                "(a partial report is written).")


def _handle(args: argparse.Namespace) -> int:
    resolved = command_options(args, CONTRACT)
    settings = contract_settings(resolved)  # every option checked, production refused: before any request
    check_reports(resolved)
    settings = discover_sandbox(settings)
    report_dir = claim_folder(resolved, "contract", Redactor(settings.credentials).text(settings.base_url))
    result, paths = execute_contract(settings, report_dir, color=use_color(resolved))
    say(f"reports: {paths['report.html'].parent}")
    for line in fault_lines(result, paths):  # last: the line a CI log shows names the pass, seed and file
        print(line, file=sys.stderr)
    return exit_code(result)


def use_color(resolved: Resolved) -> bool:
    """ANSI colours only on a terminal, with neither --no-color nor a non-empty NO_COLOR (https://no-color.org)."""
    return not resolved.get("no-color") and not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def fault_lines(result: ContractRunResult | DiffRunResult, paths: dict[str, Path], command: str = "contract"
                ) -> list[str]:
    """One stderr line per harness fault: the pass, the seed, the error and the file with the traceback."""
    return [f"coupon-harness {command}: harness error in pass '{fault.stage}' (seed {result.seed}): "
            f"{' '.join(fault.error.split())}; traceback in {paths.get(fault.file_name, Path(fault.file_name))}"
            for fault in result.faults]


def execute_contract(settings: ContractSettings, report_dir: Path, *, color: bool
                     ) -> tuple[ContractRunResult, dict[str, Path]]:
    """Run the contract passes, write the reports and print the table."""
    from coupon_harness.reporting.contract.document import contract_document, write_contract_reports
    from coupon_harness.reporting.render.console import console_width, render_console
    from coupon_harness.runners.contract.runner import interrupted_result, run_contract

    settings = replace(settings, coupons_csv=report_dir / FILE_NAME)  # every coupon the run causes, listed
    try:
        armed()  # a signal held since the folder's claim (lifecycle.claim_folder) raises here, into its report
        with progress_display(Redactor(settings.credentials).text, color=color) as progress:
            progress(f"contract run against {settings.base_url} (seed {settings.seed})")
            result = run_contract(settings, progress, figures=progress.figures)
    except KeyboardInterrupt:  # the report folder exists: it gets the report of a run that sent nothing
        result = interrupted_result(settings, f"interrupted by {signal_name(received())} before the first request")
    paths = write_reports(lambda: write_contract_reports(result, report_dir),
                          lambda: render_console(contract_document(result), color=color, width=console_width()))
    return result, paths


def exit_code(result: ContractRunResult | DiffRunResult, command: str = "contract") -> int:
    """130 interrupted; else 2 when the harness met a bug of its own in a pass; else 0 holds, 1 violated (or, for a
    diff, a target that completed no answer: no verdict without evidence, said in one line)."""
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.faults:
        return EXIT_HARNESS_ERROR
    no_answer = getattr(result, "no_answer", None)
    if no_answer is not None:
        print(f"coupon-harness {command}: {no_answer}", file=sys.stderr)
    return EXIT_OK if result.holds else EXIT_VIOLATIONS
