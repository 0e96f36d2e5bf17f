"""`coupon-harness run`: the main job. With no flags: start the sandbox, test it, report, exit."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

from coupon_harness.cli.contract_cmd import add_run_flags, execute_contract, exit_code
from coupon_harness.cli.options import add_target_flags, settings_from_args, target_from_args
from coupon_harness.cli.sandbox_target import discover_sandbox, sandbox_settings

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser("run", help="the main job: contract suite against a target (default: a sandbox "
                                 "started for the run), with one index report",
                                 description="Run the whole harness. Without --base-url it starts the sandbox, "
                                 "tests it and stops it. Exit codes as for `contract`.")
    add_target_flags(parser, base_url_required=False)
    add_run_flags(parser)
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from coupon_harness.reporting.index import write_index

    run_dir = Path(args.report_dir) if args.report_dir else Path("reports") / datetime.now().strftime("%Y%m%d-%H%M%S")
    args.report_dir = None
    with ExitStack() as stack:
        target = target_from_args(args)
        if target.base_url is None:
            from coupon_harness.sandbox.info import sandbox_info
            from coupon_harness.sandbox.server import running_sandbox

            sandbox = stack.enter_context(running_sandbox())
            print(f"sandbox started at {sandbox.base_url}", file=sys.stderr)
            target = type(target)(**{**_fields(target), "base_url": sandbox.base_url})
            settings = sandbox_settings(settings_from_args(target), sandbox_info(sandbox.config))
        else:
            settings = discover_sandbox(settings_from_args(target))
        color = not args.no_color and sys.stdout.isatty()
        result, paths = execute_contract(settings, run_dir / "contract", color=color)
    index = write_index(run_dir, {"Contract": (paths["report.html"], result.holds)})
    print(f"reports: {index}", file=sys.stderr)
    return exit_code(result)


def _fields(target: Any) -> dict[str, Any]:
    return {name: getattr(target, name) for name in target.__dataclass_fields__}
