"""Figures of a load run: exact latency percentiles (HDR histogram of unrounded times), counters,
a timeline, and the coupon ledger (no code handed out twice across the whole run).

A generator process records into a `Recorder`; `take_delta()` hands what it gathered since the last
call to the `Aggregate` (in the same process for a local run, on the master through Locust's
report_to_master for a distributed one), which alone decides duplicates and writes coupons.csv.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from hdrh.histogram import HdrHistogram

from coupon_harness.load_results import TimelinePoint
from coupon_harness.runners.load.checker import Outcome

if TYPE_CHECKING:  # importing transport.auth imports requests (ssl): not before Locust monkey-patches
    from coupon_harness.transport.auth import Redactor

__all__ = ["Aggregate", "Recorder", "new_histogram"]

#: Microseconds, 1 us .. 10 min, 3 significant digits (0.1% resolution).
_LOWEST, _HIGHEST, _DIGITS = 1, 600_000_000, 3


def new_histogram() -> HdrHistogram:
    return HdrHistogram(_LOWEST, _HIGHEST, _DIGITS)


def _encode(histogram: HdrHistogram) -> str:
    encoded: bytes = histogram.encode()
    return encoded.decode() if isinstance(encoded, bytes) else str(encoded)


class _Figures:
    """What both a recorder's delta and the run's aggregate hold: per-interval histograms and counts
    (requests, errors), and counters by name, status, rule, entity error code."""

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
        self.error_codes: Counter[str] = Counter()


class Recorder(_Figures):
    """One generator process's figures since the last delta. Not thread-safe (gevent: one thread).

    With a `redactor`, every text from the target it keeps (violation examples, coupon codes) is redacted
    whole, before anything cuts it: a target that echoes a credential leaves none in the run's files.
    """

    def __init__(self, interval_s: float, redactor: Redactor | None = None) -> None:
        super().__init__(interval_s)
        self._redactor = redactor

    def _clear(self) -> None:
        super()._clear()
        self.coupons: list[tuple[int, str, str]] = []

    def record(self, outcome: Outcome, latency_s: float, customer_id: str, at: float | None = None) -> None:
        bucket = int((at if at is not None else time.time()) // self.interval_s)
        histogram = self.histograms.get(bucket)
        if histogram is None:
            histogram = self.histograms[bucket] = new_histogram()
            self.bucket_counts[bucket] = [0, 0]
        micros = int(latency_s * 1_000_000)
        histogram.record_value(_LOWEST if micros < _LOWEST else _HIGHEST if micros > _HIGHEST else micros)
        counts = self.bucket_counts[bucket]
        counts[0] += 1
        self.statuses[outcome.status] += 1
        c = self.counters
        c["requests"] += 1
        if outcome.violations or outcome.status != "200":
            counts[1] += 1
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
        redactor = self._redactor
        if redactor is not None:
            # One pass over the answer's codes joined (a code holds a secret only if the joined text does);
            # code by code only when it found one. About 0.6 us an answer of two codes (timeit), ~5% of the check.
            joined = "\n".join([code for _, code in coupons])
            if redactor.text(joined) != joined:
                coupons = [(series, redactor.text(code)) for series, code in coupons]
        for series, coupon in coupons:
            self.coupons.append((series, coupon, customer_id))

    def take_delta(self) -> dict[str, Any]:
        """Everything since the last call, JSON-able; the recorder starts afresh."""
        delta = {
            "histograms": {str(b): _encode(h) for b, h in self.histograms.items()},
            "bucket_counts": {str(b): c for b, c in self.bucket_counts.items()},
            "counters": dict(self.counters),
            "statuses": dict(self.statuses),
            "violations": dict(self.violations),
            "examples": self.examples,
            "error_codes": dict(self.error_codes),
            "coupons": self.coupons,
        }
        self._clear()
        return delta


class Aggregate(_Figures):
    """The run's figures, merged from every generator's deltas (one per run, on the master)."""

    def __init__(self, interval_s: float, generic_series: frozenset[int], coupons_csv: Path | None) -> None:
        super().__init__(interval_s)
        self.generic = generic_series
        self.total = new_histogram()
        self.coupons_issued = 0
        self.duplicates = 0
        #: hash((series, code)) -> hash(customer): ~100 bytes a coupon, so a 1M-coupon run holds ~100 MB.
        self._seen: dict[int, int] = {}
        self._csv_file: TextIO | None = None
        self._csv: Any = None
        if coupons_csv is not None:
            self._csv_file = coupons_csv.open("w", newline="", encoding="utf-8")
            self._csv = csv.writer(self._csv_file)
            self._csv.writerow(["series_id", "code", "customer_id"])

    def merge(self, delta: dict[str, Any]) -> None:
        for bucket_text, encoded in delta["histograms"].items():
            bucket = int(bucket_text)
            histogram = self.histograms.get(bucket)
            if histogram is None:
                histogram = self.histograms[bucket] = new_histogram()
                self.bucket_counts[bucket] = [0, 0]
            histogram.decode_and_add(encoded)
            self.total.decode_and_add(encoded)
            counts = delta["bucket_counts"][bucket_text]
            self.bucket_counts[bucket][0] += counts[0]
            self.bucket_counts[bucket][1] += counts[1]
        self.counters.update(delta["counters"])
        self.statuses.update(delta["statuses"])
        self.violations.update(delta["violations"])
        for rule, example in delta["examples"].items():
            self.examples.setdefault(rule, example)
        self.error_codes.update(delta["error_codes"])
        if delta["coupons"]:
            self._ledger(delta["coupons"])
            if self._csv_file is not None:
                # Flushed with every delta: a run killed by SIGKILL or a power cut still leaves every code
                # merged so far in coupons.csv (a signal ends the run in order and loses none).
                self._csv_file.flush()

    def _ledger(self, coupons: list[Any]) -> None:
        seen = self._seen
        for series, code, customer in coupons:
            self.coupons_issued += 1
            if self._csv is not None:
                self._csv.writerow([series, code, customer])
            if series in self.generic:
                continue
            key = hash((series, code))
            holder = seen.get(key)
            who = hash(customer)
            if holder is None:
                seen[key] = who
            elif holder != who:
                self.duplicates += 1
                self.violations["unique-codes"] += 1
                if "unique-codes" not in self.examples:
                    self.examples["unique-codes"] = (f"expected a code never issued before; received series "
                                                     f"{series} code {code!r} a second time")

    def close(self) -> None:
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = None

    @property
    def requests(self) -> int:
        return self.counters["requests"]

    def percentiles_ms(self) -> dict[str, float]:
        total = self.total
        if total.get_total_count() == 0:
            return {}
        figures = {f"p{p:g}": total.get_value_at_percentile(p) / 1000.0 for p in (50, 90, 95, 99, 99.9)}
        figures["min"] = total.get_min_value() / 1000.0
        figures["max"] = total.get_max_value() / 1000.0
        figures["mean"] = total.get_mean_value() / 1000.0
        return figures

    def timeline(self) -> list[TimelinePoint]:
        if not self.histograms:
            return []
        first = min(self.histograms)
        points = []
        for bucket in range(first, max(self.histograms) + 1):
            histogram = self.histograms.get(bucket)
            count, errors = self.bucket_counts.get(bucket, [0, 0])
            if histogram is None or count == 0:
                points.append(TimelinePoint((bucket - first + 1) * self.interval_s, 0, 0, 0.0, None, None, None))
                continue
            points.append(TimelinePoint(
                t_s=(bucket - first + 1) * self.interval_s, requests=count, errors=errors,
                rps=count / self.interval_s,
                p50_ms=histogram.get_value_at_percentile(50) / 1000.0,
                p95_ms=histogram.get_value_at_percentile(95) / 1000.0,
                p99_ms=histogram.get_value_at_percentile(99) / 1000.0))
        return points

