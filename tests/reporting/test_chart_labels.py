"""Labels inside a chart's plot (an SLO's, the capacity's, the breaking rate's) meet no curve, no line and no other
label: each SVG's label boxes (`data-box`) are checked against each other and against every drawn segment."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest
from tests.reporting.capacity_builders import generator_limited_result, knee_result

from coupon_harness.reporting.capacity.document import latency_curve_svg, throughput_curve_svg
from coupon_harness.reporting.charts import ChartLine, ChartMarker, ChartThreshold, boxes_overlap, line_chart_svg

_SVG = "{http://www.w3.org/2000/svg}"
Box = tuple[float, float, float, float]


def _labels(svg: str) -> dict[str, Box]:
    out = {}
    for text in ET.fromstring(svg).iter(f"{_SVG}text"):
        if text.get("class") == "label":
            x, y, w, h = (float(v) for v in (text.get("data-box") or "").split())
            out[text.text or ""] = (x, y, x + w, y + h)
    return out


def _segments(svg: str) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Every curve's segments (paths; dots as points) and every threshold or marker line."""
    root = ET.fromstring(svg)
    segments = []
    for path in root.iter(f"{_SVG}path"):
        for run in (path.get("d") or "").split("M")[1:]:
            points = [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+) (-?[\d.]+)", run)]
            segments += list(pairwise(points))
    segments += [((float(c.get("cx") or 0), float(c.get("cy") or 0)),) * 2 for c in root.iter(f"{_SVG}circle")]
    for line in root.iter(f"{_SVG}line"):
        if line.get("stroke-dasharray"):  # thresholds and markers (grid and axes are solid)
            segments.append(((float(line.get("x1") or 0), float(line.get("y1") or 0)),
                             (float(line.get("x2") or 0), float(line.get("y2") or 0))))
    return segments


def _meets(segment: tuple[tuple[float, float], tuple[float, float]], box: Box) -> bool:
    """Whether a segment meets a box: sampled every half pixel (independent of the chart module's clipping)."""
    (x1, y1), (x2, y2) = segment
    steps = max(1, int(max(abs(x2 - x1), abs(y2 - y1)) * 2))
    return any(box[0] <= x1 + (x2 - x1) * i / steps <= box[2] and box[1] <= y1 + (y2 - y1) * i / steps <= box[3]
               for i in range(steps + 1))


def _collisions(svg: str) -> list[str]:
    labels = _labels(svg)
    problems = [f"{a!r} overlaps {b!r}" for i, (a, box) in enumerate(labels.items())
                for b, other in list(labels.items())[i + 1:] if boxes_overlap(box, other)]
    for name, box in labels.items():
        own_y = box[3] - 3 + 4  # a threshold label sits 4 px above its own line; a marker's beside its own
        crossing = [s for s in _segments(svg) if _meets(s, box)
                    and not (s[0][1] == s[1][1] == own_y or (s[0][0] == s[1][0] and abs(s[0][0] - box[0]) <= 5.5)
                             or (s[0][0] == s[1][0] and abs(s[0][0] - box[2]) <= 5.5))]
        problems += [f"{name!r} meets a line or curve at {crossing[:2]}"] if crossing else []
    return problems


@pytest.mark.parametrize("log", [False, True])
def test_capacity_marks_the_capacity_and_the_breaking_rate_clear_of_everything(log: bool) -> None:
    svg = latency_curve_svg(knee_result(), log=log)
    assert svg is not None
    labels = _labels(svg)
    assert {"capacity 200 req/s", "breaking 212 req/s", "SLO p95<=300ms"} <= set(labels), labels
    assert svg.count('class="marker"') == 2
    assert not _collisions(svg), _collisions(svg)
    answered = throughput_curve_svg(knee_result())
    assert answered is not None and {"capacity 200 req/s", "breaking 212 req/s"} <= set(_labels(answered))
    assert not _collisions(answered), _collisions(answered)


def test_a_search_the_generator_limited_marks_that_limit() -> None:
    result = generator_limited_result()
    svg = latency_curve_svg(result)
    assert svg is not None
    assert result.capacity_rps is None and result.breaking_rps is None and result.generator_limited
    assert {name for name in _labels(svg) if not name.startswith("SLO")} == {"generator limit 3,972 req/s"}
    assert not _collisions(svg), _collisions(svg)


def test_an_slo_label_moves_off_a_curve_that_runs_through_its_place() -> None:
    """A curve crossing the right end of the SLO line just above it (where the label used to be drawn): the label
    goes elsewhere along its line; two markers one pixel apart get their labels on either side or rows apart."""
    through = ChartLine("p95", "#bf8700", [(0.0, 100.0), (90.0, 100.0), (95.0, 310.0), (100.0, 330.0)])
    svg = line_chart_svg("t", [through], x_range=(0.0, 100.0), x_ticks=[(0.0, "0"), (100.0, "100")], x_unit="s",
                         y_unit="ms", thresholds=[ChartThreshold("SLO p95<=300ms", 300.0, "#57606a")],
                         markers=[ChartMarker("capacity 50 req/s", 50.0, "#1a7f37"),
                                  ChartMarker("breaking 50.2 req/s", 50.2, "#cf222e")])
    assert set(_labels(svg)) == {"SLO p95<=300ms", "capacity 50 req/s", "breaking 50.2 req/s"}
    assert not _collisions(svg), _collisions(svg)


def test_the_collision_check_sees_overlapping_labels_and_a_crossing_curve() -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0 L100 100"/>'
           '<text class="label" data-box="40 40 30 12">a</text><text class="label" data-box="60 45 30 12">b</text>'
           "</svg>")
    problems = _collisions(svg)
    assert any("overlaps" in p for p in problems) and any("meets a line" in p for p in problems), problems
