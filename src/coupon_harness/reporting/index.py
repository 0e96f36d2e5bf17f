"""reports/<time>-<random>/index.html, the page of a `run`: each stage's verdict, key figures and report link,
and the trend (p95, throughput) of the last runs beside it. Read from the summary.json files (`reporting.stored`):
one that does not read is left out, never an error, so an index can always be written.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path

from coupon_harness.reporting.charts import ChartLine, line_chart_svg
from coupon_harness.reporting.contract.common import count_outcomes
from coupon_harness.reporting.contract.common import verdict as contract_verdict
from coupon_harness.reporting.document import (
    Badge,
    BulletList,
    Chart,
    Code,
    Column,
    Document,
    Fields,
    Link,
    Paragraph,
    Row,
    Section,
    Status,
    Strong,
    Table,
    Text,
    joined,
)
from coupon_harness.reporting.load.common import fmt_count, fmt_ms, fmt_ratio, slo_label, throughput_rps
from coupon_harness.reporting.load.common import verdict as load_verdict
from coupon_harness.reporting.render.html import render_html
from coupon_harness.reporting.run.document import stages_verdict
from coupon_harness.reporting.stored import read_stored_any
from coupon_harness.reporting.writer import atomic_write_text
from coupon_harness.results.contract import ContractRunResult, Outcome
from coupon_harness.results.load import LoadRunResult

__all__ = ["TREND_RUNS", "TrendPoint", "index_document", "read_run", "render_index", "trend_points",
           "write_index"]

#: The trend shows at most this many runs, the latest.
TREND_RUNS = 30

def read_run(path: Path) -> ContractRunResult | LoadRunResult | None:
    """The contract or load run a summary.json holds (`reporting.stored`), or None when it is missing, unreadable,
    of an older version or of another kind: the index is written all the same."""
    try:
        run = read_stored_any(path, (ContractRunResult, LoadRunResult))
    except ValueError:
        return None
    return run if isinstance(run, ContractRunResult | LoadRunResult) else None


def _fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} req/s"


def _contract_figures(result: ContractRunResult) -> list[tuple[str, Text]]:
    counts = count_outcomes(result)
    rules = " · ".join(f"{fmt_count(counts[outcome])} {outcome.value}"
                       for outcome in (Outcome.PASSED, Outcome.FAILED, Outcome.WARNED, Outcome.NOT_RUN))
    rows: list[tuple[str, Text]] = [("Rules", rules), ("Requests", fmt_count(result.requests)),
                                    ("Duration", f"{result.duration_s:,.1f} s")]
    if result.faults:
        rows.append(("Harness errors", f"{len(result.faults)} (a bug in coupon-harness: see the report)"))
    return rows


def _slo_verdict(result: LoadRunResult) -> Text:
    """Each SLO's label, marked by whether it passed."""
    badges = (Badge(Status.PASS if slo.passed else Status.FAIL, slo_label(slo)) for slo in result.slos)
    return joined(badges, " ") or "no SLO set"


def _load_figures(result: LoadRunResult) -> list[tuple[str, Text]]:
    latency = " / ".join(fmt_ms(result.latency_ms.get(key)) for key in ("p50", "p95", "p99"))
    return [("Requests", fmt_count(result.requests)),
            ("Throughput", _fmt_rate(throughput_rps(result))),
            ("Latency p50 / p95 / p99", latency),
            ("Error rate", fmt_ratio(result.error_rate)),
            ("SLOs", _slo_verdict(result)),
            ("Contract violations", fmt_count(result.violations))]


def _stage(title: str, report: Path, passed: bool, run_dir: Path) -> Section:
    """One stage: its verdict, key figures (when its summary.json reads) and the link to its report."""
    link = os.path.relpath(report, run_dir)
    status = Status.PASS if passed else Status.FAIL
    run = read_run(report.parent / "summary.json")
    figures: list[tuple[str, Text]] = []
    verdict = ""
    if isinstance(run, ContractRunResult):
        verdict, figures = contract_verdict(run), _contract_figures(run)
    elif isinstance(run, LoadRunResult):
        verdict, figures = load_verdict(run), _load_figures(run)
    blocks = [*([Paragraph(verdict)] if verdict else []),
              Fields(tuple(figures)) if figures else Paragraph("No readable summary.json beside the report.",
                                                               muted=True),
              Paragraph((Link(f"{title} report", link), " (", Code(link), ")"))]
    return Section((f"{title}: ", Badge(status, "passed" if passed else "failed")), tuple(blocks), status=status)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One earlier (or this) run's load figures."""

    run_dir: Path
    started: datetime
    p95_ms: float | None
    throughput_rps: float | None
    holds: bool | None
    target: str


def _trend_point(run_dir: Path) -> TrendPoint | None:
    run = read_run(run_dir / "load" / "summary.json")
    if not isinstance(run, LoadRunResult):
        return None
    try:
        started = datetime.fromisoformat(run.started_at)
    except ValueError:
        return None
    if started.tzinfo is None:
        started = started.astimezone()
    p95 = run.latency_ms.get("p95")
    return TrendPoint(run_dir, started, p95 if p95 is not None and math.isfinite(p95) else None,
                      throughput_rps(run), run.holds, run.target)


