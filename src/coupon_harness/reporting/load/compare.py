"""This load run against an earlier one (`--compare`): each figure side by side with its change and a 95%
confidence interval on it, so that only a change beyond noise is called a regression. The CLI calls
`compare_runs` and puts the `Comparison` on the result before the reports are written.

The statistics. Requests within a run are autocorrelated (queues build and drain); timeline intervals nearly are
not. A bootstrap resamples each run's intervals with replacement (their HDR histograms, kept in summary.json),
recomputes each run-level figure from them and takes the 2.5th and 97.5th percentiles of the change (current /
earlier - 1; a difference for ratios). A regression is a change whose whole interval lies beyond the
--max-regression limit. To stay fast, each interval's histogram is reduced once to its cumulative counts at the
values where a run-level percentile can fall, and a resample's percentile is a binary search over weighted sums
of those (~0.2 s for 1,000 resamples of 60 intervals). The failure ratios have no per-interval figures: their
interval is the normal approximation of a difference of two proportions, over the answers.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import mul
from statistics import NormalDist
from urllib.parse import urlsplit

from hdrh.histogram import HdrHistogram

from coupon_harness.reporting.document import (
    Badge,
    Block,
    BulletList,
    Column,
    Paragraph,
    Row,
    Section,
    Status,
    Strong,
    Table,
    Text,
)
from coupon_harness.reporting.load.common import FIGURE_LABELS, throughput_rps
from coupon_harness.results.load import (
    COMPARE_KEYS,
    Comparison,
    ComparisonRow,
    IntervalHistogram,
    LoadHistograms,
    LoadRunResult,
    MaxRegression,
)

__all__ = ["MIN_INTERVALS", "RESAMPLES", "compare_runs", "comparison_lines", "comparison_section", "fmt_change",
           "fmt_limit"]

RESAMPLES = 1000
#: Fewer intervals than this in either run: no interval can be trusted, point figures only.
MIN_INTERVALS = 5
#: A percentile with fewer answers beyond it in either run gets no interval (the bootstrap of a tail held by a
#: handful of answers is too narrow): p99 needs 2,000 answers a run.
MIN_TAIL = 20
_PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0}
_LABELS = {"throughput": "throughput", "p50": "p50", "p90": "p90", "p95": "p95", "p99": "p99", "max": "max",
           **FIGURE_LABELS}
_UNITS = {"throughput": "req/s", "error-rate": "ratio", "failure-ratio": "ratio", "failure-count-ratio": "ratio"}
#: Higher is worse for every key but throughput.
_LOWER_IS_WORSE = frozenset({"throughput"})


# --- the bootstrap -----------------------------------------------------------------------------------------

@dataclass(slots=True)
class _Percentile:
    """One percentile of one run, made cheap to resample: the values it can take and, per candidate value,
    each interval's count at or below it (column-major, for a weighted sum in C)."""

    percentile: float
    values: list[int]
    columns: list[list[int]]

    def at(self, weights: list[int], totals: list[int]) -> float:
        total = sum(map(mul, weights, totals))
        target = max(1, int(self.percentile * total / 100 + 0.5))
        # The first value whose weighted count reaches the target; the last value if none does.
        index = bisect_left(range(len(self.values) - 1), target,
                            key=lambda i: sum(map(mul, weights, self.columns[i])))
        return self.values[index] / 1000.0


@dataclass(slots=True)
class _Run:
    """A run's intervals, reduced for resampling."""

    totals: list[int]  # requests with a latency, per latency interval
    maxima: list[float]  # ms
    requests: list[int]  # per interval with requests (error rate)
    errors: list[int]
    full_requests: list[int]  # per full interval (throughput: the first and the last are partial)
    interval_s: float
    percentiles: dict[str, _Percentile]


def _sparse(encoded: str) -> tuple[list[int], list[int], float]:
    """An encoded histogram as (bucket values in us, ascending; their counts; max in ms)."""
    histogram = HdrHistogram.decode(encoded)
    counts = list(histogram.counts)
    values, kept = [], []
    for index, count in enumerate(counts):
        if count:
            values.append(histogram.get_highest_equivalent_value(histogram.get_value_from_index(index)))
            kept.append(count)
    return values, kept, histogram.get_max_value() / 1000.0


