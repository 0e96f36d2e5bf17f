"""Typed results of a load run: what the load runner produces and reporting consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LATENCY_KEYS", "LoadRunResult", "SloResult", "TimelinePoint"]

#: The latency figures every load result carries, in milliseconds, from an HDR histogram of unrounded times.
LATENCY_KEYS = ("min", "p50", "p90", "p95", "p99", "p99.9", "max", "mean")


@dataclass(frozen=True, slots=True)
class SloResult:
    """One --slo gate: `p95<=300ms`, `error-rate<=0.01`, ..."""

    key: str
    threshold: float
    #: "ms" for latency keys, "ratio" for error-rate and failure-ratio.
    unit: str
    measured: float | None
    passed: bool


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """One interval of the run (figures of that interval alone)."""

    t_s: float
    requests: int
    errors: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(slots=True)
class LoadRunResult:
    target: str
    started_at: str
    duration_s: float
    shape: str
    users: int | None
    arrival_rate: float | None
    workers: int
    requests: int
    #: "200", "400", "500", ..., and "transport" for hung or dropped requests.
    status_counts: dict[str, int]
    #: Rule id -> responses that broke it (a 200 can break several).
    violation_counts: dict[str, int]
    #: Rule id -> one example "expected ...; received ..." (low cardinality, for the report).
    violation_examples: dict[str, str]
    #: LATENCY_KEYS -> milliseconds; empty when no request completed.
    latency_ms: dict[str, float]
    #: Requests that were not 200 or broke the contract, over all requests.
    error_rate: float
    #: Σ totalCount and Σ failureCount over the 200 answers.
    entities: int
    entity_failures: int
    #: Entities of series configured invalid (expected to fail), and how many of them did.
    expected_failures: int
    #: Entities of other series that failed (valid series answered with errors).
    unexpected_failures: int
    #: unexpected_failures / entities of series not configured invalid.
    failure_ratio: float
    entity_error_codes: dict[str, int]
    coupons_issued: int
    duplicate_codes: int
    timeline: list[TimelinePoint] = field(default_factory=list)
    slos: list[SloResult] = field(default_factory=list)
    generator_cpu_max: float = 0.0
    generator_cpu_mean: float = 0.0
    #: The generator's CPU was above ~90%: latencies then measure the generator, not the target.
    generator_saturated: bool = False
    interrupted: bool = False
    #: Why the run stopped before its time, e.g. "--max-coupons reached (10000)".
    stopped_reason: str | None = None
    notes: list[str] = field(default_factory=list)
    #: Files the run wrote beside the reports (coupons.csv, locust_stats.json), name -> path.
    files: dict[str, str] = field(default_factory=dict)
    #: Exceptions raised inside the harness's own load code (a bug: the figures are not to be trusted).
    harness_errors: list[str] = field(default_factory=list)

    @property
    def failure_count_ratio(self) -> float:
        """Σ failureCount / Σ totalCount, expected failures included."""
        return self.entity_failures / self.entities if self.entities else 0.0

    @property
    def violations(self) -> int:
        return sum(self.violation_counts.values())

    @property
    def slos_met(self) -> bool:
        return all(slo.passed for slo in self.slos)

    @property
    def holds(self) -> bool:
        """The gate: every SLO met and no contract violation."""
        return self.slos_met and not self.violation_counts
