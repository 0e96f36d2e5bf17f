"""The index of `run`: both stages' verdicts and key figures, links, the trend of the last runs, and summary.json
files that do not read (skipped, never a crash)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from tests.reporting.load_builders import failing_result, load_result
from tests.reporting.reporting_builders import build, failed_overrides

from coupon_harness.reporting.contract.document import write_contract_reports
from coupon_harness.reporting.index import read_run, render_index, trend_points, write_index
from coupon_harness.reporting.load.document import write_load_reports
from coupon_harness.reporting.render.html import mark as html_mark
from coupon_harness.results.load import SloResult

#: (folder, started at, p95 ms, requests in 30 s): four earlier runs, oldest first.
RUNS = (("20261128-101500-aaaaaa", "2026-11-28T10:15:00+00:00", 182.0, 6000),
        ("20261129-101500-bbbbbb", "2026-11-29T10:15:00+00:00", 176.5, 6300),
        ("20261130-101500-cccccc", "2026-11-30T10:15:00+00:00", 240.2, 5400),
        ("20261201-101500-dddddd", "2026-12-01T10:15:00+00:00", 190.7, 6150))


def build_run_tree(reports: Path, *, failing_last: bool = True) -> Path:
    """`reports/<run>/{contract,load}/` for every run of RUNS (the last one failing its load stage when asked),
    its index written; returns the last run's folder."""
    run_dir = reports
    for position, (name, started, p95, requests) in enumerate(RUNS):
        run_dir = reports / name
        last = position == len(RUNS) - 1
        contract = build(failed_overrides()) if last else build()
        load = (replace(failing_result(), started_at=started, requests=requests) if last and failing_last else
                load_result(started_at=started, requests=requests,
                            latency_ms={"p50": p95 / 4, "p95": p95, "p99": p95 * 1.4},
                            slos=[SloResult("p95", 300.0, "ms", p95, True)]))
        write_contract_reports(contract, run_dir / "contract")
        write_load_reports(load, run_dir / "load")
    reports_map = {"Contract": (run_dir / "contract" / "report.html", False),
                   "Load": (run_dir / "load" / "report.html", not failing_last)}
    write_index(run_dir, reports_map)
    return run_dir


