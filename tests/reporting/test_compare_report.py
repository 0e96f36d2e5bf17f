"""The comparison with an earlier run in every load report format: one section (console, report.md,
report.html) marked by its verdict, summary.json; summary.json keeps the histograms a later --compare needs."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from tests.reporting.load_builders import load_result

from coupon_harness.reporting.document import Status
from coupon_harness.reporting.load.compare import comparison_section
from coupon_harness.reporting.load.document import load_document, render_load_table
from coupon_harness.reporting.load.summary_json import write_load_summary_json
from coupon_harness.reporting.render.html import render_html
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.reporting.stored import read_stored
from coupon_harness.results.load import (
    Comparison,
    ComparisonRow,
    IntervalHistogram,
    LoadHistograms,
    LoadRunResult,
    MaxRegression,
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