#: A run of more intervals than this is resampled in adjacent groups of intervals, merged exactly: the cost
#: stays bounded, and 60 or more groups keep the (block) bootstrap meaningful.
BOOTSTRAP_INTERVALS = 120


def _grouped(histograms: LoadHistograms) -> LoadHistograms:
    """`histograms` with adjacent intervals merged (histograms added, counts summed) to at most
    BOOTSTRAP_INTERVALS; as it is when it holds no more."""
    intervals = histograms.intervals
    if len(intervals) <= BOOTSTRAP_INTERVALS:
        return histograms
    size = math.ceil(len(intervals) / BOOTSTRAP_INTERVALS)
    groups = []
    for start in range(0, len(intervals), size):
        group = intervals[start:start + size]
        parts = [interval.histogram for interval in group if interval.histogram is not None]
        encoded = None
        if parts:
            merged = HdrHistogram.decode(parts[0])
            for part in parts[1:]:
                merged.decode_and_add(part)
            raw: bytes | str = merged.encode()
            encoded = raw.decode() if isinstance(raw, bytes) else str(raw)
        groups.append(IntervalHistogram(group[-1].t_s, sum(i.requests for i in group), sum(i.errors for i in group),
                                        encoded))
    return LoadHistograms(histograms.interval_s * size, histograms.total, tuple(groups))


def _prepare(histograms: LoadHistograms) -> _Run:
    histograms = _grouped(histograms)
    sparse = [_sparse(i.histogram) for i in histograms.intervals if i.histogram is not None]
    cumulative = [list(accumulate(counts)) for _, counts, _ in sparse]
    percentiles: dict[str, _Percentile] = {}
    for key, p in _PERCENTILES.items():
        runs = [(values, sums) for (values, _, _), sums in zip(sparse, cumulative, strict=True)]
        # The lowest value the percentile takes in any interval: the run-level percentile is at or above it.
        floor = min(values[bisect_left(sums, max(1, int(p * sums[-1] / 100 + 0.5)))] for values, sums in runs)
        candidates = sorted({v for values, _ in runs for v in values[bisect_left(values, floor):]})
        # Per candidate value, each interval's count at or below it.
        columns = [[sums[at - 1] if (at := bisect_right(values, v)) else 0 for values, sums in runs]
                   for v in candidates]
        percentiles[key] = _Percentile(p, candidates, columns)
    with_requests = [i for i in histograms.intervals if i.requests]
    full = list(histograms.intervals[1:-1]) if len(histograms.intervals) > 2 else list(histograms.intervals)
    return _Run(totals=[sums[-1] for sums in cumulative], maxima=[m for _, _, m in sparse],
                requests=[i.requests for i in with_requests], errors=[i.errors for i in with_requests],
                full_requests=[i.requests for i in full], interval_s=histograms.interval_s, percentiles=percentiles)


def _weights(rng: random.Random, n: int) -> list[int]:
    weights = [0] * n
    for index in rng.choices(range(n), k=n):
        weights[index] += 1
    return weights


def _resample(run: _Run, rng: random.Random, resamples: int) -> dict[str, list[float]]:
    """Each figure of `resamples` bootstrap replicates of the run."""
    out: dict[str, list[float]] = {key: [] for key in ("p50", "p90", "p95", "p99", "max", "throughput", "error-rate")}
    n, n_req, n_full = len(run.totals), len(run.requests), len(run.full_requests)
    for _ in range(resamples):
        weights = _weights(rng, n)
        for key, percentile in run.percentiles.items():
            out[key].append(percentile.at(weights, run.totals))
        out["max"].append(max(m for w, m in zip(weights, run.maxima, strict=True) if w))
        weights = _weights(rng, n_req)
        requests = sum(map(mul, weights, run.requests))
        out["error-rate"].append(sum(map(mul, weights, run.errors)) / requests if requests else 0.0)
        weights = _weights(rng, n_full)
        out["throughput"].append(sum(map(mul, weights, run.full_requests)) / (n_full * run.interval_s))
    return out


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _change(earlier: float, current: float, relative: bool) -> float | None:
    if not relative:
        return current - earlier
    return None if earlier <= 0 else current / earlier - 1


