"""Inline SVG charts for the HTML reports: a line chart scaled to its data (linear or log, thresholds drawn or
named when off the scale), its frame and legend, the tick helpers, and a linear/log switch without script."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from coupon_harness.reporting.text import e as _e

__all__ = ["PLOT", "Bar", "ChartLine", "ChartMarker", "ChartThreshold", "TimelineMark", "axis_ticks", "bar_chart_svg",
           "boxes_overlap", "chart_frame", "finite", "legend_svg", "line_chart_svg", "log_ticks", "nice_ticks",
           "scale_toggle", "tick_label", "timeline_svg"]

_WIDTH = 860
_HEIGHT = 280
_LEFT = 70
_RIGHT = 16
_TOP = 30
_BOTTOM = 42
#: The plot area inside a chart: x, y, width, height (also on each chart's `data-plot`, for tests).
PLOT = (_LEFT, _TOP, _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM)
#: A threshold up to this factor above the data (linear scale) is drawn, the axis stretched to it.
_LINEAR_REACH = 1.5
#: The linear axis reaches a little above the highest value, so no line runs along the frame.
_HEADROOM = 1.04
#: On a log scale, a threshold within this factor of the data is drawn.
_LOG_REACH = 10.0


def _f(value: float) -> str:
    return f"{value:.1f}"


def finite(value: float | None) -> float | None:
    """`value`, or None when it is missing, NaN or infinite (nothing to plot or print)."""
    return value if value is not None and math.isfinite(value) else None


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 up to at least `top` (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    top = top if finite(top) is not None and top > 0 else 1.0
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def log_ticks(low: float, high: float) -> list[float]:
    """Ticks of a log axis covering [low, high]: whole decades, with 2 and 5 between them over few decades."""
    low = low if finite(low) is not None and low > 0 else 1.0
    high = high if finite(high) is not None and high > low else low * 10
    first = math.floor(math.log10(low) + 1e-9)
    last = max(math.ceil(math.log10(high) - 1e-9), first + 1)
    steps = (1.0, 2.0, 5.0) if last - first <= 2 else (1.0,)
    ticks = [m * 10.0 ** d for d in range(first, last) for m in steps]
    return [float(f"{t:.12g}") for t in [*ticks, 10.0 ** last]]


def tick_label(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == 0 else f"{value:g}"


def axis_ticks(top: float, count: int = 8) -> tuple[float, list[tuple[float, str]]]:
    """An axis from 0 to a round value at or above `top`: its end, and its ticks (value, label)."""
    ticks = nice_ticks(top, count)
    return ticks[-1], [(tick, tick_label(tick)) for tick in ticks]


def _x_scale(x_range: tuple[float, float]) -> Callable[[float], float]:
    """Data values on the x axis to pixels."""
    left, _, width, _ = PLOT
    low, high = x_range
    span = high - low if high > low else 1.0
    return lambda value: left + (value - low) / span * width


@dataclass(frozen=True, slots=True)
class ChartLine:
    """One series: (x, y) points, y None for a gap; a lone point between gaps is drawn as a dot. `dashed`: drawn
    dashed and lighter, behind the solid lines (an earlier run's, under this one's)."""

    name: str
    colour: str
    points: Sequence[tuple[float, float | None]]
    dashed: bool = False


@dataclass(frozen=True, slots=True)
class ChartThreshold:
    """A horizontal line (an SLO): drawn when the data come near it, else named above (or below) the plot."""

    label: str
    value: float
    colour: str
    #: What names it when it is off the scale ("SLO p95": "SLO p95 above (500 ms)"); `label` if empty.
    short: str = ""
    unit: str = ""


_DASH = 'stroke-dasharray="5 3" stroke-opacity="0.55"'


@dataclass(frozen=True, slots=True)
class ChartMarker:
    """A vertical line at an x value (a capacity, a breaking rate), its label placed clear of the curves, the other
    lines and every other label."""

    label: str
    value: float
    colour: str


#: A label's box: left, top, right, bottom (pixels); written on each placed label as `data-box="x y w h"`.
Box = tuple[float, float, float, float]
_CHAR_W = 6.5
_LINE_H = 14


def _text_box(x: float, baseline: float, text: str, anchor: str) -> Box:
    width = _CHAR_W * len(text)
    x0 = x - width if anchor == "end" else x
    return (x0, baseline - 10, x0 + width, baseline + 3)


def boxes_overlap(a: Box, b: Box, pad: float = 0.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _crosses(p: tuple[float, float], q: tuple[float, float], box: Box) -> bool:
    """Whether the segment p-q meets the box (Liang-Barsky clipping)."""
    x0, y0, x1, y1 = box
    dx, dy = q[0] - p[0], q[1] - p[1]
    low, high = 0.0, 1.0
    for step, room in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if step == 0:
            if room < 0:
                return False
            continue
        t = room / step
        if step < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


class _Labels:
    """Labels placed one by one, each at the first of its candidate positions whose box meets no curve, no line
    and no label placed before it (the first candidate when none is clear)."""

    def __init__(self, curves: list[list[tuple[float, float]]]) -> None:
        self.segments = [(a, b) for curve in curves for a, b in pairwise(curve)]
        self.segments += [(point, point) for curve in curves if len(curve) == 1 for point in curve]
        self.boxes: list[Box] = []

    def clear(self, box: Box, *, ignore: int = -1) -> bool:
        padded = (box[0] - 2, box[1] - 1, box[2] + 2, box[3] + 1)
        return (not any(boxes_overlap(box, other, 2) for other in self.boxes)
                and not any(_crosses(a, b, padded) for i, (a, b) in enumerate(self.segments) if i != ignore))

    def place(self, text: str, candidates: Sequence[tuple[float, float, str]], *, ignore: int = -1
              ) -> tuple[float, float, str, Box]:
        """The first clear candidate (x, baseline, anchor) and its box; the box is kept for later labels."""
        left, top, width, height = PLOT
        inside = [c for c in candidates if left <= (b := _text_box(c[0], c[1], text, c[2]))[0] and
                  b[2] <= left + width and top <= b[1] and b[3] <= top + height] or list(candidates[:1])
        chosen = next((c for c in inside if self.clear(_text_box(c[0], c[1], text, c[2]), ignore=ignore)),
                      inside[0])
        box = _text_box(chosen[0], chosen[1], text, chosen[2])
        self.boxes.append(box)
        return (*chosen, box)

    def line(self, a: tuple[float, float], b: tuple[float, float]) -> int:
        """A straight line later labels keep clear of; its index (for the label that belongs to it)."""
        self.segments.append((a, b))
        return len(self.segments) - 1


def _box_attr(box: Box) -> str:
    return f'data-box="{_f(box[0])} {_f(box[1])} {_f(box[2] - box[0])} {_f(box[3] - box[1])}"'


def legend_svg(entries: Sequence[tuple[str, str]], dashed: Sequence[str] = ()) -> str:
    """Each entry's colour and label along the top; the labels in `dashed` get a dashed stroke, not a square."""
    parts = []
    x = _LEFT
    for label, colour in entries:
        if label in dashed:
            parts.append(f'<line x1="{x}" y1="14" x2="{x + 12}" y2="14" stroke="{colour}" stroke-width="2.5" '
                         f'{_DASH}/>')
        else:
            parts.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="18">{_e(label)}</text>')
        x += 24 + 7 * len(label)
    return "".join(parts)


