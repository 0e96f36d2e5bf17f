"""Capacity search: open-model load steps, growing then bisecting, to the highest rate that meets every SLO.

Each step is a load run of its own (`run_load`) at a fixed arrival rate, measured after its `warmup_s`. The
rate doubles while every SLO holds (halves while the first rate breaks one), then bisects until the bracket is
within `precision`. A step whose generator was the limit ends the search, and the result names that limit.
"""

from __future__ import annotations

import csv
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from hdrh.histogram import HdrHistogram

from coupon_harness.contract.catalog import RuleId
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.ledger import Ledger
from coupon_harness.coupon_log import FILE_NAME, HEADER, CouponLog
from coupon_harness.errors import ConfigError
from coupon_harness.interrupts import received, signal_name
from coupon_harness.results.capacity import CapacityResult, CapacityStep
from coupon_harness.results.load import LoadRunResult, no_answer_line
from coupon_harness.results.progress import Figures, FiguresSink, Part
from coupon_harness.runners.load.recorder import new_histogram
from coupon_harness.runners.load.runner import run_load
from coupon_harness.runners.load.settings import LoadSettings
from coupon_harness.runners.load.slo import evaluate
from coupon_harness.safety import coupon_cap, refuse_production

__all__ = ["CapacitySettings", "run_capacity", "step_users"]

_log = logging.getLogger(__name__)

#: The fewest users a step runs with, and the most (each user holds one connection).
MIN_USERS = 4


@dataclass(frozen=True, slots=True)
class CapacitySettings:
    """`load` carries the target, series, credentials, SLOs, workers and coupon cap; its rate, users, run time
    and shape are set per step."""

    load: LoadSettings
    start_rate: float = 50.0
    max_rate: float = 5000.0
    step_time_s: float = 30.0
    warmup_s: float = 5.0
    #: Stop bisecting when the lowest breaking rate is within this fraction above the highest rate that held.
    precision: float = 0.05
    #: Rate factor of the grow (and shrink) phase.
    growth: float = 2.0
    #: The most steps the search takes (it stops, saying so, if the bracket is still wider).
    max_steps: int = 16
    #: Users per step; None sizes them from the rate and the latency SLOs (`step_users`).
    users: int | None = None
    max_users: int = 2000
    #: The gate's lowest acceptable capacity (--min-capacity); None: any capacity found passes.
    min_capacity: float | None = None

    def check(self) -> None:
        if not self.load.slos:
            raise ConfigError("capacity needs at least one --slo (e.g. --slo p95=300ms --slo error-rate=0.01): "
                              "the capacity is the highest rate that meets them")
        if not 0 < self.start_rate <= self.max_rate:
            raise ConfigError(f"--start-rate {self.start_rate:g} must be more than 0 and at most --max-rate "
                              f"{self.max_rate:g}")
        if self.step_time_s < 1:
            raise ConfigError(f"--step-time {self.step_time_s:g}s is too short to measure: give at least 1s")
        if not 0 < self.precision < 1:
            raise ConfigError(f"--precision {self.precision:g} must lie between 0 and 1 (e.g. 0.05 for 5%)")
        if self.growth <= 1:
            # growth is a library setting, no flag: name the field, not a flag the user cannot find
            raise ConfigError(f"CapacitySettings.growth {self.growth:g} must be more than 1 (e.g. 2: double the "
                              "rate each step)")
        if self.max_steps < 2:
            raise ConfigError(f"--max-steps {self.max_steps} must be at least 2")


def step_users(rate: float, settings: CapacitySettings) -> int:
    """Users for a step at `rate`: enough that the target's answers at the SLO's latency never hold up the
    schedule (Little's law: rate x latency, twice the slowest latency SLO, at least 1 s), within the bounds."""
    if settings.users is not None:
        return settings.users
    latency_s = max((slo.threshold / 1000.0 for slo in settings.load.slos if slo.unit == "ms"), default=0.5)
    budget_s = max(2 * latency_s, 1.0)
    least = max(MIN_USERS, 2 * max(settings.load.workers, 1))
    return max(least, min(settings.max_users, math.ceil(rate * budget_s)))


