"""Every HTML report in real headless Chromium: no console error, charts with non-empty marks inside their plot
area, no glyph the fonts may lack, and screenshots a person can look at.

Screenshots go to $COUPON_HARNESS_SCREENSHOTS when set, else to a pytest temporary folder; the path is printed
(`pytest -s` shows it). Without Chromium the test installs Debian's `chromium` only as root with CI=true, else
skips with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.reporting.capacity_builders import generator_limited_result, knee_result
from tests.reporting.load_builders import failing_result, load_result, ramp_compared_result
from tests.reporting.reporting_builders import build, faulted
from tests.reporting.test_diff_causes import off_by_one_result
from tests.reporting.test_findings_timeline import timed_result
from tests.reporting.test_index import build_run_tree
from tests.reporting.test_snapshots import baseline_result, diff_result

from coupon_harness.reporting.capacity.document import capacity_document
from coupon_harness.reporting.contract.document import write_contract_reports
from coupon_harness.reporting.diff.document import write_diff_reports
from coupon_harness.reporting.load.document import load_document
from coupon_harness.reporting.render.html import render_html
from coupon_harness.reporting.writer import atomic_write_text as _write
from coupon_harness.results.load import LoadRunResult, SloResult, TimelinePoint

_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
          "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio")
_TIMEOUT_S = 30.0
#: What Chromium logs for a page's console messages, uncaught errors and resources that failed to load.
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\))?\]|Uncaught|Failed to load resource|Not allowed to load local resource")
#: Symbols and emoji (arrows, dingbats, pictographs, variation selectors): glyphs common fonts may lack.
_RISKY = re.compile("[\u2190-\u2bff\u2e00-\u2e7f\ufe00-\ufe0f\U0001f000-\U0001faff]")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true" and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=False, capture_output=True, timeout=300, env=env)
        done = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"], check=False,
                              capture_output=True, text=True, timeout=600, env=env)
        found = shutil.which("chromium")
        if found:
            return found
        pytest.skip(f"chromium is not installed and apt-get install failed: {done.stderr.strip()[-300:]}")
    pytest.skip("chromium is not installed (Debian: apt-get install chromium; the test installs it itself only "
                "as root with CI=true)")


def _screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("COUPON_HARNESS_SCREENSHOTS")
    folder = Path(given) if given else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()


@dataclass
class _Chart:
    title: str
    plot: tuple[float, float, float, float]
    scale: str
    paths: list[list[tuple[float, float]]] = field(default_factory=list)
    dots: list[tuple[float, float]] = field(default_factory=list)
    bars: list[tuple[float, float, float, float]] = field(default_factory=list)


class _Charts(HTMLParser):
    """The charts (svg with data-plot) of a DOM as Chromium dumps it: each one's series paths, dots and bars."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[_Chart] = []
        self.depth = 0  # element depth inside a chart's svg (1: the svg), 0 outside
        self.group = 0  # depth of the <g> (a bar and its tip) we are in, 0 if none
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "svg" and "data-plot" in attr:
            x, y, w, h = (float(v) for v in attr["data-plot"].split())
            self.charts.append(_Chart("", (x, y, w, h), attr.get("data-scale", "")))
            self.depth = 1
            return
        if not self.depth:
            return
        self.depth += 1
        chart = self.charts[-1]
        if tag == "title" and self.depth == 2:
            self.in_title = True
        elif tag == "g":
            self.group = self.depth
        elif tag == "path":
            numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", attr.get("d", ""))]
            chart.paths.append(list(zip(numbers[0::2], numbers[1::2], strict=False)))
        elif tag == "circle":
            chart.dots.append((float(attr["cx"]), float(attr["cy"])))
        elif tag == "rect" and self.group:
            chart.bars.append((float(attr["x"]), float(attr["y"]), float(attr["width"]), float(attr["height"])))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.depth:
            return
        if tag == "title":
            self.in_title = False
        if tag == "g" and self.group == self.depth:
            self.group = 0
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.in_title and not self.charts[-1].title:
            self.charts[-1].title = data.strip()