def _interval(earlier: list[float], current: list[float], relative: bool, confidence: float
              ) -> tuple[float, float] | None:
    changes = [c for c in (_change(e, n, relative) for e, n in zip(earlier, current, strict=True)) if c is not None]
    if len(changes) < len(earlier) * 0.99:  # an earlier figure of 0 in resamples: no relative change
        return None
    changes.sort()
    tail = (1 - confidence) / 2
    return _quantile(changes, tail), _quantile(changes, 1 - tail)


def _proportion_interval(p1: float, n1: int, p2: float, n2: int, confidence: float) -> tuple[float, float] | None:
    if n1 <= 0 or n2 <= 0:
        return None
    # The 95% quantile as the summary.json of earlier versions computed it (to the last digit).
    z = 1.959963984540054 if abs(confidence - 0.95) < 1e-9 else NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return p2 - p1 - z * se, p2 - p1 + z * se


def _verdict(key: str, interval: tuple[float, float] | None, limit: MaxRegression | None, earlier: float | None,
             judged: bool) -> str:
    if interval is None or not judged:
        return "no interval"
    low, high = interval
    worse_up = key not in _LOWER_IS_WORSE
    if limit is not None:
        allowed = limit.limit
        if not limit.relative and key in _PERCENTILES | {"max": 0.0}:
            # An absolute latency limit (ms) as a change relative to the earlier figure.
            allowed = limit.limit / earlier if earlier else math.inf
        if (low > allowed) if worse_up else (high < -allowed):
            return "regression"
    if low > 0:
        return "worse" if worse_up else "better"
    if high < 0:
        return "better" if worse_up else "worse"
    return "within noise"


def _point_figures(result: LoadRunResult) -> dict[str, float | None]:
    return {**{key: result.latency_ms.get(key) for key in ("p50", "p90", "p95", "p99", "max")},
            "throughput": throughput_rps(result), "error-rate": result.error_rate,
            "failure-ratio": result.failure_ratio, "failure-count-ratio": result.failure_count_ratio}


#: An open-model run that sent less than this share of its schedule fell behind: its generator was starved.
_BEHIND = 0.95


def _usable(result: LoadRunResult) -> str | None:
    """Why the run cannot carry an interval, or None. A starved generator (saturated CPU, or an open model
    that fell behind its schedule) measures the machine, not the target: the run-to-run difference then
    exceeds what the intervals of one run show, so no change is called a regression."""
    if (histograms := result.histograms) is None:
        return "it has no histograms (a summary.json of an older version)"
    if result.generator_saturated:
        return "its generator was saturated (the latencies measure the generator)"
    if result.generator_behind:
        return "its generator fell behind its schedule (the latencies include the generator's own delay)"
    if result.arrival_rate and result.duration_s > 0 and throughput_rps(result) < _BEHIND * result.arrival_rate:
        return (f"it sent {throughput_rps(result):,.1f} req/s of the {result.arrival_rate:g} req/s scheduled (the "
                "generator fell behind)")
    latency = sum(1 for i in histograms.intervals if i.histogram is not None)
    if latency < MIN_INTERVALS:
        return f"it has {latency} timeline intervals with answers (at least {MIN_INTERVALS} are needed)"
    return None