def run_capacity(settings: CapacitySettings, out: Path, progress: Callable[[str], None] = lambda _: None,
                 on_step: Callable[[LoadRunResult, Path], None] | None = None, *,
                 figures: FiguresSink | None = None) -> CapacityResult:
    """Search the target's capacity: each step into `out/step-NN/` (`on_step` may write its reports there), every
    coupon into `out/coupons.csv`. A KeyboardInterrupt ends the step in order and the search, marked interrupted."""
    settings.check()
    load = settings.load
    refuse_production(load.base_url, allow=load.allow_production)
    cap = coupon_cap(load.base_url, load.max_coupons)
    result = CapacityResult(
        target=load.base_url, started_at=datetime.now(UTC).isoformat(timespec="seconds"), duration_s=0.0,
        slos=[str(slo) for slo in load.slos], start_rate=settings.start_rate, max_rate=settings.max_rate,
        step_time_s=settings.step_time_s, warmup_s=settings.warmup_s, precision=settings.precision,
        workers=load.workers, min_capacity=settings.min_capacity, users=settings.users, max_steps=settings.max_steps,
        request_timeout_s=load.request_timeout, replay=load.replay())
    out.mkdir(parents=True, exist_ok=True)
    coupons_path = out / FILE_NAME
    result.files["coupons.csv"] = str(coupons_path)
    ledger = Ledger(Expectations(generic_series=frozenset(load.generic_series_ids)))
    # Every step appends to the search's one coupons.csv; the ledger reads what each step appended.
    CouponLog(coupons_path).close()
    started = time.monotonic()
    try:
        _steps(settings, result, out, (progress, figures), on_step, cap, coupons_path, ledger)
    except KeyboardInterrupt:  # between two steps' load processes (each takes a signal on its own)
        result.interrupted = True
        result.stopped_reason = f"interrupted by {signal_name(received())}"
    result.duplicate_codes = ledger.duplicates
    if ledger.duplicates:
        result.violation_counts[RuleId.UNIQUE_CODES.value] = ledger.duplicates
    result.duration_s = round(time.monotonic() - started, 3)
    _conclude(result, settings)
    return result


def _step_figures(figures: FiguresSink | None, part: Part) -> FiguresSink | None:
    if figures is None:
        return None
    sink = figures
    return lambda step: sink(replace(step, stage="capacity", part=part))


def _steps(settings: CapacitySettings, result: CapacityResult, out: Path,
           sinks: tuple[Callable[[str], None], FiguresSink | None],
           on_step: Callable[[LoadRunResult, Path], None] | None, cap: int | None, coupons_path: Path,
           ledger: Ledger) -> None:
    load = settings.load
    progress, figures = sinks
    for rate, phase in _search(settings, result):
        if cap is not None and result.coupons_issued >= cap:
            result.stopped_reason = (f"--max-coupons reached ({cap}) after {len(result.steps)} steps: raise "
                                     "--max-coupons or shorten --step-time to finish the search")
            return
        index = len(result.steps)
        users = step_users(rate, settings)
        step_dir = out / f"step-{index + 1:02d}"
        progress(f"step {index + 1} ({phase}): {rate:g} req/s, {users} users, "
                 f"{settings.warmup_s:g}s warm-up + {settings.step_time_s:g}s measured")
        step_settings = replace(
            load, arrival_rate=rate, users=users, spawn_rate=float(max(users, 1)) * 4, shape="steady",
            run_time_s=settings.warmup_s + settings.step_time_s, interval_s=_interval(settings),
            max_coupons=None if cap is None else cap - result.coupons_issued,
            coupon_source=f"{load.coupon_source} step {index + 1}", coupons_csv=str(coupons_path),
            carried_coupons=load.carried_coupons if index == 0 else ())  # the preflight's ride with the first step
        offset = coupons_path.stat().st_size
        _log.info("step %d (%s): %g req/s with %d users into %s", index + 1, phase, rate, users, step_dir)
        part = Part("step", f"{phase}, {rate:g} req/s", index + 1, settings.max_steps, at_most=True)
        if figures is not None:  # the step, before its load process sends its first figures
            figures(Figures(stage="capacity", requests=0, part=part))
        load_result = run_load(step_settings, step_dir, progress, figures=_step_figures(figures, part))
        _log.info("step %d: %d requests, %d coupons%s", index + 1, load_result.requests, load_result.coupons_issued,
                  " (interrupted)" if load_result.interrupted else "")
        if on_step is not None:
            on_step(load_result, step_dir)
        result.coupons_issued += load_result.coupons_issued
        _keep_codes(coupons_path, offset, ledger)
        _add_violations(result, load_result)
        if load_result.interrupted:
            # A cut step measured part of its window: its figures would judge the rate on too little.
            result.interrupted = True
            result.stopped_reason = load_result.stopped_reason or "interrupted"
            result.notes.append(f"step {index + 1} ({rate:g} req/s) was interrupted: its figures are not counted "
                                f"(its report is in {step_dir.name}/)")
            return
        step = _measure(index, phase, rate, users, load_result, settings, step_dir)
        result.steps.append(step)
        progress(_step_line(step))
        if step.answered == 0:
            # No verdict without evidence; and a lower rate would wait on the same deadline: the search ends here.
            line = f"step {index + 1} ({rate:g} req/s): {no_answer_line(load_result.requests, load.request_timeout)}"
            progress(line)
            result.notes.append(line)
            result.stopped_reason = line
            return
        if load_result.harness_errors:
            result.harness_errors.extend(load_result.harness_errors)
            result.stopped_reason = "the harness itself failed during a step (please report it)"
            return
        if step.stopped_reason is not None and "--max-coupons" in step.stopped_reason:
            result.stopped_reason = (f"{step.stopped_reason} during step {index + 1}: the search could not "
                                     "finish; raise --max-coupons or shorten --step-time")
            return


