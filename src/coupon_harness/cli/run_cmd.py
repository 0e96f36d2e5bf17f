"""`coupon-harness run`: the main job. With no flags: start the sandbox, run the contract suite and a
short load run against it, write one index of the reports, exit."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coupon_harness.cli.console import say
from coupon_harness.cli.contract_cmd import execute_contract, exit_code, fault_lines, use_color
from coupon_harness.cli.exit_codes import EXIT_HARNESS_ERROR, EXIT_INTERRUPTED
from coupon_harness.cli.lifecycle import check_reports, claim_folder, command_options
from coupon_harness.cli.load_cmd import earlier_run, execute_load, load_exit_code
from coupon_harness.cli.option_table import RUN, add_command
from coupon_harness.cli.sandbox_target import discover_sandbox, sandbox_settings
from coupon_harness.cli.settings_builders import contract_settings, run_load_settings, run_slos
from coupon_harness.errors import ConfigError, HarnessError
from coupon_harness.interrupts import held
from coupon_harness.results.setup import SetupFailure
from coupon_harness.transport.auth import Redactor

__all__ = ["register"]


def register(commands: Any) -> None:
    add_command(commands, "run", _handle, RUN, help="the main job: the contract suite and a short load run against "
                "a target (default: a sandbox started for the run), with one index report",
                description="Run the whole harness: the contract suite, then a short load run, and "
                "reports/<time>-<random>/index.html linking both reports. Without --base-url it starts the sandbox, "
                "tests it and stops it. Exit 0: the contract holds and every SLO is met; 1: a violation or a breached "
                "SLO; 2: the harness could not run; 130 (SIGINT) or 143 (SIGTERM): interrupted.")


def _handle(args: argparse.Namespace) -> int:
    from coupon_harness.reporting.index import write_index
    from coupon_harness.reporting.run.document import write_run_reports

    resolved = command_options(args, RUN)
    with_load = not resolved.get("no-load")
    with ExitStack() as stack:
        earlier = None
        if with_load:
            run_slos(resolved)  # before the sandbox starts and before any request
            earlier = earlier_run(resolved)
        elif resolved.given("compare") or resolved.given("max-regression"):
            raise ConfigError(f"{resolved.label('compare')} compares load stages: drop {resolved.flag_prefix}no-load")
        check_reports(resolved)
        if not resolved.given("base-url"):
            from coupon_harness.sandbox.info import sandbox_info
            from coupon_harness.sandbox.server import running_sandbox

            sandbox = stack.enter_context(running_sandbox())
            say(f"sandbox started at {sandbox.base_url}")
            settings = replace(sandbox_settings(contract_settings(resolved, base_url=sandbox.base_url),
                                                sandbox_info(sandbox.config)), sandbox_started=True)
        else:
            settings = discover_sandbox(contract_settings(resolved))
        color = use_color(resolved)
        load = run_load_settings(settings, resolved) if with_load else None  # fails before any request
        run_dir = claim_folder(resolved, "", Redactor(settings.credentials).text(settings.base_url))
        reports: dict[str, tuple[Path, bool]] = {}
        faults: list[str] = []
        result = load_result = load_error = None
        try:
            result, paths = execute_contract(settings, run_dir / "contract", color=color)
            faults = fault_lines(result, paths)  # a pass a fault left unrun: the index must not call that a pass
            reports["Contract"] = (paths["report.html"], result.holds and not result.faults)
            code = exit_code(result)
            if load is not None and not result.interrupted:
                load = replace(load, coupon_source="run load stage")
                try:
                    load_result, load_paths = execute_load(load, run_dir / "load", color=color, earlier=earlier)
                except HarnessError as exc:  # the load stage's preflight refused: the contract stage stays reported
                    load_error = SetupFailure("run load stage", str(exc), datetime.now(UTC).isoformat(
                        timespec="seconds"), 0.0, target=Redactor(load.credentials).text(load.base_url))
                    faults.append(f"coupon-harness run: error: load stage: {exc}")
                    reports["Load"] = (run_dir / "load" / "report.md", False)
                    code = max(code, EXIT_HARNESS_ERROR)
                else:
                    reports["Load"] = (load_paths["report.html"], load_result.holds and not load_result.regressed)
                    code = max(code, load_exit_code(load_result))
        except KeyboardInterrupt:  # between the stages (each stage takes a signal during its run itself)
            code = EXIT_INTERRUPTED
    with held():
        # One junit.xml and report.md for both stages (each stage keeps its own), then the index linking them.
        interrupted = code >= EXIT_INTERRUPTED or any(getattr(r, "interrupted", False) for r in (result, load_result))
        write_run_reports(run_dir, result, load_result, interrupted=interrupted, load_error=load_error)
        index = write_index(run_dir, reports)
    say(f"reports: {index}")
    for line in faults:  # last, as `contract` prints them
        print(line, file=sys.stderr)
    return code