def _curve_pixels(line: ChartLine, x_of: Callable[[float], float], y_of: Callable[[float], float | None]
                  ) -> list[list[tuple[float, float]]]:
    """A series' runs of drawable points, in pixels (a lone point is a run of one)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, value in line.points:
        y = y_of(value) if value is not None and finite(value) is not None else None
        if y is None:
            runs.append([])
        else:
            runs[-1].append((x_of(x), y))
    return [run for run in runs if run]


def _line_paths(line: ChartLine, x_of: Callable[[float], float], y_of: Callable[[float], float | None], *,
                dots: bool = False) -> list[str]:
    """One series as SVG: a path per run of points, a dot per lone point (every point with `dots`)."""
    runs = _curve_pixels(line, x_of, y_of)
    commands = ["M" + " L".join(f"{_f(x)} {_f(y)}" for x, y in run) for run in runs if len(run) > 1]
    singles = [point for run in runs if len(run) == 1 or dots for point in run]
    parts = []
    style = f' {_DASH}' if line.dashed else ""
    if commands:
        parts.append(f'<path d="{" ".join(commands)}" fill="none" stroke="{line.colour}" stroke-width="1.8" '
                     f'stroke-linejoin="round"{style}><title>{_e(line.name)}</title></path>')
    opacity = ' fill-opacity="0.55"' if line.dashed else ""
    parts += [f'<circle cx="{_f(x)}" cy="{_f(y)}" r="2.5" fill="{line.colour}"{opacity}/>' for x, y in singles]
    return parts


def chart_frame(title: str, y_ticks: Sequence[tuple[float, str]], x_ticks: Sequence[tuple[float, str]], *,
                x_unit: str, y_unit: str, scale: str) -> list[str]:
    """The <svg> opening, its title, grid lines and both axes; ticks are (pixel position, label)."""
    left, top, width, height = PLOT
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
             f'data-plot="{left} {top} {width} {height}" data-scale="{scale}" '
             f'font-family="system-ui, sans-serif" font-size="11"><title>{_e(title)}</title>']
    for y, label in y_ticks:
        parts.append(f'<line x1="{left}" y1="{_f(y)}" x2="{left + width}" y2="{_f(y)}" stroke="#d0d7de" '
                     f'stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{_f(y + 4)}" text-anchor="end">{_e(label)}</text>')
    for x, label in x_ticks:
        parts.append(f'<line x1="{_f(x)}" y1="{top + height}" x2="{_f(x)}" y2="{top + height + 4}" '
                     f'stroke="#57606a"/>')
        parts.append(f'<text x="{_f(x)}" y="{top + height + 16}" text-anchor="middle">{_e(label)}</text>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + height}" stroke="#57606a"/>')
    parts.append(f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}" '
                 f'stroke="#57606a"/>')
    parts.append(f'<text x="{left + width / 2:.1f}" y="{_HEIGHT - 6}" text-anchor="middle">{_e(x_unit)}</text>')
    parts.append(f'<text transform="translate(16 {top + height / 2:.1f}) rotate(-90)" text-anchor="middle">'
                 f"{_e(y_unit)}</text>")
    return parts


class _YScale:
    """Data values to pixels, linear from 0 or logarithmic, scaled to the data (thresholds only when near)."""

    def __init__(self, values: Sequence[float], thresholds: Sequence[float], *, log: bool) -> None:
        _, top, _, height = PLOT
        self.top, self.height, self.log = top, height, log
        if log:
            positive = [v for v in values if v > 0]
            low, high = (min(positive), max(positive)) if positive else (1.0, 10.0)
            near = [t for t in thresholds if low / _LOG_REACH <= t <= high * _LOG_REACH]
            ticks = log_ticks(min([low, *near]), max([high, *near]))
            self.low, self.high = ticks[0], ticks[-1]
        else:
            high = max(values, default=0.0)
            near = [t for t in thresholds if high <= 0 or t <= high * _LINEAR_REACH]
            ticks = nice_ticks(max([high * _HEADROOM, *near], default=1.0))
            self.low, self.high = 0.0, ticks[-1]
        self.ticks = ticks

    def __call__(self, value: float) -> float | None:
        """The pixel row of `value`, None where the scale cannot show it (zero on a log scale)."""
        if self.log:
            if value <= 0:
                return None
            share = (math.log10(value) - math.log10(self.low)) / (math.log10(self.high) - math.log10(self.low))
        else:
            share = value / self.high
        return self.top + self.height - share * self.height

    def shows(self, value: float) -> bool:
        return self.low * (1 - 1e-9) <= value <= self.high * (1 + 1e-9)


def _up_arrow(x: float, y: float, colour: str, *, down: bool = False) -> str:
    tip, base = (y + 7, y) if down else (y, y + 7)
    return (f'<polygon points="{_f(x - 4)},{_f(base)} {_f(x + 4)},{_f(base)} {_f(x)},{_f(tip)}" '
            f'fill="{colour}"/>')


def line_chart_svg(title: str, lines: Sequence[ChartLine], *, x_range: tuple[float, float],
                   x_ticks: Sequence[tuple[float, str]], x_unit: str, y_unit: str,
                   thresholds: Sequence[ChartThreshold] = (), log: bool = False, dots: bool = False,
                   markers: Sequence[ChartMarker] = ()) -> str:
    """A self-contained SVG line chart, its y axis scaled to the data: a threshold far off it is named at the edge,
    not drawn, so the lines never lie flat. `dots` marks every point; `markers` are vertical lines. Labels inside
    the plot are placed clear of every curve, line and other label."""
    left, top, width, height = PLOT
    values = [y for line in lines for _, y in line.points if y is not None and finite(y) is not None]
    scale = _YScale(values, [t.value for t in thresholds], log=log)
    x_of = _x_scale(x_range)
    y_ticks = [(y, tick_label(t)) for t in scale.ticks if (y := scale(t)) is not None]
    parts = chart_frame(title, y_ticks, [(x_of(x), label) for x, label in x_ticks], x_unit=x_unit,
                        y_unit=y_unit + (" (log scale)" if log else ""), scale="log" if log else "linear")
    right_edge: float = left + width  # markers of thresholds above the scale go right to left in the top margin
    below_count = 0
    labels = _Labels([run for line in lines for run in _curve_pixels(line, x_of, scale)])
    marker_lines = []
    for marker in markers:
        x = x_of(marker.value)
        if not left - 0.5 <= x <= left + width + 0.5:
            continue
        marker_lines.append((marker, x, labels.line((x, top), (x, top + height))))
        parts.append(f'<line x1="{_f(x)}" y1="{top}" x2="{_f(x)}" y2="{top + height}" stroke="{marker.colour}" '
                     f'stroke-dasharray="3 3" stroke-width="1.5" class="marker"/>')
    for threshold in thresholds:
        y = scale(threshold.value) if scale.shows(threshold.value) else None
        if y is None:
            below, value = threshold.value < scale.low, f"{threshold.value:g} {threshold.unit}".strip()
            text = f"{threshold.short or threshold.label} {'below' if below else 'above'} ({value})"
            if below:
                text_x, text_y = right_edge - 16, top + height - 8 - 14 * below_count
                below_count += 1
                parts.append(_up_arrow(text_x + 8, text_y - 8, threshold.colour, down=True))
            else:
                text_x, text_y = right_edge - 16, 18
                parts.append(_up_arrow(text_x + 8, text_y - 9, threshold.colour))
                right_edge -= 16 + 6.5 * len(text) + 14
            parts.append(f'<text x="{_f(text_x)}" y="{_f(text_y)}" text-anchor="end" fill="{threshold.colour}" '
                         f'class="off-scale">{_e(text)}</text>')
            continue
        parts.append(f'<line x1="{left}" y1="{_f(y)}" x2="{left + width}" y2="{_f(y)}" '
                     f'stroke="{threshold.colour}" stroke-dasharray="6 4" stroke-width="1.5"/>')
        own = labels.line((left, y), (left + width, y))
        # Along its line from the right end, above it then below it: the first place clear of everything.
        candidates = [(left + width - 4 - step * 40.0, row, "end") for row in (y - 4, y + 13)
                      for step in range(int(width // 40))]
        label_x, label_y, _, box = labels.place(threshold.label, candidates, ignore=own)
        parts.append(f'<text x="{_f(label_x)}" y="{_f(label_y)}" text-anchor="end" fill="{threshold.colour}" '
                     f'stroke="#fff" stroke-width="3" paint-order="stroke" class="label" {_box_attr(box)}>'
                     f"{_e(threshold.label)}</text>")
    for marker, x, own in marker_lines:
        # Beside its line, right then left, from the top of the plot down.
        rows = [top + 12 + _LINE_H * i for i in range(int((height - 14) // _LINE_H))]
        candidates = [(x + dx, row, anchor) for row in rows for dx, anchor in ((5, "start"), (-5, "end"))]
        label_x, label_y, anchor, box = labels.place(marker.label, candidates, ignore=own)
        parts.append(f'<text x="{_f(label_x)}" y="{_f(label_y)}" text-anchor="{anchor}" fill="{marker.colour}" '
                     f'stroke="#fff" stroke-width="3" paint-order="stroke" font-weight="600" class="label" '
                     f'{_box_attr(box)}>{_e(marker.label)}</text>')
    for line in sorted(lines, key=lambda line: not line.dashed):  # dashed (earlier) lines first: behind
        parts += _line_paths(line, x_of, scale, dots=dots)
    parts.append(legend_svg([(line.name, line.colour) for line in lines],
                            [line.name for line in lines if line.dashed]))
    parts.append("</svg>")
    return "".join(parts)


def scale_toggle(name: str, linear_svg: str, log_svg: str, *, log_first: bool = False) -> str:
    """Two renderings of one chart and a linear/log switch between them (the log one shown first when
    `log_first`): radio buttons and CSS, no script."""
    name = re.sub(r"[^a-z0-9-]", "-", name.lower())
    linear, log = ("", " checked") if log_first else (" checked", "")
    return (f'<div class="scales"><input type="radio" name="{name}" id="{name}-linear" class="linear"{linear}>'
            f'<label for="{name}-linear">linear</label>'
            f'<input type="radio" name="{name}" id="{name}-log" class="log"{log}><label for="{name}-log">log</label>'
            f'<div class="chart scale-linear">{linear_svg}</div><div class="chart scale-log">{log_svg}</div></div>')


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar from `x_from` to `x_to` of height `value`, its share `part` (0..1) drawn in the second colour at its
    foot; `tip` is its tooltip."""

    x_from: float
    x_to: float
    value: float
    part: float
    tip: str