@dataclass
class _Page:
    name: str
    html: Path
    charts: int  # how many charts the page must have
    height: int = 2200
    #: What the DOM Chromium builds must hold (the new elements of issue 18: earlier runs, marks, buttons).
    needles: tuple[str, ...] = ()


def _inside(chart: _Chart, x: float, y: float) -> bool:
    left, top, width, height = chart.plot
    return left - 0.5 <= x <= left + width + 0.5 and top - 0.5 <= y <= top + height + 0.5


def _check_charts(page: _Page, dom: str) -> list[str]:
    parser = _Charts()
    parser.feed(dom)
    problems = []
    if len(parser.charts) != page.charts:
        problems.append(f"{page.name}: {len(parser.charts)} charts, expected {page.charts}")
    for chart in parser.charts:
        where = f"{page.name}: chart {chart.title!r} ({chart.scale})"
        points = [p for path in chart.paths for p in path] + chart.dots
        corners = [(x + dx, y + dy) for x, y, w, h in chart.bars for dx in (0, w) for dy in (0, h)]
        if chart.title.startswith("Findings timeline"):
            if not chart.dots:
                problems.append(f"{where}: no finding on the timeline")
        elif chart.title.startswith("Throughput per interval"):
            if not chart.bars or not any(h > 0 for *_, h in chart.bars):
                problems.append(f"{where}: no bar")
        elif not any(len(path) >= 2 for path in chart.paths):
            problems.append(f"{where}: no non-empty path")
        outside = [p for p in points + corners if not _inside(chart, *p)]
        if outside:
            problems.append(f"{where}: {len(outside)} points outside the plot area, e.g. {outside[:3]}")
        if chart.title.startswith("Latency") and chart.paths:
            ys = [y for _, y in points]
            if max(ys) - min(ys) < chart.plot[3] * 0.2:
                problems.append(f"{where}: the lines span {max(ys) - min(ys):.1f} px of {chart.plot[3]}: flat")
    return problems


def _fast_target() -> LoadRunResult:
    """p95 about 5 ms against an SLO of 500 ms: the chart must not flatten the lines to the axis."""
    points = [TimelinePoint(float(i + 1), 900, 0, 900.0, 1.8 + (i % 5) * 0.1, 4.6 + (i % 7) * 0.15,
                            8.0 + (i % 3)) for i in range(40)]
    return load_result(timeline=points, duration_s=40.0, requests=36000,
                       latency_ms={"min": 0.9, "p50": 2.0, "p90": 4.2, "p95": 5.1, "p99": 9.8, "max": 30.0},
                       slos=[SloResult("p95", 500.0, "ms", 5.1, True)])


def _long_tails() -> LoadRunResult:
    """A p99 a hundred times the p50 now and then: the log scale opens first."""
    points = [TimelinePoint(float(i + 1), 300, 1 if i % 9 == 0 else 0, 300.0, 3.0 + i % 4, 12.0 + i % 6,
                            400.0 if i % 10 == 3 else 25.0) for i in range(60)]
    return load_result(timeline=points, duration_s=60.0, requests=18000,
                       slos=[SloResult("p95", 300.0, "ms", 15.0, True), SloResult("p99", 250.0, "ms", 400.0, False)])


