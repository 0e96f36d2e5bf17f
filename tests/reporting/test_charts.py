"""The charts of the HTML reports: scaled to the data, SLO lines drawn when near and named when far, the log
scale, and status marks that need no font."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from tests.reporting.load_builders import failing_result, load_result
from tests.reporting.reporting_builders import build, failed_overrides, faulted

from coupon_harness.reporting.charts import PLOT, ChartLine, ChartThreshold, line_chart_svg, log_ticks, scale_toggle
from coupon_harness.reporting.contract.document import contract_document
from coupon_harness.reporting.load.charts import latency_chart_svg, tails_matter, throughput_chart_svg
from coupon_harness.reporting.load.document import load_document
from coupon_harness.reporting.render.html import MARK_KINDS, render_html
from coupon_harness.reporting.render.html import mark as html_mark
from coupon_harness.results.load import LoadRunResult, SloResult, TimelinePoint

_SVG = "{http://www.w3.org/2000/svg}"
_LEFT, _TOP, _WIDTH, _HEIGHT = PLOT
#: Symbols and emoji: glyphs common fonts lack (an empty box in headless Chromium on Debian).
_RISKY = re.compile("[\u2190-\u2bff\ufe00-\ufe0f\U0001f000-\U0001faff]")


def _fast(slo_ms: float = 500.0) -> LoadRunResult:
    """p50 about 2 ms, p95 about 5 ms, p99 about 9 ms."""
    points = [TimelinePoint(float(i + 1), 100, 0, 100.0, 2.0 + i % 3 * 0.1, 5.0 + i % 4 * 0.1, 9.0 + i % 2)
              for i in range(20)]
    return load_result(timeline=points, slos=[SloResult("p95", slo_ms, "ms", 5.2, True)])


def _ys(svg: ET.Element) -> list[float]:
    values = []
    for path in svg.findall(f"{_SVG}path"):
        values += [float(y) for y in re.findall(r"[\d.]+ ([\d.]+)", path.attrib["d"])]
    return values


def _texts(svg: ET.Element) -> list[str]:
    return [text.text or "" for text in svg.iter(f"{_SVG}text")]


def test_latency_axis_follows_the_data_not_a_far_slo() -> None:
    chart = latency_chart_svg(_fast(500.0))
    assert chart is not None
    svg = ET.fromstring(chart)
    ys = _ys(svg)
    # The lines use most of the plot's height: not flat on the x axis under a 500 ms scale.
    assert max(ys) - min(ys) > _HEIGHT * 0.6
    assert all(_TOP <= y <= _TOP + _HEIGHT for y in ys)
    texts = _texts(svg)
    assert "SLO p95 above (500 ms)" in texts
    assert "SLO p95<=500ms" not in texts  # no line drawn off the scale
    assert not [line for line in svg.findall(f"{_SVG}line") if "stroke-dasharray" in line.attrib]
    assert "12" in texts and "500" not in texts  # y ticks up to the data (p99 10 ms)


def test_latency_slo_near_the_data_is_drawn_and_scaled_in() -> None:
    svg = ET.fromstring(latency_chart_svg(_fast(12.0)) or "")
    texts = _texts(svg)
    assert "SLO p95<=12ms" in texts and not any("above" in text for text in texts)
    dashed = [line for line in svg.findall(f"{_SVG}line") if "stroke-dasharray" in line.attrib]
    assert len(dashed) == 1
    assert _TOP <= float(dashed[0].attrib["y1"]) <= _TOP + _HEIGHT


def test_log_scale_chart() -> None:
    result = failing_result()
    svg = ET.fromstring(latency_chart_svg(result, log=True) or "")
    assert svg.attrib["data-scale"] == "log"
    texts = _texts(svg)
    assert "ms (log scale)" in texts and {"10", "100", "1,000"} <= set(texts)
    ys = _ys(svg)
    assert ys and all(_TOP <= y <= _TOP + _HEIGHT for y in ys)
    assert [path.findtext(f"{_SVG}title") for path in svg.findall(f"{_SVG}path")] == ["p50", "p95", "p99"]


def test_log_ticks() -> None:
    assert log_ticks(3.0, 400.0) == [1.0, 10.0, 100.0, 1000.0]
    assert log_ticks(2.0, 9.0) == [1.0, 2.0, 5.0, 10.0]
    assert log_ticks(0.3, 40.0) == [0.1, 1.0, 10.0, 100.0]
    assert log_ticks(30.0, 400.0) == [10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]
    assert log_ticks(0.0, float("nan")) == [1.0, 2.0, 5.0, 10.0]


def test_zero_values_are_gaps_on_a_log_scale_and_thresholds_below_are_named() -> None:
    line = ChartLine("p50", "#000", [(0.0, 5.0), (1.0, 0.0), (2.0, 6.0), (3.0, 7.0)])
    svg = ET.fromstring(line_chart_svg("t", [line], x_range=(0.0, 3.0), x_ticks=[(0.0, "0")], x_unit="x",
                                       y_unit="ms", thresholds=[ChartThreshold("SLO", 0.01, "#f00", unit="ms")],
                                       log=True))
    assert len(svg.findall(f"{_SVG}circle")) == 1  # the first point, alone before the gap
    assert svg.findall(f"{_SVG}path")[0].attrib["d"].count("M") == 1
    assert "SLO below (0.01 ms)" in _texts(svg)


def test_dots_mark_every_point() -> None:
    line = ChartLine("p95", "#000", [(0.0, 5.0), (1.0, 6.0), (2.0, 4.0)])
    svg = ET.fromstring(line_chart_svg("t", [line], x_range=(-0.5, 2.5), x_ticks=[], x_unit="x", y_unit="ms",
                                       dots=True))
    assert len(svg.findall(f"{_SVG}circle")) == 3 and len(svg.findall(f"{_SVG}path")) == 1


def test_throughput_axis_follows_the_busiest_interval() -> None:
    svg = ET.fromstring(throughput_chart_svg(_fast()) or "")
    texts = _texts(svg)
    assert "100" in texts and "1,000" not in texts
    bars = [rect for group in svg.findall(f"{_SVG}g") for rect in group.findall(f"{_SVG}rect")]
    assert len(bars) == 20
    for bar in bars:
        x, y, width, height = (float(bar.attrib[k]) for k in ("x", "y", "width", "height"))
        assert _LEFT <= x <= x + width <= _LEFT + _WIDTH + 0.1
        assert _TOP <= y <= y + height <= _TOP + _HEIGHT + 0.1


def test_scale_toggle_is_css_only_and_log_opens_first_when_tails_matter() -> None:
    toggle = scale_toggle("Latency scale", "<svg></svg>", "<svg></svg>")
    assert '<input type="radio" name="latency-scale" id="latency-scale-linear" class="linear" checked>' in toggle
    assert "<script" not in toggle
    calm = render_html(load_document(_fast()))
    assert not tails_matter(_fast()) and 'class="log" checked' not in calm
    spiky = [TimelinePoint(float(i + 1), 100, 0, 100.0, 2.0, 5.0, 300.0 if i == 3 else 9.0) for i in range(10)]
    result = load_result(timeline=spiky)
    assert tails_matter(result)
    assert 'id="latency-scale-log" class="log" checked>' in render_html(load_document(result))


def test_marks_need_no_font() -> None:
    for kind, label in MARK_KINDS.items():
        mark = html_mark(kind)
        assert f'class="mark {kind}"' in mark and f'aria-label="{label}"' in mark
        assert not re.search(r">[^<]", mark)  # drawn by CSS, no character inside
    with pytest.raises(KeyError):
        html_mark("nonsense")


@pytest.mark.parametrize("document", [
    pytest.param(lambda: render_html(contract_document(build())), id="contract-passed"),
    pytest.param(lambda: render_html(contract_document(build(failed_overrides(), interrupted=True))),
                 id="contract-interrupted"),
    pytest.param(lambda: render_html(contract_document(faulted())), id="contract-faulted"),
    pytest.param(lambda: render_html(load_document(load_result())), id="load-passed"),
    pytest.param(lambda: render_html(load_document(failing_result())), id="load-failing"),
    pytest.param(lambda: render_html(load_document(load_result(interrupted=True, stopped_reason="--max-coupons reached",
                                                      files={}))), id="load-interrupted"),
])
def test_no_glyph_fonts_may_lack(document: object) -> None:
    text = document()  # type: ignore[operator]
    assert not _RISKY.findall(text), sorted(set(_RISKY.findall(text)))