def _interval(settings: CapacitySettings) -> float:
    """Timeline intervals fine enough to cut the warm-up off and to measure several of them."""
    return 1.0 if settings.step_time_s >= 10 else 0.5


def _search(settings: CapacitySettings, result: CapacityResult) -> Iterator[tuple[float, str]]:
    """The rates to try, each decided from the steps so far (`result.steps`, appended by the caller)."""
    rate, phase = settings.start_rate, "grow"
    lowest = settings.start_rate / settings.growth ** 8
    while len(result.steps) < settings.max_steps:
        yield rate, phase
        if not result.steps or result.steps[-1].rate != rate:
            return  # the caller stopped before this rate was measured
        last = result.steps[-1]
        if last.generator_limited:
            return
        held = [s.rate for s in result.steps if s.met]
        broke = [s.rate for s in result.steps if not s.met]
        best = max(held, default=None)
        worst = min((r for r in broke if best is None or r > best), default=None)
        if worst is None:  # nothing broke above the best: grow
            if rate >= settings.max_rate:
                return
            rate, phase = min(rate * settings.growth, settings.max_rate), "grow"
        elif best is None:  # even the lowest rate broke: shrink
            if rate <= lowest:
                return
            rate, phase = max(rate / settings.growth, lowest), "shrink"
        else:
            middle = _round_rate((best + worst) / 2)
            if worst <= best * (1 + settings.precision) or middle in (best, worst):
                return
            rate, phase = middle, "bisect"
    result.stopped_reason = (f"--max-steps ({settings.max_steps}) taken before the knee was bracketed within "
                             f"{settings.precision:.0%}")


def _round_rate(rate: float) -> float:
    """Three significant digits: a rate a person can read and type again."""
    if rate <= 0:
        return rate
    digits = 3 - math.floor(math.log10(rate)) - 1
    return round(rate, max(digits, 0))


def _measure(index: int, phase: str, rate: float, users: int, run: LoadRunResult, settings: CapacitySettings,
             step_dir: Path) -> CapacityStep:
    """The step's figures over its measured window: the timeline intervals that start after the warm-up."""
    histograms = run.histograms
    width = histograms.interval_s if histograms is not None else 0.0
    window = ([] if histograms is None else
              [i for i in histograms.intervals if i.t_s - width >= settings.warmup_s - 1e-9])
    requests = sum(interval.requests for interval in window)
    errors = sum(interval.errors for interval in window)
    measured_s = len(window) * width
    full = window[:-1]  # the last interval holds the stop: not a full one for the rate
    achieved = (sum(interval.requests for interval in full) / (len(full) * width) if full
                else requests / measured_s if measured_s else 0.0)
    merged = new_histogram()
    for interval in window:
        if interval.histogram is not None:
            merged.add(HdrHistogram.decode(interval.histogram))
    latency: dict[str, float] = {}
    if merged.get_total_count():
        latency = {f"p{p:g}": merged.get_value_at_percentile(p) / 1000.0 for p in (50, 90, 95, 99)}
        latency["max"] = merged.get_max_value() / 1000.0
    error_rate = errors / requests if requests else 0.0
    # The failure ratio has no per-interval figure: the whole step's (warm-up included) stands for it.
    slos = evaluate(settings.load.slos, latency, error_rate, run.failure_ratio, requests, run.answered)
    return CapacityStep(
        index=index, phase=phase, rate=rate, users=users, measured_s=round(measured_s, 3), requests=requests,
        achieved_rps=round(achieved, 2), errors=errors, error_rate=error_rate, failure_ratio=run.failure_ratio,
        latency_ms=latency, slos=slos, generator_cpu_max=run.generator_cpu_max,
        generator_cpu_mean=run.generator_cpu_mean, generator_saturated=run.generator_saturated,
        coupons_issued=run.coupons_issued, violation_counts=dict(run.violation_counts), report_dir=str(step_dir),
        stopped_reason=run.stopped_reason, generator_late_share=run.generator_late_share,
        generator_behind=run.generator_behind, answered=run.answered)