def _pages(folder: Path) -> list[_Page]:
    write_contract_reports(faulted(), folder / "contract")
    write_contract_reports(build(), folder / "contract-passed")
    write_contract_reports(baseline_result(), folder / "contract-baseline")
    write_contract_reports(timed_result(), folder / "contract-timeline")
    write_diff_reports(diff_result(), folder / "diff")
    write_diff_reports(off_by_one_result(), folder / "diff-grouped")
    _write(folder / "load-failing" / "report.html", render_html(load_document(failing_result())))
    _write(folder / "load-fast" / "report.html", render_html(load_document(_fast_target())))
    _write(folder / "load-tails" / "report.html", render_html(load_document(_long_tails())))
    _write(folder / "load-ramp-compared" / "report.html", render_html(load_document(ramp_compared_result())))
    _write(folder / "capacity" / "report.html", render_html(capacity_document(knee_result())))
    _write(folder / "capacity-generator" / "report.html", render_html(capacity_document(generator_limited_result())))
    run_dir = build_run_tree(folder / "reports")
    copy = ('<button type="button" class="copy-button" title="Copy to the clipboard">copy</button>',)
    return [_Page("contract", folder / "contract" / "report.html", 0, 1600, copy),
            _Page("contract-passed", folder / "contract-passed" / "report.html", 0, 900, copy),
            _Page("contract-baseline", folder / "contract-baseline" / "report.html", 0, 1800, copy),
            _Page("contract-timeline", folder / "contract-timeline" / "report.html", 1, 5200,
                  ('<section class="top" id="timeline"><h2>Findings timeline</h2>', *copy)),
            _Page("diff", folder / "diff" / "report.html", 0, 1800, copy),
            _Page("diff-grouped", folder / "diff-grouped" / "report.html", 0, 1400,
                  ("result.discountValue (against = base +1) in series 101",)),
            _Page("load-failing", folder / "load-failing" / "report.html", 3),
            _Page("load-fast", folder / "load-fast" / "report.html", 3),
            _Page("load-tails", folder / "load-tails" / "report.html", 3),
            # Per-step figures, sample requests (curl) and the comparison section.
            _Page("load-ramp-compared", folder / "load-ramp-compared" / "report.html", 3, 4400,
                  ("<title>earlier p95</title>", "<title>earlier run requests/s</title>",
                   '<span class="badge fail">REGRESSION</span>')),
            # The capacity curves (latency linear and log, answered against offered) and the step table.
            _Page("capacity", folder / "capacity" / "report.html", 3, 1700,
                  (">capacity 200 req/s</text>", ">breaking 212 req/s</text>")),
            _Page("capacity-generator", folder / "capacity-generator" / "report.html", 3, 1500,
                  (">generator limit 3,972 req/s</text>",)),
            _Page("index", run_dir / "index.html", 2, 1800)]


def _open_all(chromium: str, pages: list[tuple[str, Path, Path | None, int]], work: Path) -> dict[str, tuple[
        str, str]]:
    """Open every page at once (one browser each); name -> (dumped DOM, browser log). However it ends (a browser
    that does not finish fails the test), every browser is killed and every file closed: nothing reaches the next
    test."""
    running = {}
    try:
        for name, html, screenshot, height in pages:
            profile = work / f"profile-{name}"
            command = [chromium, *_FLAGS, f"--user-data-dir={profile}", f"--window-size=1280,{height}", "--dump-dom"]
            if screenshot is not None:
                command.append(f"--screenshot={screenshot}")
            out, err = (work / f"{name}.dom").open("wb"), (work / f"{name}.log").open("wb")
            running[name] = (subprocess.Popen([*command, html.resolve().as_uri()], stdout=out, stderr=err), out, err)
        deadline = time.monotonic() + _TIMEOUT_S
        results = {}
        for name, (process, _, _) in running.items():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 1.0))
            except subprocess.TimeoutExpired:
                pytest.fail(f"chromium did not finish {name} within {_TIMEOUT_S:.0f} s")
            results[name] = ((work / f"{name}.dom").read_text(encoding="utf-8", errors="replace"),
                             (work / f"{name}.log").read_text(encoding="utf-8", errors="replace"))
        return results
    finally:
        for process, out, err in running.values():
            if process.poll() is None:
                process.kill()
                process.wait()
            out.close()
            err.close()