def bar_chart_svg(title: str, bars: Sequence[Bar], *, x_range: tuple[float, float],
                  x_ticks: Sequence[tuple[float, str]], x_unit: str, y_unit: str,
                  colours: tuple[tuple[str, str], tuple[str, str]], overlay: Sequence[ChartLine] = ()) -> str:
    """A self-contained SVG bar chart scaled to the highest bar (or overlay point); `colours` names the bars and
    their parts; `overlay` lines are drawn over the bars."""
    _, top, _, height = PLOT
    (_, whole_colour), (_, part_colour) = colours
    over = [y for line in overlay for _, y in line.points if y is not None and finite(y) is not None]
    y_ticks = nice_ticks(max([*(bar.value for bar in bars if finite(bar.value) is not None), *over], default=1.0))
    y_max = y_ticks[-1]
    bottom = top + height
    x_of = _x_scale(x_range)
    parts = chart_frame(title, [(bottom - tick / y_max * height, tick_label(tick)) for tick in y_ticks],
                        [(x_of(tick), label) for tick, label in x_ticks], x_unit=x_unit, y_unit=y_unit,
                        scale="linear")
    for bar in bars:
        value = finite(bar.value) or 0.0
        if value <= 0:
            continue
        slot = x_of(bar.x_to) - x_of(bar.x_from)
        bar_width = max(slot * 0.85 if slot > 4 else slot, 0.8)  # an even gap only where bars are wide
        bar_height = value / y_max * height
        part_height = bar_height * min(max(bar.part, 0.0), 1.0)
        x0 = x_of(bar.x_from)
        parts.append(f'<g><title>{_e(bar.tip)}</title>'
                     f'<rect x="{_f(x0)}" y="{_f(bottom - bar_height)}" width="{_f(bar_width)}" '
                     f'height="{_f(bar_height - part_height)}" fill="{whole_colour}"/>')
        if part_height > 0:
            parts.append(f'<rect x="{_f(x0)}" y="{_f(bottom - part_height)}" width="{_f(bar_width)}" '
                         f'height="{_f(max(part_height, 1.0))}" fill="{part_colour}"/>')
        parts.append("</g>")
    for line in overlay:
        parts += _line_paths(line, x_of, lambda value: bottom - value / y_max * height)
    parts.append(legend_svg([*colours, *((line.name, line.colour) for line in overlay)],
                            [line.name for line in overlay if line.dashed]))
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class TimelineMark:
    """One event on a timeline chart: its time, its row (0 at the top), its colour, its tooltip and a short label
    drawn beside it."""

    at: float
    row: int
    colour: str
    tip: str
    label: str = ""


