"""Typed results of a load run: what the load runner produces and reporting consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, TypedDict

from coupon_harness.contract.catalog import RuleId
from coupon_harness.results.codec import FrozenRecord, RunResult

__all__ = ["COMPARE_KEYS", "LATENCY_KEYS", "TRANSPORT_STATUS", "Comparison", "ComparisonRow", "IntervalHistogram",
           "LoadHistograms", "LoadReplay", "LoadRunResult", "MaxRegression", "SampleData", "SloResult", "StepFigures",
           "TimelinePoint", "no_answer_line"]

#: The latency figures every load result carries, in milliseconds, from an HDR histogram of unrounded times.
LATENCY_KEYS = ("min", "p50", "p90", "p95", "p99", "p99.9", "max", "mean")
#: The status of a request that got no whole answer (hung past the deadline, dropped, cut): the rule's name.
TRANSPORT_STATUS: str = RuleId.TRANSPORT.value


def no_answer_line(requests: int, request_timeout_s: float | None) -> str:
    """The one line of a run (or step) that completed no answer: no verdict can rest on it."""
    within = f" within --request-timeout {request_timeout_s:g} s" if request_timeout_s is not None else ""
    return f"no answer completed{within} ({requests:,} request{'' if requests == 1 else 's'} sent)"


@dataclass(frozen=True, slots=True)
class SloResult(FrozenRecord):
    """One --slo gate: `p95<=300ms`, `error-rate<=0.01`, ..."""

    key: str
    threshold: float
    #: "ms" for latency keys, "ratio" for error-rate and failure-ratio.
    unit: str
    measured: float | None
    passed: bool


@dataclass(frozen=True, slots=True)
class TimelinePoint(FrozenRecord):
    """One interval of the run (figures of that interval alone)."""

    t_s: float
    requests: int
    errors: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class SampleData(TypedDict):
    """A request as sent, credentials redacted: `results.request.RequestSample` in its JSON form
    (`request_dict`), which reporting turns back into a RequestSample for its curl command. The load results
    carry the JSON form because the load runner ships it between processes and this layer imports no other."""

    method: str
    url: str
    headers: list[list[str]]
    body: str | None


@dataclass(frozen=True, slots=True)
class StepFigures(FrozenRecord):
    """One step of the run's shape (ramp: five, spike: three, steady and soak: one) and its figures, from the
    timeline intervals whose middle lies in its window. `start_s`/`end_s` are seconds on the charts' time axis;
    `rate` is the arrival rate (open model), else None."""

    index: int
    users: int | None
    rate: float | None
    start_s: float
    end_s: float
    requests: int
    errors: int
    error_rate: float
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


#: The keys of --max-regression: latency percentiles (worse when higher), throughput (worse when lower), the
#: error rate and the SLO's failure ratio (worse when higher).
COMPARE_KEYS = ("p50", "p90", "p95", "p99", "max", "throughput", "error-rate", "failure-ratio")


@dataclass(frozen=True, slots=True)
class MaxRegression(FrozenRecord):
    """One --max-regression: how much worse than the earlier run `key` may get before it is a regression.

    `relative` limits are fractions of the earlier figure (`p95=10%`: 0.10; throughput: a drop); absolute ones
    are milliseconds for latency keys (`p95=20ms`) and fractions for error-rate and failure-ratio
    (`error-rate=0.5%` or `error-rate=0.005`: half a percentage point more)."""

    key: str
    limit: float
    relative: bool


@dataclass(frozen=True, slots=True)
class IntervalHistogram(FrozenRecord):
    """One timeline interval's raw material for a later comparison: its requests, errors and HDR histogram
    of latencies in microseconds (`HdrHistogram.encode()`, base64 text; None when nothing completed)."""

    t_s: float
    requests: int
    errors: int
    histogram: str | None


@dataclass(frozen=True, slots=True)
class LoadHistograms(FrozenRecord):
    """The HDR histograms of a run (microseconds, 1 us .. 10 min, 3 significant digits): the whole run's and
    one per interval of `interval_s` seconds, so a later run can be compared with this one beyond noise."""

    interval_s: float
    total: str
    intervals: tuple[IntervalHistogram, ...]


@dataclass(frozen=True, slots=True)
class ComparisonRow(FrozenRecord):
    """One figure of the run next to the earlier run's, with the change and its 95% bootstrap interval.

    `change` (and `low`/`high`) is relative (0.12 = +12%) for latency and throughput, absolute (a difference
    of fractions) for error-rate and failure-ratio; None when it cannot be computed (an earlier figure of 0
    for a relative change). `verdict`: "regression" (beyond the --max-regression limit, whole interval),
    "worse" / "better" (the interval excludes no change), "within noise", "no interval" (point figures only)."""

    key: str
    label: str
    unit: str
    earlier: float | None
    current: float | None
    change: float | None
    relative: bool
    low: float | None = None
    high: float | None = None
    limit: MaxRegression | None = None
    verdict: str = "no interval"

    @property
    def regression(self) -> bool:
        return self.verdict == "regression"


@dataclass(frozen=True, slots=True)
class Comparison(FrozenRecord):
    """This run against an earlier one (--compare)."""

    #: Where the earlier summary.json was read (as given).
    earlier_source: str
    earlier_started_at: str
    earlier_target: str
    rows: tuple[ComparisonRow, ...]
    #: Entity error code -> (earlier count, current count).
    error_codes: dict[str, tuple[int, int]]
    #: False when a run carries no histograms or too few intervals: point figures only, no regression called.
    noise_judged: bool
    resamples: int
    seed: int
    confidence: float = 0.95
    notes: tuple[str, ...] = ()
    #: The earlier run's timeline, drawn dashed under this run's (empty in an older summary.json).
    earlier_timeline: tuple[TimelinePoint, ...] = ()

    @property
    def regressions(self) -> list[ComparisonRow]:
        return [row for row in self.rows if row.regression]

    @property
    def regressed(self) -> bool:
        return any(row.regression for row in self.rows)


@dataclass(frozen=True, slots=True)
class LoadReplay(FrozenRecord):
    """What shaped a `coupon-harness load` run beyond the result's own figures (target, shape, users, rate,
    workers, SLOs, request timeout), for the report's Rerun line. Credentials only by kind, never a value."""

    series_ids: tuple[int, ...] = ()
    invalid_series_ids: tuple[int, ...] = ()
    generic_series_ids: tuple[int, ...] = ()
    customer_ids: tuple[str, ...] = ()
    credentials: str | None = None
    invalid_share: float = 0.0
    batch_min: int = 1
    batch_max: int = 2
    spawn_rate: float | None = None
    run_time_s: float = 30.0
    wait_s: float = 0.0
    #: --workers: local worker processes.
    workers: int = 0
    max_coupons: int | None = None
    allow_production: bool = False
    abort_on_fail: bool = False
    abort_violations: int = 1
    abort_grace_s: float = 5.0
    #: The names of the extra headers (`-H`), never their values: replayed as variable references.
    header_names: tuple[str, ...] = ()
    #: TLS as given: --no-tls-verify, --cacert, --client-cert/--client-key (paths, not secrets).
    tls_verify: bool = True
    cacert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None