def test_reports_in_headless_chromium(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    chromium = _chromium()
    shots = _screenshot_dir(tmp_path_factory)
    pages = _pages(tmp_path)
    control = tmp_path / "control.html"  # proves the log scan sees a console error at all
    control.write_text('<!DOCTYPE html><html><body><script>throw new Error("control error")</script></body></html>',
                       encoding="utf-8")
    runs = [(page.name, page.html, shots / f"{page.name}.png", page.height) for page in pages]
    # The contract page as a browser without JavaScript draws it: a policy that runs no page script (Chromium's
    # own switch, --blink-settings=scriptEnabled=false, also stops --dump-dom). Every command is still there, and
    # no copy button.
    contract = pages[0]
    no_js = tmp_path / "contract-no-js.html"
    no_js.write_text(contract.html.read_text(encoding="utf-8").replace(
        "<head>", "<head><meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'none'\">", 1),
        encoding="utf-8")
    runs.append(("contract-no-js", no_js, shots / "contract-no-js.png", contract.height))
    results = _open_all(chromium, [*runs, ("control", control, None, 600)], tmp_path)
    problems = []
    assert _CONSOLE.search(results["control"][1]), "the browser log shows no console error of the control page: " \
        f"the check would see none either\n{results['control'][1][-2000:]}"
    for page in pages:
        dom, log = results[page.name]
        if "<body" not in dom:
            problems.append(f"{page.name}: chromium dumped no DOM; log:\n{log[-1500:]}")
            continue
        problems += [f"{page.name}: console: {line.strip()}" for line in log.splitlines() if _CONSOLE.search(line)]
        problems += _check_charts(page, dom)
        problems += [f"{page.name}: the DOM lacks {needle!r}" for needle in page.needles if needle not in dom]
        copyable = len(re.findall(r'<(?:pre|code) class="copy">', dom))
        buttons = dom.count('class="copy-button"')
        if buttons != copyable:
            problems.append(f"{page.name}: {buttons} copy buttons for {copyable} commands to copy")
    no_js, _ = results["contract-no-js"]
    if 'class="copy-button"' in no_js or 'class="copy"' not in no_js or "curl -X POST" not in no_js:
        problems.append("contract-no-js: without JavaScript the page must hold every command and no copy button")
        risky = sorted(set(_RISKY.findall(dom)))
        if risky:
            problems.append(f"{page.name}: glyphs fonts may lack: {' '.join(f'U+{ord(c):04X}' for c in risky)}")
        shot = shots / f"{page.name}.png"
        if not shot.is_file() or shot.stat().st_size < 1000:
            problems.append(f"{page.name}: no screenshot at {shot}")
    print(f"\nscreenshots of the HTML reports: {shots}", file=sys.stderr)
    print(f"\nscreenshots of the HTML reports: {shots}")
    assert not problems, "\n".join(problems)


def test_the_ramp_page_holds_what_the_browser_test_must_see(tmp_path: Path) -> None:
    """The page the browser opens for steps, samples and the comparison holds them (else the test proves nothing)."""
    _write(tmp_path / "report.html", render_html(load_document(ramp_compared_result())))
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for needle in ("<h2>Steps (ramp)</h2>", "Compared with an earlier run",
                   "curl -X POST -u &quot;$COUPON_HARNESS_USER&quot; ", "decided across answers"):
        assert needle in page, needle


def test_chart_check_sees_a_flat_or_escaped_line() -> None:
    """The DOM check itself: a line outside the plot area, and one lying flat, are problems."""
    page = _Page("probe", Path("x"), 1)
    svg = ('<svg data-plot="70 30 774 208" data-scale="linear"><title>Latency</title>'
           '<path d="M70 100 L900 100"><title>p50</title></path></svg>')
    problems = _check_charts(page, f"<html><body>{svg}</body></html>")
    assert any("outside the plot area" in p for p in problems), problems
    assert any("flat" in p for p in problems), problems
