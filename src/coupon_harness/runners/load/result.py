"""Turns a finished run's aggregate into the typed LoadRunResult (SLOs judged, generator CPU read, figures per
step of the shape)."""

from __future__ import annotations

from coupon_harness.results.load import TRANSPORT_STATUS, LoadRunResult
from coupon_harness.runners.load.plugin import SATURATED_CPU, LoadState
from coupon_harness.runners.load.recorder import BEHIND_MIN_WAITS, BEHIND_SHARE, LATE_S, step_figures
from coupon_harness.runners.load.settings import LoadSettings
from coupon_harness.runners.load.slo import evaluate

__all__ = ["build_result"]


def build_result(settings: LoadSettings, state: LoadState, started_at: str, duration_s: float,
                 interrupted: bool, workers: int, *, final: bool = True) -> LoadRunResult:
    """`final` False: the run goes on (plain Locust's web UI reports each stop): coupons.csv is synced, not closed."""
    aggregate = state.aggregate
    assert aggregate is not None
    if final:
        aggregate.close()
    else:
        aggregate.sync()
    counters = aggregate.counters
    requests = counters["requests"]
    answered = requests - aggregate.statuses.get(TRANSPORT_STATUS, 0)
    errors = counters["errors"]
    # With no answer completed, the latencies measure the deadline, not the target: none is shown.
    latency = aggregate.percentiles_ms() if answered > 0 else {}
    error_rate = errors / requests if requests else 0.0
    others = counters["other_entities"]
    failure_ratio = counters["unexpected_failures"] / others if others else 0.0
    cpu = state.cpu_samples
    saturated = bool(cpu) and sum(1 for c in cpu if c >= SATURATED_CPU) >= max(1, len(cpu) // 5)
    notes = []
    waits, late = counters["schedule_waits"], counters["schedule_late"]
    late_share = late / waits if waits else None
    behind = late_share is not None and waits >= BEHIND_MIN_WAITS and late_share > BEHIND_SHARE
    if behind:
        notes.append(f"the generator fell behind its own schedule: {late_share:.0%} of its sends left more than "
                     f"{LATE_S * 1000:.0f} ms after their time (or after their user's last answer) through its own "
                     "delay (its process was short of CPU: saturated, or starved by other processes); latencies, "
                     "counted from the intended time, include that delay (use --workers, or a machine of its own)")
    if saturated:
        notes.append("the generator's CPU was above 90% for a fifth of the run or more: latencies measure "
                     "the generator, not the target (use --workers or a bigger machine)")
    result = LoadRunResult(
        target=state.redactor.text(settings.base_url), started_at=started_at, duration_s=round(duration_s, 3),
        shape=settings.shape,
        users=settings.users, arrival_rate=settings.arrival_rate, workers=workers, requests=requests,
        status_counts=dict(aggregate.statuses), violation_counts=dict(aggregate.violations),
        violation_examples=dict(aggregate.examples), latency_ms=latency, error_rate=error_rate,
        entities=counters["entities"], entity_failures=counters["entity_failures"],
        expected_failures=counters["expected_failures"], unexpected_failures=counters["unexpected_failures"],
        failure_ratio=failure_ratio, entity_error_codes=dict(aggregate.error_codes),
        coupons_issued=aggregate.coupons_issued, duplicate_codes=aggregate.duplicates,
        timeline=aggregate.timeline(),
        slos=evaluate(settings.slos, latency, error_rate, failure_ratio, requests, answered),
        generator_cpu_max=max(cpu, default=0.0), generator_cpu_mean=sum(cpu) / len(cpu) if cpu else 0.0,
        generator_saturated=saturated, generator_late_share=late_share, generator_behind=behind,
        interrupted=interrupted, stopped_reason=state.stopped_reason,
        notes=notes, histograms=aggregate.export_histograms(),
        violation_samples=dict(aggregate.samples),
        steps=step_figures(aggregate, state.steps, settings.users, settings.arrival_rate),
        request_timeout_s=settings.request_timeout,
        replay=settings.replay(
            state.redactor, spawn_rate=settings.spawn_rate if settings.arrival_rate is None else None,
            run_time_s=settings.run_time_s, wait_s=settings.wait_s, abort_on_fail=settings.abort_on_fail,
            abort_violations=settings.abort_violations, abort_grace_s=settings.abort_grace_s,
        ) if settings.coupon_source == "load" else None,
    )
    if result.no_answer is not None:
        result.notes.insert(0, result.no_answer)
    return result
