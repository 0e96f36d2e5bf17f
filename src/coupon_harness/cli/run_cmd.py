"""`coupon-harness run`: the main job. With no flags: start the sandbox, run the contract suite and a
short load run against it, write one index of the reports, exit."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from coupon_harness.cli.contract_cmd import add_run_flags, execute_contract, exit_code, fault_lines
from coupon_harness.cli.exit_codes import EXIT_INTERRUPTED
from coupon_harness.cli.load_cmd import (
    check_max_coupons,
    check_run_time,
    check_users,
    execute_load,
    load_exit_code,
)
from coupon_harness.cli.options import (
    add_target_flags,
    check_base_url,
    refuse_lost_values,
    settings_from_args,
    target_from_args,
)
from coupon_harness.cli.report_dir import check_report_dir, prepare_report_dir
from coupon_harness.cli.sandbox_target import discover_sandbox, sandbox_settings
from coupon_harness.errors import ConfigError
from coupon_harness.interrupts import held
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.runners.load.settings import LoadSettings, Slo, parse_slo
from coupon_harness.safety import DEFAULT_MAX_COUPONS, coupon_cap, refuse_production

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser("run", help="the main job: contract suite against a target (default: a sandbox "
                                 "started for the run), with one index report",
                                 description="Run the whole harness. Without --base-url it starts the sandbox, "
                                 "tests it and stops it. Exit codes as for `contract`.")
    add_target_flags(parser, base_url_required=False)
    add_run_flags(parser)
    parser.add_argument("--load-run-time", default="10s", metavar="10s",
                        help="length of the short load run (default 10s; at most 30s)")
    parser.add_argument("--load-users", type=int, default=10, metavar="N", help="users of the load run (default 10)")
    parser.add_argument("--load-slo", action="append", default=None, metavar="KEY=VALUE",
                        help="SLOs of the load run (default p95=500ms and error-rate=0.01)")
    parser.add_argument("--no-load", action="store_true", help="only the contract suite")
    parser.add_argument("--max-coupons", type=int, default=None, metavar="N",
                        help=f"stop the load run after N coupons (default {DEFAULT_MAX_COUPONS} off loopback)")
    parser.add_argument("--allow-production", action="store_true",
                        help="allow a run against a Capillary production host (issues real coupons)")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from coupon_harness.reporting.index import write_index

    refuse_lost_values(args)
    given_dir = args.report_dir
    args.report_dir = None
    with ExitStack() as stack:
        target = target_from_args(args)
        if not args.no_load:
            _check_load_args(args)  # before the sandbox starts and before any request
        check_report_dir(given_dir, overwrite=args.overwrite)
        if target.base_url is None:
            from coupon_harness.sandbox.info import sandbox_info
            from coupon_harness.sandbox.server import running_sandbox

            sandbox = stack.enter_context(running_sandbox())
            print(f"sandbox started at {sandbox.base_url}", file=sys.stderr)
            target = type(target)(**{**_fields(target), "base_url": sandbox.base_url})
            settings = sandbox_settings(settings_from_args(target), sandbox_info(sandbox.config))
        else:
            # Before any request, the sandbox discovery included; the contract runner checks again.
            refuse_production(check_base_url(target.base_url), allow=args.allow_production)
            settings = discover_sandbox(settings_from_args(target))
        settings = replace(settings, allow_production=args.allow_production)
        color = not args.no_color and sys.stdout.isatty()
        load = None if args.no_load else _load_settings(settings, args)  # bad load flags fail before any request
        run_dir = prepare_report_dir(given_dir, "", overwrite=args.overwrite)
        reports: dict[str, tuple[Path, bool]] = {}
        faults: list[str] = []
        try:
            result, paths = execute_contract(settings, run_dir / "contract", color=color)
            faults = fault_lines(result, paths)
            # A harness fault left some passes unrun: the index must not call that a pass.
            reports["Contract"] = (paths["report.html"], result.holds and not result.faults)
            code = exit_code(result)
            if load is not None and not result.interrupted:
                load_result, load_paths = execute_load(load, run_dir / "load", color=color)
                reports["Load"] = (load_paths["report.html"], load_result.holds)
                code = max(code, load_exit_code(load_result))
        except KeyboardInterrupt:  # between the stages (each stage takes a signal during its run itself)
            code = EXIT_INTERRUPTED
    with held():
        index = write_index(run_dir, reports)
    print(f"reports: {index}", file=sys.stderr)
    for line in faults:  # last, as `contract` prints them
        print(line, file=sys.stderr)
    return code


def _check_load_args(args: argparse.Namespace) -> tuple[float, tuple[Slo, ...]]:
    """The load stage's flags: run time, users, coupons, SLOs."""
    run_time = check_run_time(args.load_run_time, "--load-run-time")
    if run_time > 30:
        raise ConfigError("--load-run-time must lie between 0 and 30 seconds (use `coupon-harness load` for more)")
    check_users(args.load_users, "--load-users")
    check_max_coupons(args.max_coupons)
    slos = args.load_slo if args.load_slo is not None else ["p95=500ms", "error-rate=0.01"]
    return run_time, tuple(parse_slo(s, "--load-slo") for s in slos)


def _load_settings(contract: ContractSettings, args: argparse.Namespace) -> LoadSettings:
    """A short closed-model run against the same target, with what the contract run knew of it."""
    run_time, slos = _check_load_args(args)
    if not contract.expectations.valid_series:
        raise ConfigError("the load run needs series that issue coupons: give --series-ids (or --no-load)")
    refuse_production(contract.base_url, allow=args.allow_production)
    credentials = contract.credentials
    return LoadSettings(
        base_url=contract.base_url, series_ids=tuple(sorted(contract.expectations.valid_series)),
        invalid_series_ids=tuple(sorted(contract.expectations.invalid_series)),
        generic_series_ids=tuple(sorted(contract.expectations.generic_series)),
        user=credentials.user, password=credentials.password, md5_password=credentials.md5_password,
        oauth_key=credentials.oauth_key, oauth_secret=credentials.oauth_secret, token=credentials.token,
        users=args.load_users, spawn_rate=float(args.load_users), run_time_s=run_time,
        slos=slos, max_coupons=coupon_cap(contract.base_url, args.max_coupons),
        allow_production=args.allow_production)


def _fields(target: Any) -> dict[str, Any]:
    return {name: getattr(target, name) for name in target.__dataclass_fields__}