def timeline_svg(title: str, spans: Sequence[tuple[str, float, float]], marks: Sequence[TimelineMark], rows: int, *,
                 legend: Sequence[tuple[str, str]] = ()) -> str:
    """A self-contained SVG timeline: `spans` as alternating bands across the plot, named at their top when the
    name fits, and each mark as a dot at its time on its row (one row per subject, `rows` in all)."""
    _, top, _, height = PLOT
    end = max([*(ended for _, _, ended in spans), *(mark.at for mark in marks), 1e-9])
    x_max, x_ticks = axis_ticks(end)
    x_of = _x_scale((0.0, x_max))
    parts = chart_frame(title, [], [(x_of(tick), label) for tick, label in x_ticks], x_unit="time since the run "
                        "started (s)", y_unit="", scale="linear")
    for index, (name, began, ended) in enumerate(spans):
        x0, x1 = x_of(began), x_of(ended)
        parts.append(f'<rect x="{_f(x0)}" y="{top}" width="{_f(max(x1 - x0, 0.5))}" height="{height}" '
                     f'fill="{"#f6f8fa" if index % 2 == 0 else "#eaeef2"}" class="span"><title>{_e(name)}: '
                     f"{began:,.3f}-{ended:,.3f} s</title></rect>")
        if _CHAR_W * len(name) + 8 <= x1 - x0:
            parts.append(f'<text x="{_f(x0 + 4)}" y="{top + 12}" fill="#57606a">{_e(name)}</text>')
    row_height = (height - 20) / max(rows, 1)
    for mark in marks:
        y = top + 20 + row_height * (mark.row + 0.5)
        parts.append(f'<circle cx="{_f(x_of(mark.at))}" cy="{_f(y)}" r="4" fill="{mark.colour}" stroke="#fff" '
                     f'stroke-width="1"><title>{_e(mark.tip)}</title></circle>')
        if mark.label:
            parts.append(f'<text x="{_f(x_of(mark.at) + 7)}" y="{_f(y + 4)}" fill="#1f2328" stroke="#fff" '
                         f'stroke-width="3" paint-order="stroke">{_e(mark.label)}</text>')
    parts.append(legend_svg(legend))
    parts.append("</svg>")
    return "".join(parts)
