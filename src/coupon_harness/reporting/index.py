"""reports/<time>-<random>/index.html: the page of a `run`: the verdict and key figures of each stage, links to
their reports, and the trend (p95, throughput) of the last runs found beside it.

Everything comes from the runs the `summary.json` files next to the reports hold (`reporting.stored`): a missing,
unreadable or malformed file, or one of an older version, is left out, never an error, so an index can always be
written.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from coupon_harness.reporting.common import (
    ChartLine,
    atomic_write_text,
    html_mark,
    html_page,
    line_chart_svg,
)
from coupon_harness.reporting.contract.common import count_outcomes
from coupon_harness.reporting.contract.common import verdict as contract_verdict
from coupon_harness.reporting.load.common import slo_label, throughput_rps
from coupon_harness.reporting.load.common import verdict as load_verdict
from coupon_harness.reporting.stored import read_stored_any
from coupon_harness.results.contract import ContractRunResult, Outcome
from coupon_harness.results.load import LoadRunResult

__all__ = ["TREND_RUNS", "TrendPoint", "read_run", "render_index", "trend_points", "write_index"]

#: The trend shows at most this many runs, the latest.
TREND_RUNS = 30

_CSS = """
:root { color-scheme: light; --passed: #1a7f37; --passed-bg: #dafbe1; --failed: #cf222e; --failed-bg: #ffebe9;
  --muted: #59636e; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0 auto;
  max-width: 1200px; padding: 1.5rem; }