def _keep_codes(coupons_path: Path, offset: int, ledger: Ledger) -> None:
    """The coupons a step appended (from byte `offset` on) into the search's one store: a code issued in two
    steps is a duplicate no step alone sees."""
    batch: list[tuple[object, str, str]] = []
    with coupons_path.open(newline="", encoding="utf-8", errors="replace") as file:
        file.seek(offset)
        for row in csv.reader(file):
            if len(row) < 3 or tuple(row[:3]) == HEADER[:3]:
                continue
            series: object = int(row[0]) if row[0].lstrip("-").isdigit() else row[0]
            batch.append((series, row[1], row[2]))
            if len(batch) >= 10_000:
                ledger.issue_codes(batch)
                batch = []
    if batch:
        ledger.issue_codes(batch)


def _add_violations(result: CapacityResult, run: LoadRunResult) -> None:
    for rule, count in run.violation_counts.items():
        if rule == RuleId.UNIQUE_CODES.value:
            continue  # decided once for the whole search, from every step's codes
        result.violation_counts[rule] = result.violation_counts.get(rule, 0) + count
    for rule, example in run.violation_examples.items():
        result.violation_examples.setdefault(rule, example)


def _conclude(result: CapacityResult, settings: CapacitySettings) -> None:
    steps = result.steps
    held = [s for s in steps if s.met and not s.generator_limited]
    limited = [s for s in steps if s.generator_limited]
    best = max((s.rate for s in held), default=None)
    if limited:
        first = limited[0]
        result.generator_limited = True
        result.generator_limit_rps = first.achieved_rps
        why = (f"its CPU saturated (up to {first.generator_cpu_max:.0f}%)" if first.generator_saturated else
               f"it fell behind its schedule ({first.generator_late_share or 0:.0%} of its sends late, CPU up to "
               f"{first.generator_cpu_max:.0f}%: short of CPU, or starved by other processes)")
        result.notes.append(
            f"the generator was the limit at {first.rate:g} req/s ({why}; it sent {first.achieved_rps:g} req/s) "
            "before the target broke an SLO: past this point the latencies measure the generator, not the "
            "target; run the search with --workers N (or from a machine of its own)"
            + (f"; the target met every SLO up to {best:g} req/s" if best is not None else ""))
        return
    result.capacity_rps = best
    broke = [s.rate for s in steps if not s.met and (best is None or s.rate > best)]
    result.breaking_rps = min(broke, default=None)
    result.reached_max_rate = best is not None and best >= settings.max_rate and result.breaking_rps is None
    if result.reached_max_rate:
        result.notes.append(f"every SLO held up to --max-rate {settings.max_rate:g} req/s: the capacity is at least "
                            "that; raise --max-rate to find the knee")
    elif best is None and result.breaking_rps is not None and not result.interrupted and not result.stopped_reason:
        result.notes.append(f"even {min(s.rate for s in steps):g} req/s broke an SLO: the target cannot meet them "
                            "at any rate tried")
    for step in steps:
        if step.met and step.achieved_rps < 0.9 * step.rate:
            result.notes.append(f"step {step.index + 1}: {step.achieved_rps:g} req/s answered of {step.rate:g} "
                                "scheduled (answers late past the step's end are not counted in its rate)")


def _step_line(step: CapacityStep) -> str:
    p95 = step.latency_ms.get("p95")
    verdict = "met" if step.met else "broke " + ", ".join(
        f"{slo.key}" for slo in step.slos if not slo.passed)
    cpu = ""
    if step.generator_saturated:
        cpu = f", generator CPU {step.generator_cpu_max:.0f}% (saturated)"
    elif step.generator_behind:
        cpu = f", generator behind its schedule ({step.generator_late_share or 0:.0%} of sends late)"
    return (f"step {step.index + 1}: {step.rate:g} req/s -> {step.achieved_rps:g} answered/s, p95 "
            f"{'-' if p95 is None else f'{p95:.1f} ms'}, error rate {step.error_rate:.2%}: {verdict}{cpu}")
