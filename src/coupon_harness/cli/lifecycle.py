"""One run lifecycle for every command and way in: validate every input (the settings builders) -> claim the
report folder (`claim_folder`, exclusive) -> preflight the target (`preflight_load`, or the contract runner's own)
-> run -> reports -> exit. A setup error after the claim still leaves junit.xml, summary.json and report.md in the
folder (`report_setup_error`, called by `main`); a bad input, found before the claim, creates nothing.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coupon_harness.cli.console import say, show_result
from coupon_harness.cli.option_table import Resolved, resolve, sources_from_namespace
from coupon_harness.cli.report_dir import check_report_dir, claimed, prepare_report_dir
from coupon_harness.coupon_log import FILE_NAME, CouponLog, CouponRows, count_rows
from coupon_harness.errors import ConfigError, one_line
from coupon_harness.interrupts import held

__all__ = ["check_reports", "claim_folder", "command_options", "import_now", "note_target", "preflight_load",
           "report_setup_error", "write_reports"]

_log = logging.getLogger(__name__)

_STARTED = time.time()  # when this process started its command (a setup error's duration)


def command_options(args: argparse.Namespace, scope: str) -> Resolved:
    """The command's options from flags, variables and --config, each checked; the notes of resolving them said."""
    resolved = resolve(sources_from_namespace(args, scope), scope)
    for note in resolved.notes:
        say(f"coupon-harness: note: {one_line(note)}")
    return resolved


def import_now(*modules: str) -> None:
    """Import what a run needs before a signal may raise or its report folder exists: a signal inside an import can
    break a native module's start, and one before the folder's report would leave it empty."""
    for name in modules:
        importlib.import_module(name)


def check_reports(resolved: Resolved) -> None:
    """--report-dir (with --overwrite) checked with the other inputs, before any request; nothing is created."""
    check_report_dir(resolved.get("report-dir"), overwrite=bool(resolved.get("overwrite")))


def write_reports(write: Callable[[], dict[str, Path]], table: Callable[[], str] | None = None,
                  verdict: str | None = None) -> dict[str, Path]:
    """`write` the reports, log their files, then show the `table`; with signals held, so that a signal cannot cut
    the reports in half (the run still ends as interrupted)."""
    with held():
        paths = write()
        _log.info("reports written: %s", ", ".join(str(path) for path in paths.values()))
        if table is not None:
            show_result(table(), verdict)
    return paths


def note_target(target: str) -> None:
    """The target (redacted) a setup error's report names, once the command knows it."""
    claim = claimed()
    if claim is not None:
        claim.target = target


def claim_folder(resolved: Resolved, kind: str, target: str) -> Path:
    """Claim the report folder (--report-dir, --overwrite) and note the target (redacted). Returns with signals
    held: the caller re-arms them (`interrupts.armed()`) first thing in the `try` that turns a signal into the
    interrupted run's report, so no signal in between leaves the folder empty. A failed claim re-arms."""
    from coupon_harness.interrupts import armed, disarm

    disarm()
    try:
        folder = prepare_report_dir(resolved.get("report-dir"), kind, overwrite=bool(resolved.get("overwrite")))
        note_target(target)
    except BaseException:
        armed()
        raise
    return folder


def report_setup_error(command: str, message: str, since: int = 0) -> Path | None:
    """Write the setup error's reports into the folder this run claimed after the mark `since`, if any; the folder,
    or None. Never raises: the one line on stderr is what must reach the user."""
    from coupon_harness.reporting.setup_error import write_setup_error_reports
    from coupon_harness.results.setup import SetupFailure

    claim = claimed(since)
    if claim is None:
        return None
    try:
        failure = SetupFailure(kind=command, message=message, target=claim.target,
                               started_at=datetime.fromtimestamp(_STARTED, UTC).isoformat(timespec="seconds"),
                               duration_s=time.time() - _STARTED, coupons_issued=_count_coupons(claim.folder))
        write_setup_error_reports(failure, claim.folder, since=claim.since)
    except (OSError, ValueError, RecursionError):  # a full disk, say: the line on stderr still says what failed
        return None
    return claim.folder


def _count_coupons(folder: Path) -> int:
    """The coupons listed in the folder's coupons.csv files (a `run` keeps one a stage)."""
    total = 0
    for path in (folder / FILE_NAME, *folder.glob(f"*/{FILE_NAME}")):
        try:
            total += count_rows(path)
        except OSError:
            continue
    return total


def preflight_load(settings: Any, folder: Path | None, *, progress: Callable[[str], None] = lambda _: None) -> Any:
    """Before any load, the contract runner's preflight of the load's target, series and customers: a refusal is
    exit 2 naming the flag (HarnessError); unknown series are left out, said through `progress`. Its coupons go to
    `folder`/coupons.csv (no folder: a worker's, listed by its master) and ride with the load (`carried_coupons`),
    counted against --max-coupons. Returns the LoadSettings to go on with."""
    from coupon_harness.contract.expectations import Expectations
    from coupon_harness.runners.contract.preflight import preflight_target
    from coupon_harness.runners.contract.settings import ContractSettings
    from coupon_harness.safety import coupon_cap
    from coupon_harness.transport.auth import Redactor

    cap = coupon_cap(settings.base_url, settings.max_coupons)
    series = tuple(settings.series_ids)
    # Under a coupon cap the preflight tries at most a tenth of it in series (the rest go untried, as they are).
    tried = series if cap is None else series[: max(1, cap // 10)]
    contract = ContractSettings(
        settings.base_url, credentials=settings.credentials,
        expectations=Expectations(valid_series=frozenset(tried),
                                  invalid_series=frozenset(settings.invalid_series_ids),
                                  generic_series=frozenset(settings.generic_series_ids)),
        customer_ids=tuple(settings.customer_ids), seed=settings.seed or 0, request_timeout=settings.request_timeout,
        allow_production=settings.allow_production)
    with ExitStack() as stack:
        log = None if folder is None else stack.enter_context(
            CouponLog(folder / FILE_NAME, redact=Redactor(settings.credentials).text))
        rows = CouponRows(log)
        checked = preflight_target(contract, rows, "preflight")
    for note in checked.notes:
        progress(f"note: {note}")
    if cap is not None and rows.count >= cap:
        raise ConfigError(f"--max-coupons {cap}: the preflight's {rows.count} coupons used it up; raise --max-coupons")
    unknown = set(tried) - checked.expectations.valid_series
    return replace(settings, series_ids=tuple(s for s in series if s not in unknown),
                   carried_coupons=tuple(rows.rows), carried_listed=folder is not None)
