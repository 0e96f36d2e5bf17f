"""Runs every pass of a contract run against one target and returns the typed result."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from coupon_harness.contract.ledger import Ledger
from coupon_harness.coupon_log import CouponLog, CouponLogError
from coupon_harness.errors import ConfigError, HarnessError, TargetUnreachable
from coupon_harness.log_setup import redact_with
from coupon_harness.results.baseline import Baseline, apply_baseline, baseline_changes, update_file
from coupon_harness.results.contract import ContractRunResult, RunShape
from coupon_harness.results.progress import Figures, FiguresSink, Part
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.collector import Collector, harness_fault
from coupon_harness.runners.contract.passes import run_guarded
from coupon_harness.runners.contract.preflight import judge_preflight, run_preflight
from coupon_harness.runners.contract.property_pass import PropertyInterrupted
from coupon_harness.runners.contract.pulse import Pulse
from coupon_harness.runners.contract.sequences import RecordingJudge
from coupon_harness.runners.contract.settings import PASSES, ContractSettings
from coupon_harness.runners.contract.side_by_side import ALONGSIDE, ALONGSIDE_FROM, BESIDE, PassDone, run_beside
from coupon_harness.safety import refuse_production
from coupon_harness.transport.auth import AuthError, Redactor

__all__ = ["PASSES", "closing_run", "interrupted_result", "judge_by_baseline", "pace_note", "run_contract", "run_shape"]

_log = logging.getLogger(__name__)


# Complexity allowed: the run's stages in order, each with its interruption and fault handling beside it.
def run_contract(settings: ContractSettings, progress: Callable[[str], None] = lambda _: None, *,  # noqa: C901, PLR0912, PLR0915
                 figures: FiguresSink | None = None) -> ContractRunResult:
    """Raises TargetUnreachable and ConfigError (exit 2) when the target cannot be tested or does not fit the
    configuration; a harness bug in one pass is a `HarnessFault` of the result."""
    refuse_production(settings.base_url, allow=settings.allow_production)  # before any request, every way in
    baseline = None
    if settings.baseline is not None:  # a bad file is exit 2 before any request
        baseline = Baseline.load(settings.baseline, missing_ok=settings.baseline_update)
    redactor, headers = settings.auth()
    redact_with(settings.credentials, redactor.text)  # log lines too, with the tokens it fetches
    collector = Collector(settings.seed, settings.max_transport_failures, redactor, left_out=dict(settings.left_out))
    coupons = CouponLog(settings.coupons_csv, redact=redactor.text) if settings.coupons_csv is not None else None
    judge = RecordingJudge(collector, settings.expectations, Ledger(settings.expectations), redactor, coupons)
    client = Client(settings, judge, headers)

    def measure(part: Part | None) -> Figures:
        return Figures(stage="contract", requests=collector.requests, part=part, findings=len(collector.findings),
                       coupons=coupons.count if coupons is not None else None)

    pulse = Pulse(figures, collector, len(settings.passes), measure)
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    ran: list[PassDone] = []
    notes: list[str] = []
    interrupted = False
    if settings.workers > 1:
        progress(f"sending up to {settings.workers} requests at a time (--workers {settings.workers})")
    with closing_run(pulse, client, coupons):
        try:
            try:
                preflight = run_preflight(client)
            except AuthError as exc:
                raise TargetUnreachable(redactor.text(str(exc))) from None
            except HarnessError:  # setup errors: exit 2
                raise
            except Exception as exc:  # a harness bug: judge by what the user configured and go on
                collector.fault(harness_fault("preflight", exc, redactor))
            else:
                judge.retarget(preflight.expectations)
                notes.extend(preflight.notes)
                judge_preflight(client, preflight)
            for group in pass_groups(settings.passes, settings.workers):
                if collector.stopped:
                    notes.append(f"stopped early: {collector.stopped}; passes after it did not run")
                    break
                index = settings.passes.index(group[0]) + 1  # the pass's place in the run, for the progress display
                if len(group) > 1:
                    pulse.enter("+".join(group), index)
                    ran += run_beside(group, client, headers, progress)
                    continue
                name = group[0]
                before, began = collector.requests, collector.elapsed()
                _log.info("pass %s: started (%d requests so far)", name, before)
                progress(f"{name}: started")
                pulse.enter(name, index)
                fault = run_guarded(name, client, headers, progress, log=_log)
                if fault is not None:  # a harness bug: this pass stops, the others still run
                    collector.fault(fault)
                ran.append(PassDone(name, True, collector.requests - before, began, collector.elapsed()))
                _log.info("pass %s: done, %d requests", name, collector.requests - before)
        except (KeyboardInterrupt, PropertyInterrupted):
            interrupted = True
            notes.append("interrupted: the results cover only what ran before Ctrl-C")
        except AuthError as exc:
            notes.append(f"stopped: {redactor.text(str(exc))}")
    if coupons is not None:
        notes.append(f"coupons issued: {coupons.count}, listed in {coupons.path.name} (to revoke them)"
                     if coupons.count else f"no coupon issued ({coupons.path.name} lists none)")
    if not settings.expectations.valid_series:
        notes.append("no --series-ids given: rules that need series that issue coupons were not run")
    paced = pace_note(settings, client.gauge.peak)
    if paced is not None:
        notes.append(paced)
    first = collector.first_finding
    result = ContractRunResult(
        target=redactor.text(settings.base_url), started_at=started_at,
        duration_s=round(time.monotonic() - started, 3), seed=settings.seed, requests=collector.requests,
        rules=collector.rule_results(judge.expectations, customer_pool=bool(settings.customer_ids)),
        interrupted=interrupted, passes=[(done.name, done.requests) for done in ran], notes=notes + collector.notes,
        faults=list(collector.faults), first_finding_s=first[0] if first else None,
        first_finding_source=first[1] if first else None,
        pass_spans=[(done.name, done.began, done.ended) for done in ran], shape=run_shape(settings, redactor),
        workers=settings.workers, concurrency_peak=client.gauge.peak)
    if baseline is not None and settings.baseline is not None:
        judge_by_baseline(result, baseline, settings.baseline, update=settings.baseline_update)
    return result


@contextmanager
def closing_run(pulse: Pulse, client: Client, coupons: CouponLog | None) -> Iterator[None]:
    """Around a run's passes (the contract's and the diff's): the last figures sent and the client and coupons.csv
    closed whatever happens; a coupons.csv error raised once the log is closed, with the counts as they stand."""
    try:
        yield
    except CouponLogError:
        pass
    finally:
        pulse.beat(force=True)
        client.close()
        if coupons is not None:
            coupons.close()
    if coupons is not None and coupons.error is not None:
        raise coupons.error


def pass_groups(names: Sequence[str], workers: int) -> list[tuple[str, ...]]:
    """The passes in order, those that run beside each other (`side_by_side`: BESIDE, and ALONGSIDE from
    ALONGSIDE_FROM workers on) as one group."""
    together = BESIDE | (ALONGSIDE if workers >= ALONGSIDE_FROM else frozenset())
    groups: list[tuple[str, ...]] = []
    for name in names:
        if workers > 1 and name in together and groups and all(other in together for other in groups[-1]):
            groups[-1] = (*groups[-1], name)
        else:
            groups.append((name,))
    # A group of deterministic passes alone gains nothing: each runs on its own, with every worker.
    return [group for found in groups
            for group in ([found] if len(found) == 1 or BESIDE & set(found) else [(name,) for name in found])]


def pace_note(settings: ContractSettings, peak: int) -> str | None:
    """What --workers and --max-rps did, for the report's notes (None for a serial, unpaced run: its reports stay as
    they were)."""
    parts = []
    if settings.workers > 1:
        parts.append(f"--workers {settings.workers}: at most {peak} request{'' if peak == 1 else 's'} open at once")
    if settings.max_rps is not None:
        parts.append(f"--max-rps {settings.max_rps:g}: requests paced to at most {settings.max_rps:g} a second")
    return "; ".join(parts) or None


def judge_by_baseline(result: ContractRunResult, baseline: Baseline, path: Path, *, update: bool) -> None:
    """Mark the result's findings against the baseline; with `update`, against the file rewritten from the run
    first (not after an interrupted or faulted run: what did not run would read as fixed)."""
    if update and (result.interrupted or result.faults):
        result.notes.append(f"--baseline-update: {path} left as it was (the run was interrupted or met a harness "
                            "error, so not every finding had its chance)")
        update = False
    if update:
        # Merged into the file as it is now, under a lock: another run may have written it since this one read it.
        seen, fixed = baseline_changes(result, baseline)
        try:
            written, kept = update_file(path, seen, fixed)
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            result.notes.append(f"--baseline-update: cannot write {path} ({reason}); judged against the file as it "
                                "was")
            update = False
        except ConfigError as exc:
            result.notes.append(f"--baseline-update: {path} was changed by someone else and cannot be read any more "
                                f"({exc}); left as it is, judged against the file as it was")
            update = False
        else:
            baseline = written
            if kept:
                result.notes.append(f"--baseline-update: kept {len(kept)} entr{'y' if len(kept) == 1 else 'ies'} this "
                                    f"run found fixed ({', '.join(kept)}): another run saw them again, or they were "
                                    "edited, after this run read the file")
    apply_baseline(result, baseline, str(path)).updated = update


def run_shape(settings: ContractSettings, redactor: Redactor | None = None) -> RunShape:
    """What shaped the run, for the report's Replay line: never a credential, only its kind."""
    expectations = settings.expectations
    clean = redactor or Redactor(settings.credentials)
    return RunShape(
        base_url=clean.text(settings.base_url), series_ids=tuple(sorted(expectations.valid_series)),
        invalid_series_ids=tuple(sorted(expectations.invalid_series)),
        generic_series_ids=tuple(sorted(expectations.generic_series)), unique_generic=expectations.unique_generic,
        customer_ids=tuple(clean.text(c) for c in settings.customer_ids), max_examples=settings.max_examples,
        request_timeout=settings.request_timeout, credentials=settings.credentials.kind,
        allow_production=settings.allow_production,
        passes=() if tuple(settings.passes) == PASSES else tuple(settings.passes),
        clock_skew_s=expectations.clock_skew.total_seconds(), sandbox_started=settings.sandbox_started,
        left_out_rules=tuple(rule_id for rule_id, _ in settings.left_out), **settings.credentials.access())


def interrupted_result(settings: ContractSettings, reason: str) -> ContractRunResult:
    """A run stopped before its first request: every rule not run, the reason in the notes."""
    collector = Collector(settings.seed, settings.max_transport_failures, Redactor(settings.credentials),
                          left_out=dict(settings.left_out))
    return ContractRunResult(
        target=Redactor(settings.credentials).text(settings.base_url),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"), duration_s=0.0, seed=settings.seed, requests=0,
        rules=collector.rule_results(settings.expectations, customer_pool=bool(settings.customer_ids)),
        interrupted=True, notes=[reason], shape=run_shape(settings), workers=settings.workers)

