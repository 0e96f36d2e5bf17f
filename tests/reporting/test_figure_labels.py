"""One name per ratio: the SLO `failure-ratio` and the figure it reads carry the same label in every format (console,
report.md, report.html, summary.json, the comparison); the all-failures ratio carries another."""

from __future__ import annotations

import html
import json

from tests.reporting.load_builders import load_result, ramp_compared_result

from coupon_harness.reporting.load.common import FIGURE_LABELS
from coupon_harness.reporting.load.document import load_document, render_load_table
from coupon_harness.reporting.load.summary_json import load_summary_dict
from coupon_harness.reporting.render.html import render_html
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.results.load import LoadRunResult, SloResult

SLO = FIGURE_LABELS["failure-ratio"]
ALL = FIGURE_LABELS["failure-count-ratio"]


def _result() -> LoadRunResult:
    return load_result(slos=[SloResult("failure-ratio", 0.02, "ratio", 10 / 22800, True),
                             SloResult("error-rate", 0.01, "ratio", 10 / 6000, True)])


def test_the_two_ratios_have_different_names() -> None:
    assert SLO != ALL and SLO.startswith("failure-ratio") and "expected failures included" in ALL


def test_console_names_the_slo_and_its_figure_alike() -> None:
    """On a terminal wide enough that no cell wraps (a narrow one folds the names inside their cells)."""
    lines = render_load_table(_result(), color=False, width=240).splitlines()
    slo_row = next(line for line in lines if line.startswith("failure-ratio<=0.02"))
    assert f" {SLO} " in slo_row
    assert any(line.startswith(SLO) and line.split(SLO)[1].split()[0] == "0.0004386" for line in lines)
    assert any(line.startswith(ALL) and "0.05 (5%)" in line for line in lines)


def test_markdown_names_the_slo_and_its_figure_alike() -> None:
    lines = render_markdown(load_document(_result())).splitlines()
    slo_row = next(line for line in lines if "`failure-ratio<=0.02`" in line)
    assert f"| {SLO} |" in slo_row
    assert any(line.startswith(f"| {SLO} | 0.0004386") for line in lines)
    assert any(line.startswith(f"| {ALL} | 0.05 (5%)") for line in lines)


def test_html_names_the_slo_and_its_figure_alike() -> None:
    page = render_html(load_document(_result()))
    assert f"<td><code>failure-ratio&lt;=0.02</code></td><td>{html.escape(SLO)}</td>" in page
    assert f"<td>{html.escape(SLO)}</td><td>0.0004386" in page
    assert f"<td>{html.escape(ALL)}</td><td>0.05 (5%)" in page


def test_summary_json_names_the_slo_and_its_figure_alike() -> None:
    data = json.loads(json.dumps(load_summary_dict(_result())))
    slo = next(slo for slo in data["slos"] if slo["key"] == "failure-ratio")
    assert slo["figure"] == data["figure_labels"]["failure-ratio"] == SLO
    assert data["figure_labels"]["failure-count-ratio"] == ALL


def test_the_comparison_uses_the_same_names() -> None:
    comparison = ramp_compared_result().comparison
    assert comparison is not None
    labels = {row.key: row.label for row in comparison.rows}
    assert labels["failure-ratio"] == SLO and labels["failure-count-ratio"] == ALL