h1 { margin: 0; font-size: 1.5rem; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
.verdict { padding: 1rem 1.25rem; border-radius: 8px; border-left: 8px solid; margin-bottom: 1rem; }
.verdict.passed { background: var(--passed-bg); border-color: var(--passed); }
.verdict.failed { background: var(--failed-bg); border-color: var(--failed); }
.stages { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 1rem; }
.stage { border: 1px solid #d0d7de; border-top: 6px solid; border-radius: 8px; padding: .5rem 1rem; }
.stage.passed { border-top-color: var(--passed); } .stage.failed { border-top-color: var(--failed); }
.stage h2 { border: 0; margin: .3rem 0; font-size: 1.2rem; } .stage p.verdict-text { margin: .2rem 0 .6rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; } th, td { text-align: left; padding: .3rem .6rem;
  border-bottom: 1px solid #d0d7de; vertical-align: top; } td.num, th.num { text-align: right; }
tr.current { background: #ddf4ff; }
.passed-text { color: var(--passed); font-weight: 600; } .failed-text { color: var(--failed); font-weight: 600; }
.chart { margin: .5rem 0 1.5rem; } .chart svg { width: 100%; height: auto; max-width: 960px; display: block; }
.muted { color: var(--muted); }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, monospace; word-break: break-all; }
footer { margin-top: 2rem; color: var(--muted); font-size: 12px; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def read_run(path: Path) -> ContractRunResult | LoadRunResult | None:
    """The contract or load run a summary.json holds (`reporting.stored`), or None when it is missing, unreadable,
    of an older version or of another kind: the index is written all the same."""
    try:
        run = read_stored_any(path, (ContractRunResult, LoadRunResult))
    except ValueError:
        return None
    return run if isinstance(run, ContractRunResult | LoadRunResult) else None


def _fmt_ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f} ms" if value < 10 else f"{value:,.1f} ms"


def _fmt_int(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} req/s"


def _fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g} ({value * 100:.3g}%)"


def _rows(rows: Sequence[tuple[str, str]]) -> str:
    return "<table><tbody>" + "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</tbody></table>"


def _contract_figures(result: ContractRunResult) -> list[tuple[str, str]]:
    counts = count_outcomes(result)
    rules = " · ".join(f"{_e(_fmt_int(counts[outcome]))} {_e(outcome.value)}"
                       for outcome in (Outcome.PASSED, Outcome.FAILED, Outcome.WARNED, Outcome.NOT_RUN))
    rows = [("Rules", rules), ("Requests", _e(_fmt_int(result.requests))),
            ("Duration", _e(f"{result.duration_s:,.1f} s"))]
    if result.faults:
        rows.append(("Harness errors", _e(f"{len(result.faults)} (a bug in coupon-harness: see the report)")))
    return rows


def _slo_verdict(result: LoadRunResult) -> str:
    parts = [f'{html_mark("pass" if slo.passed else "fail")} <code>{_e(slo_label(slo))}</code>'
             for slo in result.slos]
    return " ".join(parts) or '<span class="muted">no SLO set</span>'


def _load_figures(result: LoadRunResult) -> list[tuple[str, str]]:
    latency = " / ".join(_fmt_ms(result.latency_ms.get(key)) for key in ("p50", "p95", "p99"))
    return [("Requests", _e(_fmt_int(result.requests))),
            ("Throughput", _e(_fmt_rate(throughput_rps(result)))),
            ("Latency p50 / p95 / p99", _e(latency)),
            ("Error rate", _e(_fmt_ratio(result.error_rate))),
            ("SLOs", _slo_verdict(result)),
            ("Contract violations", _e(_fmt_int(result.violations)))]


def _stage(title: str, report: Path, passed: bool, run_dir: Path) -> str:
    """One stage's card: its verdict, key figures (when its summary.json reads) and the link to its report."""
    link = _e(os.path.relpath(report, run_dir))
    state = "passed" if passed else "failed"
    run = read_run(report.parent / "summary.json")
    figures = ""
    verdict = ""
    if isinstance(run, ContractRunResult):
        verdict, figures = contract_verdict(run), _rows(_contract_figures(run))
    elif isinstance(run, LoadRunResult):
        verdict, figures = load_verdict(run), _rows(_load_figures(run))
    if not figures:
        figures = '<p class="muted">No readable summary.json beside the report.</p>'
    return (f'<section class="stage {state}"><h2>{html_mark("pass" if passed else "fail")} {_e(title)}: '
            f'<span class="{state}-text">{state}</span></h2>'
            + (f'<p class="verdict-text">{_e(verdict)}</p>' if verdict else "")
            + f'{figures}<p><a href="{link}">{_e(title)} report</a> (<code>{link}</code>)</p></section>')


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
    points: list[TrendPoint] = []
    for _, child in candidates[:limit * 4]:
        point = _trend_point(child)
        if point is not None:
            points.append(point)
            if len(points) == limit:
                break
    return sorted(points, key=lambda point: (point.started, point.run_dir.name))


def _trend(run_dir: Path) -> str:
    points = trend_points(run_dir.parent)
    if len(points) < 2:
        return ""
    count = len(points)
    step = max(1, math.ceil(count / 10))
    stamp = "%m-%d %H:%M"
    if len({point.started.strftime(stamp) for point in points}) < count:  # runs within one minute
        stamp = "%m-%d %H:%M:%S"
    x_ticks = [(float(i), point.started.strftime(stamp)) for i, point in enumerate(points)
               if i % step == 0 or i == count - 1]
    if len(x_ticks) > 1 and x_ticks[-1][0] - x_ticks[-2][0] < step:
        del x_ticks[-2]
    x_range = (-0.5, count - 0.5)
    p95 = line_chart_svg("p95 latency of the last runs (ms)",
                         [ChartLine("p95", "#bf8700", [(float(i), p.p95_ms) for i, p in enumerate(points)])],
                         x_range=x_range, x_ticks=x_ticks, x_unit="run (start time)", y_unit="ms", dots=True)
    rps = line_chart_svg("Throughput of the last runs (requests/s)",
                         [ChartLine("requests/s", "#0969da",
                                    [(float(i), p.throughput_rps) for i, p in enumerate(points)])],
                         x_range=x_range, x_ticks=x_ticks, x_unit="run (start time)", y_unit="requests/s",
                         dots=True)
    rows = []
    current = run_dir.resolve()
    for point in reversed(points):
        report = point.run_dir / "load" / "report.html"
        link = _e(os.path.relpath(report, run_dir))
        name = f'<a href="{link}">{_e(point.run_dir.name)}</a>' if report.is_file() else _e(point.run_dir.name)
        verdict = ("—" if point.holds is None else
                   f'{html_mark("pass" if point.holds else "fail")} {"held" if point.holds else "failed"}')
        css = ' class="current"' if point.run_dir.resolve() == current else ""
        rows.append(f"<tr{css}><td>{name}</td><td>{_e(point.started.isoformat(timespec='seconds'))}</td>"
                    f'<td><code>{_e(point.target)}</code></td><td class="num">{_e(_fmt_ms(point.p95_ms))}</td>'
                    f'<td class="num">{_e(_fmt_rate(point.throughput_rps))}</td><td>{verdict}</td></tr>')
    table = ('<table><thead><tr><th>Run</th><th>Started</th><th>Target</th><th class="num">p95</th>'
             f'<th class="num">Throughput</th><th>Load stage</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')
    return (f"<h2>Trend of the last {count} runs</h2>"
            f'<p class="muted">Load stages under <code>{_e(run_dir.parent)}</code>, oldest first; runs against '
            "other targets or with other load settings are not comparable.</p>"
            f'<h3>p95 latency</h3><div class="chart">{p95}</div>'
            f'<h3>Throughput</h3><div class="chart">{rps}</div>{table}')


def _ci_files(run_dir: Path) -> str:
    """Links to `run`'s combined files for CI (junit.xml, report.md), when they were written beside the index."""
    files = [(name, what) for name, what in (("junit.xml", "both stages' tests, for a CI test tab"),
                                             ("report.md", "both stages' reports, for a CI job summary"))
             if (run_dir / name).is_file()]
    if not files:
        return ""
    items = "".join(f'<li><a href="{_e(name)}"><code>{_e(name)}</code></a>: {_e(what)}</li>' for name, what in files)
    return f"<h2>For CI</h2><ul>{items}</ul>"


def render_index(run_dir: Path, reports: dict[str, tuple[Path, bool]]) -> str:
    """The index page; `reports` maps a stage's title to (its report.html, whether it passed)."""
    passed = bool(reports) and all(ok for _, ok in reports.values())
    state = "passed" if passed else "failed"
    if not reports:
        headline = "no stage ran"
    elif passed:
        headline = "every stage passed"
    else:
        failed = [title for title, (_, ok) in reports.items() if not ok]
        headline = f"{', '.join(failed)} failed"
    links = "".join(f'<li><a href="{_e(os.path.relpath(path, run_dir))}">{_e(title)}</a>: '
                    f'{"passed" if ok else "failed"}</li>' for title, (path, ok) in reports.items())
    body = [f'<header class="verdict {state}"><h1>{html_mark("pass" if passed else "fail")} {_e(headline)}</h1>'
            f"<p>coupon-harness run <code>{_e(run_dir.name)}</code></p></header>",
            '<div class="stages">' + "".join(_stage(title, path, ok, run_dir)
                                             for title, (path, ok) in reports.items()) + "</div>",
            f"<h2>Reports</h2><ul>{links}</ul>" if links else '<p class="muted">No report was written.</p>',
            _ci_files(run_dir),
            _trend(run_dir),
            "<footer>Generated by coupon-harness.</footer>"]
    return html_page(_e(f"coupon-harness run: {headline}"), _CSS, [part for part in body if part])


def write_index(run_dir: Path, reports: dict[str, tuple[Path, bool]]) -> Path:
    """Write `run_dir/index.html`; `reports` maps a title to (report file, whether it passed)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    index = run_dir / "index.html"
    atomic_write_text(index, render_index(run_dir, reports))
    return index