@dataclass(slots=True)
class LoadRunResult(RunResult):
    JSON_FORMAT: ClassVar[str] = "load-result"

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
    #: Open model: the share of scheduled sends a generator made more than `recorder.LATE_S` late while its user
    #: was idle (its own delay); None: closed model.
    generator_late_share: float | None = None
    #: That share was above `recorder.BEHIND_SHARE`: latencies include the generator's own delay.
    generator_behind: bool = False
    interrupted: bool = False
    #: Why the run stopped before its time, e.g. "--max-coupons reached (10000)".
    stopped_reason: str | None = None
    notes: list[str] = field(default_factory=list)
    #: Files the run wrote beside the reports (coupons.csv, locust_stats.json), name -> path.
    files: dict[str, str] = field(default_factory=dict)
    #: Exceptions raised inside the harness's own load code (a bug: the figures are not to be trusted).
    harness_errors: list[str] = field(default_factory=list)
    #: The raw material of a later --compare (None in summaries of older versions).
    histograms: LoadHistograms | None = None
    #: This run against an earlier one, when --compare was given.
    comparison: Comparison | None = None
    #: Rule id -> the first request that broke it, as sent (redacted); none for rules decided across answers.
    violation_samples: dict[str, SampleData] = field(default_factory=dict)
    #: The shape's steps with their figures (one for steady and soak; empty in summaries of older versions).
    steps: list[StepFigures] = field(default_factory=list)
    #: --request-timeout: every request's deadline (None in summaries of older versions).
    request_timeout_s: float | None = None
    #: The flags of a `coupon-harness load` run, for its Rerun line (None: not a `load` run, or an older summary).
    replay: LoadReplay | None = None

    @property
    def failure_count_ratio(self) -> float:
        """Σ failureCount / Σ totalCount, expected failures included."""
        return self.entity_failures / self.entities if self.entities else 0.0

    @property
    def violations(self) -> int:
        return sum(self.violation_counts.values())

    @property
    def regressed(self) -> bool:
        """A --max-regression limit broken against the --compare run (beyond noise); it fails the gate (exit 1)."""
        return self.comparison is not None and self.comparison.regressed

    @property
    def slos_met(self) -> bool:
        return all(slo.passed for slo in self.slos)

    @property
    def answered(self) -> int:
        """Requests that got a whole answer (any status): those that did not are counted under "transport"."""
        return self.requests - self.status_counts.get(TRANSPORT_STATUS, 0)

    @property
    def no_answer(self) -> str | None:
        """The one line of a run that completed no answer (None when one did; and for a run interrupted before
        it sent anything, which says so itself)."""
        if self.answered > 0 or (self.interrupted and not self.requests):
            return None
        return no_answer_line(self.requests, self.request_timeout_s)

    @property
    def holds(self) -> bool:
        """The gate: at least one answer completed (no verdict without evidence), every SLO met and no contract
        violation."""
        return self.answered > 0 and self.slos_met and not self.violation_counts