def compare_runs(earlier: LoadRunResult, current: LoadRunResult, limits: Sequence[MaxRegression] = (), *,
                 source: str = "", seed: int = 0, resamples: int = RESAMPLES, confidence: float = 0.95
                 ) -> Comparison:
    """`current` against `earlier`: every figure side by side with its change, a bootstrap interval on the
    change when both runs carry their histograms, and a regression where a limit is broken beyond noise."""
    by_key = {limit.key: limit for limit in limits}
    notes: list[str] = []
    problems = [(which, why) for which, run in (("the earlier run", earlier), ("this run", current))
                if (why := _usable(run)) is not None]
    for which, why in problems:
        notes.append(f"{which} cannot be judged for noise: {why}; point figures only, no change is called a "
                     "regression")
    judged = not problems
    boot: dict[str, tuple[list[float], list[float]]] = {}
    if judged:
        assert earlier.histograms is not None and current.histograms is not None
        try:
            prepared = _prepare(earlier.histograms)
        except Exception as exc:  # an edited or truncated summary.json: hdrh raises what its decoder meets
            judged = False
            notes.append(f"the earlier run's histograms cannot be decoded ({type(exc).__name__}); point figures "
                         "only, no change is called a regression")
        if judged:
            rng = random.Random(seed)
            before = _resample(prepared, rng, resamples)
            after = _resample(_prepare(current.histograms), rng, resamples)
            boot = {key: (before[key], after[key]) for key in before}
    if urlsplit(earlier.target).hostname != urlsplit(current.target).hostname:
        notes.append(f"the runs loaded different targets ({earlier.target} then {current.target})")
    old, new = _point_figures(earlier), _point_figures(current)
    rows = []
    for key in ("throughput", "p50", "p90", "p95", "p99", "max", "error-rate", "failure-ratio",
                "failure-count-ratio"):
        relative = key not in _UNITS or _UNITS[key] == "req/s"
        e, c = old[key], new[key]
        change = None if e is None or c is None else _change(e, c, relative)
        interval: tuple[float, float] | None = None
        tail = min(earlier.requests, current.requests) * (1 - _PERCENTILES.get(key, 0.0) / 100)
        if key in _PERCENTILES and key in boot and tail < MIN_TAIL:
            notes.append(f"{key}: too few answers beyond it ({tail:.0f} in the smaller run, {MIN_TAIL} needed) "
                         "for an interval; point figures only")
        elif key in boot:
            interval = _interval(*boot[key], relative, confidence)
        elif key in ("failure-ratio", "failure-count-ratio") and judged:
            interval = _proportion_interval(old[key] or 0.0, earlier.requests, new[key] or 0.0, current.requests,
                                            confidence)
        limit = by_key.get(key)
        rows.append(ComparisonRow(
            key=key, label=_LABELS[key], unit=_UNITS.get(key, "ms"), earlier=e, current=c, change=change,
            relative=relative, low=None if interval is None else interval[0],
            high=None if interval is None else interval[1], limit=limit,
            verdict=_verdict(key, interval, limit, e, judged)))
    codes = sorted(set(earlier.entity_error_codes) | set(current.entity_error_codes))
    return Comparison(
        earlier_source=source, earlier_started_at=earlier.started_at, earlier_target=earlier.target, rows=tuple(rows),
        error_codes={code: (earlier.entity_error_codes.get(code, 0), current.entity_error_codes.get(code, 0))
                     for code in codes},
        noise_judged=judged, resamples=resamples if judged else 0, seed=seed, confidence=confidence,
        notes=tuple(notes), earlier_timeline=tuple(earlier.timeline))


# --- rendering (every report format uses these) --------------------------------------------------------

def fmt_limit(limit: MaxRegression) -> str:
    if limit.relative:
        return f"{limit.key}={limit.limit * 100:g}%"
    if limit.key in _PERCENTILES or limit.key == "max":
        return f"{limit.key}={limit.limit:g}ms"
    return f"{limit.key}={limit.limit:g}"


def _fmt_value(row: ComparisonRow, value: float | None) -> str:
    if value is None:
        return "—"
    if row.unit == "ms":
        return f"{value:,.3f} ms" if value < 10 else f"{value:,.1f} ms"
    if row.unit == "req/s":
        return f"{value:,.1f} req/s"
    return f"{value * 100:.3f}%"


def fmt_change(row: ComparisonRow, value: float | None) -> str:
    if value is None:
        return "—"
    if row.relative:
        return f"{value * 100:+.1f}%"
    return f"{value * 100:+.3f} pp"