def test_index_has_both_stages_figures_links_and_trend(tmp_path: Path) -> None:
    run_dir = build_run_tree(tmp_path / "reports")
    page = (run_dir / "index.html").read_text(encoding="utf-8")
    assert f'<h1>{html_mark("fail")} Contract, Load failed</h1>' in page
    # contract: rules passed/failed/warned and requests
    assert re.search(r"<dt>Rules</dt><dd>\d+ passed · 2 failed · 1 warned · 4 not run</dd>", page), page
    assert "<dt>Requests</dt><dd>812</dd>" in page
    # load: requests, req/s, p50/p95/p99, error rate, SLOs
    assert "<dt>Requests</dt><dd>6,150</dd>" in page
    assert "<dt>Throughput</dt><dd>205.0 req/s</dd>" in page
    assert "<dt>Latency p50 / p95 / p99</dt><dd>41.3 ms / 812.4 ms / 1,400.2 ms</dd>" in page
    assert "<dt>Error rate</dt><dd>0.001667 (0.167%)</dd>" in page
    slos = '<span class="badge fail">p95&lt;=300ms</span> <span class="badge pass">error-rate&lt;=0.01</span>'
    assert slos in page
    # links, in the form the CLI tests read
    assert '<a href="contract/report.html">Contract</a>: failed' in page
    assert '<a href="load/report.html">Load</a>: failed' in page
    # the trend: four runs, oldest first in the chart, newest first in the table, links to each load report
    assert "Trend of the last 4 runs" in page
    assert page.count("<svg") == 2
    assert '<a href="../20261128-101500-aaaaaa/load/report.html">20261128-101500-aaaaaa</a>' in page
    assert page.index("20261201-101500-dddddd</a>") < page.index("20261128-101500-aaaaaa</a>")
    assert '<tr><td><strong>this run</strong> <a href="load/report.html">20261201-101500-dddddd</a>' in page
    assert "<script" not in page and not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_trend_points_are_ordered_and_skip_what_does_not_read(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    build_run_tree(reports, failing_last=False)
    (reports / "garbage" / "load").mkdir(parents=True)
    (reports / "garbage" / "load" / "summary.json").write_text("{not json", encoding="utf-8")
    (reports / "list" / "load").mkdir(parents=True)
    (reports / "list" / "load" / "summary.json").write_text("[1, 2]", encoding="utf-8")
    (reports / "wrong-types" / "load").mkdir(parents=True)
    (reports / "wrong-types" / "load" / "summary.json").write_text(
        '{"schema": "coupon-harness/load-summary", "started_at": 5, "latency_ms": "fast"}', encoding="utf-8")
    (reports / "no-date" / "load").mkdir(parents=True)
    (reports / "no-date" / "load" / "summary.json").write_text(
        '{"schema": "coupon-harness/load-summary", "started_at": "yesterday", "throughput_rps": 3}', encoding="utf-8")
    (reports / "binary" / "load").mkdir(parents=True)
    (reports / "binary" / "load" / "summary.json").write_bytes(b"\xff\xfe\x00garbage")
    (reports / "contract-only" / "contract").mkdir(parents=True)
    (reports / "a-file.txt").write_text("not a run", encoding="utf-8")
    points = trend_points(reports)
    assert [point.run_dir.name for point in points] == [name for name, *_ in RUNS]
    assert [point.p95_ms for point in points] == [p95 for _, _, p95, _ in RUNS]
    assert [point.throughput_rps for point in points] == [requests / 30 for *_, requests in RUNS]
    assert len(trend_points(reports, limit=2)) == 2  # the garbage written last is skipped
    assert trend_points(tmp_path / "missing") == []
    assert read_run(reports / "garbage" / "load" / "summary.json") is None
    assert read_run(reports / "binary" / "load" / "summary.json") is None
    assert read_run(reports / "wrong-types" / "load" / "summary.json") is None
    assert read_run(reports / RUNS[0][0] / "load" / "summary.json") is not None


def test_index_without_summaries_or_earlier_runs(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "contract").mkdir(parents=True)
    (run_dir / "contract" / "report.html").write_text("<!DOCTYPE html>", encoding="utf-8")
    # a summary.json of an older version (no `result` member), then one whose result has a wrong type, then garbage
    for text in ('{"schema": "coupon-harness/contract-summary", "counts": {"passed": 3}, "requests": 1}',
                 '{"result": {"format": "coupon-harness/contract-result", "version": 1, "requests": -1}}',
                 "garbage"):
        (run_dir / "contract" / "summary.json").write_text(text, encoding="utf-8")
        page = render_index(run_dir, {"Contract": (run_dir / "contract" / "report.html", True)})
        assert f'<h1>{html_mark("pass")} every stage passed</h1>' in page
        assert "No readable summary.json beside the report." in page and "<dt>Rules</dt>" not in page
        assert "Trend of" not in page and "<svg" not in page
    empty = render_index(run_dir, {})
    assert "no stage ran" in empty and "No report was written." in empty


def test_index_trend_needs_two_runs(tmp_path: Path) -> None:
    run_dir = tmp_path / "reports" / "only"
    write_load_reports(load_result(), run_dir / "load")
    page = render_index(run_dir, {"Load": (run_dir / "load" / "report.html", True)})
    assert "Trend of" not in page
    write_load_reports(load_result(started_at="2026-11-25T07:18:36+00:00"), tmp_path / "reports" / "before" / "load")
    page = render_index(run_dir, {"Load": (run_dir / "load" / "report.html", True)})
    assert "Trend of the last 2 runs" in page
    assert ">11-25 07:18<" in page and ">11-26 07:18<" in page
    write_load_reports(load_result(started_at="2026-11-26T07:18:50+00:00"), tmp_path / "reports" / "after" / "load")
    page = render_index(run_dir, {"Load": (run_dir / "load" / "report.html", True)})
    assert ">11-26 07:18:36<" in page and ">11-26 07:18:50<" in page  # two runs in one minute


def test_the_index_links_run_s_ci_files_when_they_exist(tmp_path: Path) -> None:
    assert "For CI" not in render_index(tmp_path, {})
    (tmp_path / "junit.xml").write_text("<testsuites/>", encoding="utf-8")
    (tmp_path / "report.md").write_text("# run", encoding="utf-8")
    page = render_index(tmp_path, {})
    assert '<a href="junit.xml"><code>junit.xml</code></a>' in page and '<a href="report.md">' in page
