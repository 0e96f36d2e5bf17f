"""The comparison with an earlier run in every load report format: one section (console, report.md,
report.html) marked by its verdict, summary.json; summary.json keeps the histograms a later --compare needs."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from tests.reporting.load_builders import load_result

from coupon_harness.reporting.document import Status
from coupon_harness.reporting.load.charts import latency_chart_svg, throughput_chart_svg
from coupon_harness.reporting.load.compare import compare_runs, comparison_section
from coupon_harness.reporting.load.document import load_document, render_load_table
from coupon_harness.reporting.load.summary_json import write_load_summary_json
from coupon_harness.reporting.render.html import STYLESHEET, render_html
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.reporting.stored import read_stored
from coupon_harness.results.load import (
    Comparison,
    ComparisonRow,
    IntervalHistogram,
    LoadHistograms,
    LoadRunResult,
    MaxRegression,
    TimelinePoint,
)

_P95_LIMIT = MaxRegression("p95", 0.10, True)


def _comparison(*, regressed: bool, judged: bool = True) -> Comparison:
    p95 = ComparisonRow("p95", "p95", "ms", 180.0, 230.0 if regressed else 181.0, 0.278 if regressed else 0.006,
                        True, 0.21 if regressed else -0.04, 0.33 if regressed else 0.05, _P95_LIMIT,
                        ("regression" if regressed else "within noise") if judged else "no interval")
    throughput = ComparisonRow("throughput", "throughput", "req/s", 200.0, 199.0, -0.005, True, -0.02, 0.01, None,
                               "within noise" if judged else "no interval")
    errors = ComparisonRow("error-rate", "error rate", "ratio", 0.001, 0.002, 0.001, False, -0.0005, 0.0025, None,
                           "within noise" if judged else "no interval")
    return Comparison(earlier_source="reports/load-<old>&co/", earlier_started_at="2026-11-30T10:00:00+00:00",
                      earlier_target="http://127.0.0.1:8080", rows=(throughput, p95, errors),
                      error_codes={"8015": (1190, 1250), "<b>": (0, 1)}, noise_judged=judged,
                      resamples=1000 if judged else 0, seed=0,
                      notes=() if judged else ("the earlier run cannot be judged for noise: it has no histograms",))


def test_the_section_is_marked_by_the_comparison_s_verdict() -> None:
    assert comparison_section(_comparison(regressed=True)).status is Status.FAIL
    assert comparison_section(_comparison(regressed=False)).status is Status.PASS
    assert comparison_section(_comparison(regressed=False, judged=False)).status is Status.WARN


def test_console_shows_the_table_and_fails_on_a_regression() -> None:
    text = render_load_table(replace(load_result(), comparison=_comparison(regressed=True)), color=False)
    assert "FAIL Compared with an earlier run" in text and "REGRESSION against the earlier run: p95 +27.8%" in text
    assert "[+21.0%, +33.0%]" in text and re.search(r"8015 +1,190 +1,250 +\+60", text)
    assert text.splitlines()[-1].startswith("FAIL: regression against the earlier run (p95 +27.8% beyond p95=10%)")
    calm = render_load_table(replace(load_result(), comparison=_comparison(regressed=False)), color=False)
    assert "No regression against the earlier run beyond noise" in calm and calm.splitlines()[-1].startswith("PASS")


def test_markdown_has_a_comparison_section() -> None:
    text = render_markdown(load_document(replace(load_result(), comparison=_comparison(regressed=True))))
    assert "### ❌ Compared with an earlier run" in text and "| p95 | 180.0 ms | 230.0 ms | +27.8% |" in text
    assert "regression against the earlier run" in text.splitlines()[0]
    unjudged_result = replace(load_result(), comparison=_comparison(regressed=False, judged=False))
    unjudged = render_markdown(load_document(unjudged_result))
    assert "point figures only" in unjudged and "no histograms" in unjudged


def test_the_html_section_is_escaped_and_marks_each_row() -> None:
    page = render_html(load_document(replace(load_result(), comparison=_comparison(regressed=True))))
    section = page.split('id="comparison"', 1)[1].split("</section>", 1)[0]
    assert "<b>" not in section and "&lt;b&gt;" in section and "&amp;co" in section
    assert '<tr class="fail"><td>p95</td>' in section and "<tr><td>throughput</td>" in section


def test_summary_json_keeps_the_comparison_and_the_histograms(tmp_path: Path) -> None:
    histograms = LoadHistograms(1.0, "HISTFAAAA", (IntervalHistogram(1.0, 10, 1, "HISTFBBB"),
                                                  IntervalHistogram(2.0, 0, 0, None)))
    result = replace(load_result(), comparison=_comparison(regressed=True), histograms=histograms)
    path = tmp_path / "summary.json"
    write_load_summary_json(result, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["comparison"]["regressed"] and data["comparison"]["regressions"] == ["p95"]
    p95 = next(row for row in data["comparison"]["rows"] if row["key"] == "p95")
    assert p95["limit"] == "p95=10%" and p95["change_kind"] == "relative" and p95["low"] == 0.21
    assert data["comparison"]["entity_error_codes"]["8015"] == {"earlier": 1190, "current": 1250}
    assert list(data)[-2:] == ["histograms", "result"]
    assert read_stored(path, LoadRunResult).histograms == histograms
    write_load_summary_json(load_result(), path)
    assert json.loads(path.read_text(encoding="utf-8"))["comparison"] is None


def _earlier_timeline(slowdown: float = 1.0) -> tuple[TimelinePoint, ...]:
    return tuple(TimelinePoint(float(i + 1), 200, 0, 200.0, 40.0 * slowdown, 90.0 * slowdown, 120.0 * slowdown)
                 for i in range(36))


def test_the_charts_draw_the_earlier_run_under_this_one() -> None:
    """--compare: the latency chart has each earlier percentile dashed, the throughput chart the earlier req/s
    as a dashed line over the bars, both on one time axis reaching the longer run (36 s against 30 s)."""
    comparison = replace(_comparison(regressed=True), earlier_timeline=_earlier_timeline())
    result = replace(load_result(), comparison=comparison)
    latency, throughput = latency_chart_svg(result), throughput_chart_svg(result)
    assert latency is not None and throughput is not None
    for name in ("earlier p50", "earlier p95", "earlier p99"):
        assert re.search(rf'<path d="[^"]+"[^>]*stroke-dasharray="5 3"[^>]*><title>{name}</title>', latency), name
    assert re.search(r'<path d="[^"]+"[^>]*stroke-dasharray="5 3"[^>]*><title>earlier run requests/s</title>',
                     throughput)
    assert ">35<" in latency or ">40<" in latency  # the axis reaches the earlier run's 36 s
    alone = replace(load_result(), comparison=_comparison(regressed=True))  # an older file: no earlier timeline
    assert "earlier" not in (latency_chart_svg(alone) or "") and "earlier" not in (throughput_chart_svg(alone) or "")
    assert "stroke-dasharray=\"5 3\"" not in (latency_chart_svg(load_result()) or "")


def test_compare_runs_carries_the_earlier_timeline_and_old_files_read() -> None:
    earlier = load_result(timeline=list(_earlier_timeline()))
    comparison = compare_runs(earlier, load_result(), resamples=10)
    assert comparison.earlier_timeline == tuple(earlier.timeline)
    data = LoadRunResult.to_json(replace(load_result(), comparison=comparison))
    del data["comparison"]["earlier_timeline"]  # a result.json of the version before the field
    data["comparison"]["a_newer_key"] = [1]
    read = LoadRunResult.from_json(data)
    assert read.comparison is not None and read.comparison.earlier_timeline == ()
    assert LoadRunResult.to_json(read)["comparison"]["a_newer_key"] == [1]


def test_each_verdict_is_coloured_where_the_format_has_colour() -> None:
    """REGRESSION red, worse yellow, better green, within noise neutral: an HTML badge of the stylesheet's status
    class, a rich style on the console; plain text for a neutral verdict."""
    rows = (*_comparison(regressed=True).rows,
            ComparisonRow("p50", "p50", "ms", 80.0, 70.0, -0.125, True, -0.2, -0.05, None, "better"),
            ComparisonRow("p99", "p99", "ms", 80.0, 90.0, 0.125, True, 0.05, 0.2, None, "worse"))
    result = replace(load_result(), comparison=replace(_comparison(regressed=True), rows=rows))
    section = render_html(load_document(result)).split('id="comparison"', 1)[1].split("</section>", 1)[0]
    assert '<span class="badge fail">REGRESSION</span>' in section
    assert '<span class="badge pass">better</span>' in section and '<span class="badge warn">worse</span>' in section
    assert "<td>within noise</td>" in section and 'badge pass">within noise' not in section
    assert ".badge.fail" in STYLESHEET and ".badge.pass" in STYLESHEET
    coloured = render_load_table(result, color=True)
    red = re.search(r"\x1b\[([0-9;]*)mREGRESSION\x1b", coloured)
    green = re.search(r"\x1b\[([0-9;]*)mbetter", coloured)
    assert red is not None and "31" in red.group(1).split(";"), coloured
    assert green is not None and "32" in green.group(1).split(";"), coloured
    assert not re.search(r"\x1b\[[0-9;]*mwithin noise", coloured)