def trend_points(reports_dir: Path, limit: int = TREND_RUNS) -> list[TrendPoint]:
    """The load figures of the last `limit` runs under `reports_dir` (`<run>/load/summary.json`), oldest first;
    folders and files that do not read are skipped."""
    candidates: list[tuple[float, Path]] = []
    try:
        children = list(reports_dir.iterdir())
    except OSError:
        return []
    for child in children:
        try:
            if child.is_dir():
                candidates.append(((child / "load" / "summary.json").stat().st_mtime, child))
        except OSError:
            continue
    candidates.sort(reverse=True)  # newest first; reading stops at `limit` good ones (or a bounded number tried)
    points = islice(filter(None, (_trend_point(child) for _, child in candidates[:limit * 4])), limit)
    return sorted(points, key=lambda point: (point.started, point.run_dir.name))


def _trend(run_dir: Path) -> Section | None:
    points = trend_points(run_dir.parent)
    if len(points) < 2:
        return None
    count = len(points)
    step = max(1, math.ceil(count / 10))
    stamp = "%m-%d %H:%M"
    if len({point.started.strftime(stamp) for point in points}) < count:  # runs within one minute
        stamp = "%m-%d %H:%M:%S"
    x_ticks = [(float(i), point.started.strftime(stamp)) for i, point in enumerate(points)
               if i % step == 0 or i == count - 1]
    if len(x_ticks) > 1 and x_ticks[-1][0] - x_ticks[-2][0] < step:
        del x_ticks[-2]

    def chart(title: str, line: str, colour: str, unit: str, values: list[float | None]) -> str:
        return line_chart_svg(title, [ChartLine(line, colour, [(float(i), v) for i, v in enumerate(values)])],
                              x_range=(-0.5, count - 0.5), x_ticks=x_ticks, x_unit="run (start time)", y_unit=unit,
                              dots=True)

    p95 = chart("p95 latency of the last runs (ms)", "p95", "#bf8700", "ms", [p.p95_ms for p in points])
    rps = chart("Throughput of the last runs (requests/s)", "requests/s", "#0969da", "requests/s",
                [p.throughput_rps for p in points])
    rows = []
    current = run_dir.resolve()
    for point in reversed(points):
        report = point.run_dir / "load" / "report.html"
        name: Text = ((Link(point.run_dir.name, os.path.relpath(report, run_dir)),) if report.is_file()
                      else point.run_dir.name)
        if point.run_dir.resolve() == current:
            name = (Strong("this run"), " ", *((name,) if isinstance(name, str) else name))
        verdict: Text = ("—" if point.holds is None else
                         (Badge(Status.PASS if point.holds else Status.FAIL, "held" if point.holds else "failed"),))
        rows.append(Row((name, point.started.isoformat(timespec="seconds"), (Code(point.target),),
                         fmt_ms(point.p95_ms), _fmt_rate(point.throughput_rps), verdict)))
    table = Table((Column("Run"), Column("Started"), Column("Target"), Column("p95", numeric=True),
                   Column("Throughput", numeric=True), Column("Load stage")), tuple(rows))
    return Section(f"Trend of the last {count} runs", (
        Paragraph(("Load stages under ", Code(str(run_dir.parent)), ", oldest first; runs against other targets or "
                   "with other load settings are not comparable."), muted=True),
        Paragraph((Strong("p95 latency"),)), Chart("trend-p95", p95),
        Paragraph((Strong("Throughput"),)), Chart("trend-throughput", rps), table))


def _ci_files(run_dir: Path) -> Section | None:
    """Links to `run`'s combined files for CI (junit.xml, report.md), when they were written beside the index."""
    files = [(name, what) for name, what in (("junit.xml", "both stages' tests, for a CI test tab"),
                                             ("report.md", "both stages' reports, for a CI job summary"))
             if (run_dir / name).is_file()]
    if not files:
        return None
    return Section("For CI", (BulletList(tuple((Link(name, name, code=True), f": {what}") for name, what in files)),))


def index_document(run_dir: Path, reports: dict[str, tuple[Path, bool]]) -> Document:
    """The index page; `reports` maps a stage's title to (its report.html, whether it passed)."""
    stages = Section("Stages", (), tuple(_stage(title, path, ok, run_dir) for title, (path, ok) in reports.items()))
    links = BulletList(tuple((Link(title, os.path.relpath(path, run_dir)), f": {'passed' if ok else 'failed'}")
                             for title, (path, ok) in reports.items()))
    sections = [*([stages] if reports else []),
                Section("Reports", (links,) if reports else (Paragraph("No report was written.", muted=True),)),
                *(section for section in (_ci_files(run_dir), _trend(run_dir)) if section is not None)]
    return Document("run", stages_verdict({title: ok for title, (_, ok) in reports.items()}),
                    tally=(Code(run_dir.name),), sections=tuple(sections))


def render_index(run_dir: Path, reports: dict[str, tuple[Path, bool]]) -> str:
    return render_html(index_document(run_dir, reports))


def write_index(run_dir: Path, reports: dict[str, tuple[Path, bool]]) -> Path:
    """Write `run_dir/index.html`; `reports` maps a title to (report file, whether it passed)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    index = run_dir / "index.html"
    atomic_write_text(index, render_index(run_dir, reports))
    return index
