"""Figures of a load run: exact latency percentiles (HDR histograms), counters, a timeline, and the
cross-response rules (the contract's `Ledger`: unique codes, stable series attributes, over the whole run).

A generator records into a `Recorder`; `take_delta()` hands what it gathered to the `Aggregate` (in process
for a local run, through Locust's report_to_master on a master), which alone feeds the Ledger and writes
coupons.csv. A delta carries attribute sets as process-independent digests (their reading the first time),
and per rule broken one redacted request that broke it. Past `MAX_INTERVALS` the aggregate merges adjacent
intervals in pairs, exactly, so memory and the report stay bounded however long the run.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from hdrh.histogram import HdrHistogram

from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.ledger import AttributeDigests, Ledger, shown_attributes
from coupon_harness.contract.violations import Violation
from coupon_harness.coupon_log import CouponLog, CouponLogError, stamp
from coupon_harness.results.load import IntervalHistogram, LoadHistograms, SampleData, StepFigures, TimelinePoint
from coupon_harness.runners.load.checker import CheckOutcome
from coupon_harness.transport.credentials import Credentials
from coupon_harness.transport.redaction import Redactor  # standard library only (not transport.auth: requests)

__all__ = ["BEHIND_MIN_WAITS", "BEHIND_SHARE", "LATE_S", "MAX_INTERVALS", "Aggregate", "Recorder", "ShapeStep",
           "new_histogram", "step_figures"]

#: Microseconds, 1 us .. 10 min, 3 significant digits (0.1% resolution).
_LOWEST, _HIGHEST, _DIGITS = 1, 600_000_000, 3
#: The most timeline intervals the aggregate keeps (~170 kB each in memory): more are merged in pairs.
MAX_INTERVALS = 600
#: A partial interval that covers less than this share of its width reads at most the run's average rate.
MIN_COVERED = 0.1
#: Open model: a send this late was held up by its own process (short of CPU), not by the target; more than
#: BEHIND_SHARE of such sends and the generator is behind its schedule.
LATE_S = 0.010
BEHIND_SHARE = 0.05
#: Fewer scheduled sends than this judge nothing.
BEHIND_MIN_WAITS = 100
#: A sample's body is cut past this many characters (a load request's body is a few hundred).
_SAMPLE_BODY_LIMIT = 8192


def new_histogram() -> HdrHistogram:
    return HdrHistogram(_LOWEST, _HIGHEST, _DIGITS)


def _encode(histogram: HdrHistogram) -> str:
    encoded: bytes = histogram.encode()
    return encoded.decode() if isinstance(encoded, bytes) else str(encoded)


class _Figures:
    """Per-interval histograms and [requests, errors], and counters: a recorder's delta and the aggregate."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._clear()

    def _clear(self) -> None:
        self.histograms: dict[int, HdrHistogram] = {}
        self.bucket_counts: dict[int, list[int]] = {}
        self.counters: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.violations: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        #: Rule id -> one request that broke it, as sent and redacted (RequestSample's JSON form).
        self.samples: dict[str, SampleData] = {}
        self.error_codes: Counter[str] = Counter()