def _cells(row: ComparisonRow) -> list[str]:
    limit = fmt_limit(row.limit) if row.limit is not None else ""
    interval = ("—" if row.low is None or row.high is None
                else f"[{fmt_change(row, row.low)}, {fmt_change(row, row.high)}]")
    return [row.label, _fmt_value(row, row.earlier), _fmt_value(row, row.current), fmt_change(row, row.change),
            interval, row.verdict.upper() if row.regression else row.verdict, limit]


_HEADER = ["figure", "earlier", "this run", "change", "95% interval", "verdict", "limit"]


def _headline(comparison: Comparison) -> str:
    if comparison.regressed:
        names = ", ".join(f"{row.key} {fmt_change(row, row.change)} (limit {fmt_limit(row.limit)})"
                          for row in comparison.regressions if row.limit is not None)
        return f"REGRESSION against the earlier run: {names}"
    if not comparison.noise_judged:
        return "Compared with point figures only: no verdict on noise (see the notes)"
    worse = [row.key for row in comparison.rows if row.verdict == "worse"]
    if worse:
        return f"No regression beyond the --max-regression limits; worse beyond noise: {', '.join(worse)}"
    return "No regression against the earlier run beyond noise"


def _about(comparison: Comparison) -> str:
    how = (f"95% intervals: bootstrap over timeline intervals, {comparison.resamples} resamples, seed "
           f"{comparison.seed}" if comparison.noise_judged else "no intervals")
    return (f"Earlier run: {comparison.earlier_source or '?'} (started {comparison.earlier_started_at}, "
            f"target {comparison.earlier_target}); {how}.")


def _code_lines(comparison: Comparison) -> list[tuple[str, str, str, str]]:
    return [(code, f"{before:,}", f"{after:,}", f"{after - before:+,}")
            for code, (before, after) in comparison.error_codes.items()]


def comparison_lines(comparison: Comparison) -> list[str]:
    """The comparison as plain text (junit.xml): what it was compared with, the table, codes, notes, headline."""
    table = [_HEADER, *(_cells(row) for row in comparison.rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_HEADER))]
    lines = [f"Compared with an earlier run: {_about(comparison)}"]
    for line in table:
        lines.append("  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                               for i, (cell, width) in enumerate(zip(line, widths, strict=True))).rstrip())
    if comparison.error_codes:
        lines.append("Entity error codes (earlier -> this run): " + ", ".join(
            f"{code} {before} -> {after}" for code, before, after, _ in _code_lines(comparison)))
    lines += [f"Note: {note}" for note in comparison.notes]
    lines.append(_headline(comparison))
    return lines


#: How a row's verdict marks it; "within noise" and "no interval" stay neutral.
_ROW_STATUS = {"regression": Status.FAIL, "worse": Status.WARN, "better": Status.PASS}


def _verdict_cell(row: ComparisonRow, text: str) -> Text:
    """A row's verdict, coloured by its status where a format has colour (a badge), plain where it is neutral."""
    status = _ROW_STATUS.get(row.verdict)
    return text if status is None else (Badge(status, text),)


def comparison_section(comparison: Comparison) -> Section:
    """The comparison as a report section: headline, what it was compared with, figures, codes, notes."""
    status = Status.FAIL if comparison.regressed else Status.PASS if comparison.noise_judged else Status.WARN
    columns = (Column(_HEADER[0]), *(Column(name, numeric=True) for name in _HEADER[1:5]), Column(_HEADER[5]),
               Column(_HEADER[6]))
    blocks: list[Block] = [
        Paragraph((Strong(_headline(comparison)),)), Paragraph(_about(comparison), muted=True),
        Table(columns, tuple(Row((*(cells := _cells(row))[:5], _verdict_cell(row, cells[5]), *cells[6:]),
                                 _ROW_STATUS.get(row.verdict)) for row in comparison.rows))]
    if comparison.error_codes:
        blocks.append(Table((Column("entity error code"), *(Column(name, numeric=True)
                                                             for name in ("earlier", "this run", "change"))),
                            tuple(Row(line) for line in _code_lines(comparison))))
    if comparison.notes:
        blocks.append(BulletList(comparison.notes))
    return Section("Compared with an earlier run", tuple(blocks), status=status, anchor="comparison")


assert set(COMPARE_KEYS) <= set(_LABELS)
