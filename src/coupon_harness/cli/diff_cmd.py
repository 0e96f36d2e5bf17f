"""`coupon-harness diff`: the same cases to two deployments, their answers' differences reported."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from coupon_harness.cli.console import progress_display, say
from coupon_harness.cli.contract_cmd import exit_code, fault_lines, use_color
from coupon_harness.cli.lifecycle import check_reports, claim_folder, command_options, write_reports
from coupon_harness.cli.option_table import DIFF, add_command
from coupon_harness.cli.settings_builders import diff_settings
from coupon_harness.coupon_log import FILE_NAME
from coupon_harness.interrupts import armed, received, signal_name
from coupon_harness.results.diff import DiffRunResult
from coupon_harness.transport.auth import Redactor

__all__ = ["diff_exit_code", "execute_diff", "register"]


def register(commands: Any) -> None:
    add_command(
        commands, "diff", _handle, DIFF,
        help="send the same cases to two deployments and report how their answers differ",
        description="A differential run: every case of the contract run (classics, generated, scenarios, auth and "
        "malformed probes) goes to --base-url, then to --against-url (series and customers mapped with "
        "--series-map and --customer-map), and the answers are compared after the contract's normalisation "
        "(numbers by value, instants relative to the issue time, codes by shape). Differences are grouped: status, "
        "entity outcome, error codes, attributes, response shape, each with one reproducer. Issues real coupons on "
        "both: a production host needs --allow-production, and off loopback at most --max-coupons (default "
        "10,000) on each. Exit 0: no difference; 1: differences; 2: the harness could not run (or met a bug of "
        "its own in a pass); 130 (SIGINT) or 143 (SIGTERM): interrupted (a partial report is written).")


def _handle(args: argparse.Namespace) -> int:
    resolved = command_options(args, DIFF)
    settings = diff_settings(resolved)  # every option checked, production refused on both: before any request
    check_reports(resolved)
    target = _redactor(settings).text(f"{settings.base.base_url} against {settings.against_url}")
    report_dir = claim_folder(resolved, "diff", target)
    result, paths = execute_diff(settings, report_dir, color=use_color(resolved))
    say(f"reports: {report_dir}")
    for line in fault_lines(result, paths, "diff"):
        print(line, file=sys.stderr)
    return diff_exit_code(result)


def _redactor(settings: Any) -> Any:
    from coupon_harness.runners.contract.diff import PairRedactor

    return PairRedactor(Redactor(settings.base.credentials), Redactor(settings.against_credentials))


def execute_diff(settings: Any, report_dir: Path, *, color: bool) -> tuple[DiffRunResult, dict[str, Path]]:
    """Run the diff, write its reports (a run interrupted before it sent when a signal came since the claim)."""
    from coupon_harness.reporting.diff.common import verdict
    from coupon_harness.reporting.diff.document import diff_document, write_diff_reports
    from coupon_harness.reporting.render.console import console_width, render_console
    from coupon_harness.runners.contract.diff import interrupted_diff, run_diff

    redactor = _redactor(settings)
    settings = replace(settings, base=replace(settings.base, coupons_csv=report_dir / FILE_NAME))  # both targets
    try:
        armed()  # a signal held since the folder's claim (lifecycle.claim_folder) raises here, into its report
        with progress_display(redactor.text, color=color) as progress:
            progress(f"differential run: {settings.base.base_url} against {settings.against_url} "
                     f"(seed {settings.base.seed})")
            result = run_diff(settings, progress, figures=progress.figures)
    except KeyboardInterrupt:
        result = interrupted_diff(settings, f"interrupted by {signal_name(received())} before the first case")
    paths = write_reports(lambda: write_diff_reports(result, report_dir),
                          lambda: render_console(diff_document(result), color=color, width=console_width()),
                          verdict(result))
    return result, paths


def diff_exit_code(result: DiffRunResult) -> int:
    """As `contract_cmd.exit_code`: 1 when the targets differ (or one of them completed no answer)."""
    return exit_code(result, "diff")
