"""`coupon-harness capacity`: the highest request rate at which the target meets every SLO."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from coupon_harness.cli.console import progress_display, say
from coupon_harness.cli.contract_cmd import use_color
from coupon_harness.cli.exit_codes import EXIT_HARNESS_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_VIOLATIONS
from coupon_harness.cli.lifecycle import check_reports, claim_folder, command_options, preflight_load, write_reports
from coupon_harness.cli.option_table import CAPACITY, Resolved, add_command
from coupon_harness.cli.settings_builders import contract_settings, load_settings, target_url
from coupon_harness.errors import ConfigError
from coupon_harness.interrupts import armed, received, signal_name
from coupon_harness.transport.auth import Redactor

__all__ = ["capacity_exit_code", "register"]


def register(commands: Any) -> None:
    add_command(
        commands, "capacity", _handle, CAPACITY,
        help="find the highest rate that meets every SLO (open-model steps: grow, then bisect)",
        description="Search the target's capacity: open-model load steps (every answer checked against the "
        "contract), each with a warm-up that is not measured, doubling the rate while every --slo holds, then "
        "bisecting between the highest rate that held and the lowest that broke. Reports the capacity, the breaking "
        "rate and the latency-vs-rate curve; says so when the load generator, not the target, was the limit. Exit "
        "0: a capacity found (at least --min-capacity, when given) and no violation; 1: a contract violation, no "
        "rate met the SLOs, or the capacity is below --min-capacity; 2: the harness could not run or measured its "
        "own generator (use --workers); 130 (SIGINT) or 143 (SIGTERM): interrupted (the report is still written).")


def _capacity_settings(resolved: Resolved, known: Any) -> Any:
    from coupon_harness.runners.load.capacity import CapacitySettings

    load = load_settings(resolved, known=known)
    if not load.slos:
        raise ConfigError("capacity needs at least one --slo (e.g. --slo p95=300ms --slo error-rate=0.01): the "
                          "capacity is the highest rate that meets them")
    settings = CapacitySettings(
        load=load, start_rate=resolved.get("start-rate", 50.0), max_rate=resolved.get("max-rate", 5000.0),
        step_time_s=resolved.get("step-time", 30.0), warmup_s=resolved.get("warmup", 5.0),
        precision=resolved.get("precision", 0.05), max_steps=resolved.get("max-steps", 16),
        users=resolved.get("users"), min_capacity=resolved.get("min-capacity"))
    if settings.start_rate > settings.max_rate:
        raise ConfigError(f"{resolved.label('start-rate')} {settings.start_rate:g} is above "
                          f"{resolved.label('max-rate')} {settings.max_rate:g}: lower one or raise the other")
    settings.check()
    return settings


def _handle(args: argparse.Namespace) -> int:
    from coupon_harness.cli.lifecycle import import_now
    from coupon_harness.cli.sandbox_target import discover_sandbox

    resolved = command_options(args, CAPACITY)
    target_url(resolved)  # the URL checked, production refused: before the other options
    check_reports(resolved)
    settings = _capacity_settings(resolved, discover_sandbox(contract_settings(resolved)))  # as `load` does
    import_now("coupon_harness.reporting.capacity.document", "coupon_harness.reporting.load.document",
               "coupon_harness.runners.load.capacity")
    report_dir = claim_folder(resolved, "capacity",
                                         Redactor(settings.load.credentials).text(settings.load.base_url))
    result = _execute(settings, report_dir, color=use_color(resolved))
    say(f"reports: {report_dir}")
    return capacity_exit_code(result)


def _execute(settings: Any, report_dir: Path, *, color: bool) -> Any:
    """Preflight, search, reports (an interrupted search's report when a signal came since the folder's claim)."""
    from coupon_harness.reporting.capacity.document import (
        redact_capacity_result,
        render_capacity_table,
        write_capacity_reports,
    )
    from coupon_harness.reporting.load.document import redact_load_result, write_load_reports
    from coupon_harness.results.capacity import CapacityResult
    from coupon_harness.results.load import LoadRunResult
    from coupon_harness.runners.load.capacity import run_capacity

    redact = Redactor(settings.load.credentials).text

    def step_reports(step: LoadRunResult, folder: Path) -> None:  # the search's junit.xml covers every step
        write_reports(lambda: write_load_reports(redact_load_result(step, redact), folder, junit=False))

    load = settings.load
    try:
        armed()  # a signal held since the folder's claim (lifecycle.claim_folder) raises here, into its report
        with progress_display(redact, color=color) as progress:  # the preflight before the first step
            settings = replace(settings, load=preflight_load(load, report_dir,
                                                             progress=lambda text: say(f"coupon-harness: {text}")))
            progress(f"capacity search against {load.base_url}: from {settings.start_rate:g} req/s, at most "
                     f"{settings.max_rate:g}, {settings.warmup_s:g}s warm-up + {settings.step_time_s:g}s a step, "
                     "SLOs " + ", ".join(str(slo) for slo in load.slos))
            result = run_capacity(settings, report_dir, progress, on_step=step_reports, figures=progress.figures)
    except KeyboardInterrupt:  # between steps, before a step's load process could take it
        result = CapacityResult(target=load.base_url, started_at="", duration_s=0.0,
                                slos=[str(slo) for slo in load.slos], start_rate=settings.start_rate,
                                max_rate=settings.max_rate, step_time_s=settings.step_time_s,
                                warmup_s=settings.warmup_s, precision=settings.precision, workers=load.workers,
                                min_capacity=settings.min_capacity, interrupted=True,
                                stopped_reason=f"interrupted by {signal_name(received())} before the first step")
    result = redact_capacity_result(result, redact)
    write_reports(lambda: write_capacity_reports(result, report_dir),
                  lambda: render_capacity_table(result, color=color))
    return result


def capacity_exit_code(result: Any) -> int:
    """0 a capacity found (at least --min-capacity) and no violation; 1 a violation, no rate met the SLOs, or below
    --min-capacity; 2 the harness could not measure (its generator was the limit, a harness bug, or the search
    ended before any step counted); 130/143 interrupted."""
    if result.harness_errors:
        print("coupon-harness capacity: error: the harness itself failed during the search (please report it): "
              + "; ".join(result.harness_errors[:3]), file=sys.stderr)
        return EXIT_HARNESS_ERROR
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.violation_counts:
        return EXIT_VIOLATIONS
    if result.generator_limited:
        print(f"coupon-harness capacity: error: the load generator was the limit at {result.generator_limit_rps:g} "
              "req/s (its CPU saturated, or it fell behind its schedule) before the target broke an SLO: what was "
              "measured is the generator; run with --workers N (or from a machine of its own)", file=sys.stderr)
        return EXIT_HARNESS_ERROR
    if result.capacity_rps is None:
        if result.breaking_rps is not None:
            return EXIT_VIOLATIONS  # not even the lowest rate met the SLOs
        print(f"coupon-harness capacity: error: no step was measured ({result.stopped_reason or 'no step ran'})",
              file=sys.stderr)
        return EXIT_HARNESS_ERROR
    if result.min_capacity is not None and result.capacity_rps < result.min_capacity:
        return EXIT_VIOLATIONS
    return EXIT_OK
