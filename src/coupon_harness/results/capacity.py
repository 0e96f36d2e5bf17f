"""Typed results of a capacity search: what the capacity runner produces and reporting consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from coupon_harness.results.codec import FrozenRecord, RunResult
from coupon_harness.results.load import LoadReplay, SloResult

__all__ = ["CapacityResult", "CapacityStep"]


@dataclass(frozen=True, slots=True)
class CapacityStep(FrozenRecord):
    """One step of the search: an open-model load run at `rate` req/s; its figures (and `slos`) are those of the
    window measured after the warm-up. `phase`: "grow" (doubling), "shrink" (halving when the first rate broke
    the SLOs) or "bisect"."""

    index: int
    phase: str
    rate: float
    users: int
    #: Seconds measured (after the warm-up) and the requests answered in them.
    measured_s: float
    requests: int
    achieved_rps: float
    errors: int
    error_rate: float
    failure_ratio: float
    #: p50, p90, p95, p99, max in milliseconds over the measured window (empty when nothing was answered).
    latency_ms: dict[str, float]
    slos: list[SloResult]
    generator_cpu_max: float
    generator_cpu_mean: float
    generator_saturated: bool
    coupons_issued: int
    #: Rule id -> responses that broke it during the whole step (warm-up included: a violation is a violation).
    violation_counts: dict[str, int] = field(default_factory=dict)
    #: Where the step's own load reports are (summary.json, report.html, coupons.csv).
    report_dir: str = ""
    stopped_reason: str | None = None
    #: The share of scheduled sends the generator made late (its own delay), and whether that put it behind.
    generator_late_share: float | None = None
    generator_behind: bool = False
    #: Requests of the whole step (warm-up included) that got a whole answer; None in older summaries.
    answered: int | None = None

    @property
    def generator_limited(self) -> bool:
        """The generator, not the target, set this step's figures: its CPU saturated, or it fell behind."""
        return self.generator_saturated or self.generator_behind

    @property
    def met(self) -> bool:
        """Every SLO held over the measured window, and something was measured: a step whose every request hung
        past its deadline (no answer completed) never meets an SLO."""
        return self.requests > 0 and self.answered != 0 and all(slo.passed for slo in self.slos)


@dataclass(slots=True)
class CapacityResult(RunResult):
    JSON_FORMAT: ClassVar[str] = "capacity-result"

    #: The SLOs the search keeps (`str(Slo)`: "p95<=300ms").
    slos: list[str]
    start_rate: float
    max_rate: float
    step_time_s: float
    warmup_s: float
    #: Relative width of the final bracket: the search stops when breaking / capacity <= 1 + precision.
    precision: float
    workers: int
    #: --min-capacity: the gate fails (exit 1) below it.
    min_capacity: float | None = None
    steps: list[CapacityStep] = field(default_factory=list)
    #: The highest rate that met every SLO (None: none did, or the generator was the limit).
    capacity_rps: float | None = None
    #: The lowest rate that broke an SLO (None: none did up to max_rate).
    breaking_rps: float | None = None
    #: The generator's CPU saturated before the target broke: what was measured is the generator, not the target.
    generator_limited: bool = False
    #: The highest rate the generator sustained (when generator_limited).
    generator_limit_rps: float | None = None
    #: The target held every SLO at --max-rate: its capacity is at least that.
    reached_max_rate: bool = False
    coupons_issued: int = 0
    #: Codes issued twice across the whole search (every step's codes in one exact store).
    duplicate_codes: int = 0
    violation_counts: dict[str, int] = field(default_factory=dict)
    violation_examples: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    #: Why the search ended before it bracketed the knee (the coupon cap, a signal, --max-steps).
    stopped_reason: str | None = None
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    harness_errors: list[str] = field(default_factory=list)
    #: What else shaped the search, for its Rerun line (None in older summaries): the load flags every step
    #: shares, the users of every step (None: sized per step), the most steps and the request timeout.
    replay: LoadReplay | None = None
    users: int | None = None
    max_steps: int | None = None
    request_timeout_s: float | None = None

    @property
    def violations(self) -> int:
        return sum(self.violation_counts.values())

    @property
    def verdict(self) -> str:
        """One phrase for the headline."""
        if self.generator_limited:
            return "generator-limited"
        if self.interrupted:
            return "interrupted"
        if self.reached_max_rate:
            return "above max-rate"
        if self.capacity_rps is not None and self.breaking_rps is not None:
            return "knee found"
        if self.breaking_rps is not None:
            return "broke at the lowest rate"
        return "incomplete"