class Recorder(_Figures):
    """One generator's figures since the last delta (gevent: one thread). With a `redactor`, every text from
    the target it keeps is redacted whole, before anything cuts it."""

    def __init__(self, interval_s: float, redactor: Redactor | None = None) -> None:
        super().__init__(interval_s)
        self._redactor = redactor
        self._digests = AttributeDigests()
        #: (series, attribute digests) whose reading this process shipped already (bounded: it may ship again).
        self._shipped: set[tuple[int, tuple[str, ...]]] = set()

    def _clear(self) -> None:
        super()._clear()
        self.coupons: list[tuple[int, str, str]] = []
        #: When each coupon's answer arrived (epoch seconds), in the order of `coupons`.
        self.coupon_times: list[float] = []
        #: (series, attribute values) -> coupons that carried them, since the last delta.
        self.attribute_counts: dict[tuple[int, tuple[Any, ...]], int] = {}
        #: (series, attribute digests) -> [count, values] of the sets whose values cannot be a dict key.
        self._digested: dict[tuple[int, tuple[str, ...]], list[Any]] = {}
        #: Wall clock of the earliest request sent (or scheduled) and the latest answer: the delta's traffic span.
        self.first_sent = math.inf
        self.last_answered = -math.inf
        #: Coupons issued before the load (`carry`), and whether coupons.csv lists them already.
        self.carried: list[list[Any]] = []
        self.carried_listed = False

    def woke(self, late_s: float) -> None:
        """Open model: a scheduled send left `late_s` after its time (or its user's last answer): own delay."""
        c = self.counters
        c["schedule_waits"] += 1
        if late_s > LATE_S:
            c["schedule_late"] += 1

    # Complexity allowed: the recorder's hot path: one answer's figures in one pass.
    def record(self, outcome: CheckOutcome, latency_s: float, customer_id: str, at: float | None = None) -> None:  # noqa: C901
        if at is None:
            at = time.time()
        bucket = int(at // self.interval_s)
        self.first_sent = min(self.first_sent, at - latency_s)
        self.last_answered = max(self.last_answered, at)
        histogram = self.histograms.get(bucket)
        if histogram is None:
            histogram = self.histograms[bucket] = new_histogram()
            self.bucket_counts[bucket] = [0, 0]
        micros = int(latency_s * 1_000_000)
        histogram.record_value(_LOWEST if micros < _LOWEST else _HIGHEST if micros > _HIGHEST else micros)
        bucket_counts = self.bucket_counts[bucket]
        bucket_counts[0] += 1
        self.statuses[outcome.status] += 1
        c = self.counters
        c["requests"] += 1
        if outcome.violations or outcome.status != "200":
            bucket_counts[1] += 1
            c["errors"] += 1
            for violation in outcome.violations:
                self.violations[violation.rule_id] += 1
                if violation.rule_id not in self.examples:  # once per rule and delta: redacting costs nothing
                    example = f"expected {violation.expected}; received {violation.received}"
                    self.examples[violation.rule_id] = self._redactor.text(example) if self._redactor else example
        tally = outcome.tally
        if tally is None:
            return
        c["entities"] += outcome.entities
        c["entity_failures"] += outcome.entity_failures
        if tally.expected_entities:
            c["expected_entities"] += tally.expected_entities
            c["expected_failures"] += tally.expected_failures
        c["other_entities"] += tally.other_entities
        if tally.unexpected_failures:
            c["unexpected_failures"] += tally.unexpected_failures
        for code in tally.error_codes:
            self.error_codes[str(code)] += 1
        coupons = tally.coupons
        if not coupons:
            return
        # series-attributes-stable: counted by the values; digested once per set and delta, in take_delta.
        counts = self.attribute_counts
        for (series, _), values in zip(coupons, tally.attributes, strict=False):
            key = (series, values)
            try:
                counts[key] = counts.get(key, 0) + 1
            except TypeError:  # a list or object among the attributes (a broken target): digest it now
                self._count_digested(series, values)
        redactor = self._redactor
        if redactor is not None:
            # One pass over the codes joined; code by code only when it found a secret.
            joined = "\n".join([code for _, code in coupons])
            if redactor.text(joined) != joined:
                coupons = [(series, redactor.text(code)) for series, code in coupons]
        for series, coupon in coupons:
            self.coupons.append((series, coupon, customer_id))
        self.coupon_times.extend([at] * len(coupons))

    def carry(self, rows: Sequence[Sequence[Any]], *, listed: bool = False) -> None:
        """The preflight's coupons, as coupons.csv rows: the next delta takes them to the aggregate, which
        counts and checks them, and lists them unless `listed` (the preflight did)."""
        self.carried.extend([list(row) for row in rows])
        self.carried_listed = listed

    def wants_sample(self, outcome: CheckOutcome) -> bool:
        """Whether `outcome` broke a rule with no sample in this delta yet (cheap: the user asks per answer)."""
        samples = self.samples
        return any(violation.rule_id not in samples for violation in outcome.violations)

    def add_sample(self, outcome: CheckOutcome, method: str, url: str, headers: Mapping[str, str],
                   body: bytes | str | None) -> None:
        """The request behind `outcome`, redacted whole, as the sample of each rule it broke that has none."""
        wanted = [violation.rule_id for violation in outcome.violations if violation.rule_id not in self.samples]
        if not wanted:
            return
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        # Without a redactor (a test's recorder; the load process always has one), the sensitive headers still go.
        redactor = self._redactor or Redactor(Credentials())
        url = redactor.text(url)
        shown = [[name, value] for name, value in redactor.headers(headers)]
        text = None if text is None else redactor.text(text)
        if text is not None and len(text) > _SAMPLE_BODY_LIMIT:
            text = f"{text[:_SAMPLE_BODY_LIMIT]}… (cut: {len(text)} characters in all)"
        sample = SampleData(method=method, url=url, headers=shown, body=text)
        for rule in wanted:
            self.samples[rule] = sample

    def _count_digested(self, series: int, values: tuple[Any, ...]) -> None:
        key = (series, self._digests(values))
        known = self._digested.get(key)
        if known is None:
            self._digested[key] = [1, values]
        else:
            known[0] += 1

    def _attributes_delta(self) -> list[list[Any]]:
        """[series, digests, coupons, readings] per distinct (series, set); readings (redacted) only the first
        time this process ships the set."""
        merged: dict[tuple[int, tuple[str, ...]], list[Any]] = {}
        counted = (((series, self._digests(values)), (count, values))
                   for (series, values), count in self.attribute_counts.items())
        for key, (count, values) in itertools.chain(counted, self._digested.items()):
            known = merged.get(key)
            if known is None:
                merged[key] = [count, values]
            else:
                known[0] += count
        shipped = self._shipped
        redactor = self._redactor
        delta = []
        for (series, digests), (count, values) in merged.items():
            readings: list[str] = []
            if (series, digests) not in shipped:
                if len(shipped) >= 4096:  # a drifting target: forget, and show some sets again
                    shipped.clear()
                shipped.add((series, digests))
                readings = list(shown_attributes(values))
                if redactor is not None:
                    readings = [redactor.text(text) for text in readings]
            delta.append([series, list(digests), count, readings])
        return delta

    def take_delta(self) -> dict[str, Any]:
        """Everything since the last call, JSON-able; the recorder starts afresh."""
        delta = {
            "histograms": {str(b): _encode(h) for b, h in self.histograms.items()},
            "bucket_counts": {str(b): c for b, c in self.bucket_counts.items()},
            "counters": dict(self.counters),
            "statuses": dict(self.statuses),
            "violations": dict(self.violations),
            "examples": self.examples,
            "samples": self.samples,
            "error_codes": dict(self.error_codes),
            "coupons": self.coupons,
            "coupon_times": self.coupon_times,
            "carried": self.carried,
            "carried_listed": self.carried_listed,
            "attributes": self._attributes_delta(),
            # [first sent, last answered] of this delta's requests (wall clock); None when it has none.
            "span": [self.first_sent, self.last_answered] if self.counters["requests"] else None,
        }
        self._clear()
        return delta


class Aggregate(_Figures):
    """The run's figures, merged from every generator's deltas; its `ledger` judges the whole run."""

    def __init__(self, interval_s: float, generic_series: frozenset[int], coupons_csv: Path | None,
                 ledger: Ledger | None = None, bridge_s: float = math.inf, max_intervals: int = MAX_INTERVALS,
                 coupon_source: str = "load") -> None:
        super().__init__(interval_s)
        #: The recorders' interval; the aggregate's own (`interval_s`) is `factor` of them (a power of two).
        self.base_interval_s = interval_s
        self.factor = 1
        self.max_intervals = max(2, max_intervals)
        #: Traffic spans ([first sent, last answered], sorted, disjoint), joined across gaps under `bridge_s`.
        self.spans: list[list[float]] = []
        self.bridge_s = bridge_s
        self.generic = generic_series
        self.total = new_histogram()
        #: The contract Ledger's exact CodeStore: ~9 bytes a coupon, under 1 GB at 10^8 (scripts/bench_soak.py).
        self.ledger = ledger if ledger is not None else Ledger(Expectations(generic_series=generic_series))
        #: coupons.csv (appended to: a preflight may have listed its coupons first); None: a worker's, or a test's.
        self.coupon_log = CouponLog(coupons_csv) if coupons_csv is not None else None
        #: What coupons.csv names as the sender of the load's coupons (load, a capacity step, run's load stage).
        self.coupon_source = coupon_source
        #: Why coupons.csv stopped taking codes (a full disk): the run stops, exit 2. None while it takes them.
        self.coupon_error: CouponLogError | None = None

    @property
    def coupons_issued(self) -> int:
        return self.ledger.coupons

    @property
    def duplicates(self) -> int:
        return self.ledger.duplicates

    def merge(self, delta: dict[str, Any]) -> None:
        factor = self.factor
        for bucket_text, encoded in delta["histograms"].items():
            bucket = int(bucket_text) // factor
            histogram = self.histograms.get(bucket)
            if histogram is None:
                histogram = self.histograms[bucket] = new_histogram()
                self.bucket_counts[bucket] = [0, 0]
            histogram.decode_and_add(encoded)
            self.total.decode_and_add(encoded)
            counts = delta["bucket_counts"][bucket_text]
            self.bucket_counts[bucket][0] += counts[0]
            self.bucket_counts[bucket][1] += counts[1]
        if self.histograms and max(self.histograms) - min(self.histograms) >= self.max_intervals:
            self._coarsen()
        self.counters.update(delta["counters"])
        self.statuses.update(delta["statuses"])
        self.violations.update(delta["violations"])
        for rule, example in delta["examples"].items():
            self.examples.setdefault(rule, example)
        for rule, sample in delta.get("samples", {}).items():  # absent from a delta of an older worker
            self.samples.setdefault(rule, sample)
        self.error_codes.update(delta["error_codes"])
        carried = delta.get("carried")
        if carried:
            if not delta.get("carried_listed"):
                self._list(carried)
            self._count(*self.ledger.issue_codes([row[:3] for row in carried]))
        coupons = delta["coupons"]
        if coupons:
            if self.coupon_log is not None:
                source, times = self.coupon_source, delta.get("coupon_times") or ()
                self._list([(series, code, customer, stamp(at), source)
                            for (series, code, customer), at in zip(coupons, times, strict=False)]
                           if len(times) == len(coupons) else
                           [(series, code, customer, stamp(), source) for series, code, customer in coupons])
            self._count(*self.ledger.issue_codes(coupons))
        span = delta.get("span")
        if span:
            self._add_span(float(span[0]), float(span[1]))
        ledger = self.ledger
        for series, digests, count, readings in delta.get("attributes", ()):
            self._count(*ledger.attribute_answers(series, digests, count, readings or None))

    def _list(self, rows: Sequence[Sequence[Any]]) -> None:
        """Append `rows` to coupons.csv; once it failed (a full disk) the log counts what it could not take."""
        log = self.coupon_log
        if log is None:
            return
        try:
            log.record([tuple(row) for row in rows])
        except CouponLogError as exc:
            self.coupon_error = exc

    def coupon_failure(self) -> str | None:
        """The one line for a run whose coupons.csv stopped taking codes (None while it takes them)."""
        error = self.coupon_log.error if self.coupon_log is not None else None
        return None if error is None else str(error)

    def _coarsen(self) -> None:
        """Merge adjacent intervals in pairs (exactly) until at most `max_intervals` remain."""
        while max(self.histograms) - min(self.histograms) >= self.max_intervals:
            self.factor *= 2
            histograms: dict[int, HdrHistogram] = {}
            counts: dict[int, list[int]] = {}
            for bucket in sorted(self.histograms):
                key = bucket // 2
                histogram, count = self.histograms[bucket], self.bucket_counts[bucket]
                merged = histograms.get(key)
                if merged is None:
                    histograms[key], counts[key] = histogram, list(count)
                else:
                    merged.add(histogram)
                    counts[key][0] += count[0]
                    counts[key][1] += count[1]
            self.histograms, self.bucket_counts = histograms, counts
        self.interval_s = self.base_interval_s * self.factor

    def window(self, start: float, end: float) -> tuple[int, int, HdrHistogram | None]:
        """Requests, errors and the merged latency histogram of the intervals whose middle lies in [start, end)
        (wall clock; None when none of them has an answer)."""
        requests = errors = 0
        merged: HdrHistogram | None = None
        width = self.interval_s
        for bucket, histogram in self.histograms.items():
            if not start <= (bucket + 0.5) * width < end:
                continue
            count = self.bucket_counts[bucket]
            requests += count[0]
            errors += count[1]
            if histogram.get_total_count():
                if merged is None:
                    merged = new_histogram()
                merged.add(histogram)
        return requests, errors, merged

    @property
    def origin(self) -> float | None:
        """Wall-clock start of the timeline's first interval (the charts' time 0); None before any answer."""
        return min(self.histograms) * self.interval_s if self.histograms else None

    def _count(self, broken: int, violation: Violation | None) -> None:
        if broken and violation is not None:
            self.violations[violation.rule_id] += broken
            if violation.rule_id not in self.examples:
                self.examples[violation.rule_id] = f"expected {violation.expected}; received {violation.received}"

    def _add_span(self, first: float, last: float) -> None:
        spans = sorted([*self.spans, [first, last]])
        joined = [spans[0]]
        for start, end in spans[1:]:
            if start <= joined[-1][1] + self.bridge_s:
                joined[-1][1] = max(joined[-1][1], end)
            else:
                joined.append([start, end])
        self.spans = joined

    def traffic_s(self) -> float | None:
        """Seconds from the first request sent to the last answer (less gaps over `bridge_s`); None before any."""
        if not self.spans:
            return None
        return sum(end - start for start, end in self.spans)

    @property
    def first_sent(self) -> float | None:
        """Wall-clock time of the run's first request (sent, or scheduled in the open model)."""
        return self.spans[0][0] if self.spans else None

    def sync(self, *, close: bool = False) -> None:
        """coupons.csv on disk as it stands (and closed); a failure is the run's coupon error."""
        log = self.coupon_log
        if log is not None:
            log.close() if close else log.sync()
            self.coupon_error = self.coupon_error or log.error

    def close(self) -> None:
        self.sync(close=True)

    @property
    def requests(self) -> int:
        return self.counters["requests"]

    def percentiles_ms(self) -> dict[str, float]:
        total = self.total
        if total.get_total_count() == 0:
            return {}
        figures = {f"p{p:g}": total.get_value_at_percentile(p) for p in (50, 90, 95, 99, 99.9)}
        figures.update(min=total.get_min_value(), max=total.get_max_value(), mean=total.get_mean_value())
        return {key: value / 1000.0 for key, value in figures.items()}

    def _intervals(self) -> Iterator[tuple[int, float, HdrHistogram | None, int, int]]:
        """(bucket, end of the interval from the timeline's start, its histogram, requests, errors) of every
        interval from the first to the last, empty ones included."""
        first = min(self.histograms, default=0)
        for bucket in range(first, max(self.histograms, default=first - 1) + 1):
            count, errors = self.bucket_counts.get(bucket, [0, 0])
            yield bucket, (bucket - first + 1) * self.interval_s, self.histograms.get(bucket), count, errors

    def covered_s(self, bucket: int) -> float:
        """Seconds of traffic within the interval `bucket` (a run's first and last are partial), or its width."""
        width = self.interval_s
        if not self.spans:
            return width
        start, end = bucket * width, (bucket + 1) * width
        covered = sum(max(0.0, min(end, last) - max(start, first)) for first, last in self.spans)
        return min(width, max(covered, 1e-6))

    def timeline(self) -> list[TimelinePoint]:
        """One point per interval, its rate over the traffic time it covers (`covered_s`); a sliver under
        MIN_COVERED of the width reads at most the run's average rate."""
        traffic = self.traffic_s()
        average = self.requests / traffic if traffic else None
        points = []
        for bucket, t_s, histogram, count, errors in self._intervals():
            if histogram is None or count == 0:
                points.append(TimelinePoint(t_s, 0, 0, 0.0, None, None, None))
                continue
            p50, p95, p99 = (histogram.get_value_at_percentile(p) / 1000.0 for p in (50, 95, 99))
            covered = self.covered_s(bucket)
            if covered < MIN_COVERED * self.interval_s and average:
                covered = max(covered, count / average)
            points.append(TimelinePoint(t_s, count, errors, count / covered, p50, p95, p99))
        return points

    def export_histograms(self) -> LoadHistograms | None:
        """The run's and each interval's HDR histograms, encoded, with requests and errors (for `--compare`)."""
        if not self.histograms:
            return None
        intervals = []
        for _, t_s, histogram, count, errors in self._intervals():
            encoded = _encode(histogram) if histogram is not None and histogram.get_total_count() else None
            intervals.append(IntervalHistogram(t_s, count, errors, encoded))
        return LoadHistograms(self.interval_s, _encode(self.total), tuple(intervals))


class ShapeStep(Protocol):
    """A step of the run's shape as the load process records it (plugin.LoadStep): wall-clock times."""

    index: int
    users: int
    start_s: float
    end_s: float | None


def step_figures(aggregate: Aggregate, steps: Sequence[ShapeStep], users: int, arrival_rate: float | None,
                 ) -> list[StepFigures]:
    """Each step's figures from the intervals whose middle lies in it (the first and last steps reach out)."""
    origin = aggregate.origin
    if origin is None or not steps:
        return []
    ordered = sorted(steps, key=lambda step: step.start_s)
    last_end = (max(aggregate.histograms) + 1) * aggregate.interval_s
    figures = []
    for position, step in enumerate(ordered):
        end = step.end_s if step.end_s is not None else last_end
        low = -math.inf if position == 0 else step.start_s
        high = math.inf if position == len(ordered) - 1 else end
        requests, errors, histogram = aggregate.window(low, high)
        seconds = end - step.start_s
        rate = arrival_rate * step.users / users if arrival_rate and users else None
        p50, p95, p99 = (None if histogram is None else histogram.get_value_at_percentile(p) / 1000.0
                         for p in (50, 95, 99))
        figures.append(StepFigures(
            index=step.index, users=step.users, rate=rate, start_s=round(max(step.start_s - origin, 0.0), 3),
            end_s=round(max(end - origin, 0.0), 3), requests=requests, errors=errors,
            error_rate=errors / requests if requests else 0.0, rps=requests / seconds if seconds > 0 else 0.0,
            p50_ms=p50, p95_ms=p95, p99_ms=p99))
    return figures
