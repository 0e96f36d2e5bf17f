"""Load run reports: verdicts, downsampling, summary.json, what report.md and report.html must hold whatever their
look (escaping, self-contained pages, well-formed charts), the console's colours and the writer. How each report
reads is pinned by the snapshots (test_snapshots_load.py)."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.reporting.load_builders import (
    SCRIPT_EXAMPLE,
    failing_result,
    interrupted_result,
    load_result,
    long_result,
    timeline,
)

from coupon_harness.reporting.charts import nice_ticks
from coupon_harness.reporting.load import common
from coupon_harness.reporting.load.document import (
    TIMELINE_ROWS,
    load_document,
    render_load_table,
    sparkline,
    write_load_reports,
)
from coupon_harness.reporting.load.summary_json import (
    LOAD_SCHEMA,
    load_summary_dict,
    write_load_summary_json,
)
from coupon_harness.reporting.render.html import COPY_SCRIPT, render_html
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.reporting.stored import read_stored
from coupon_harness.results.load import LoadRunResult, SloResult, TimelinePoint

_SVG = "{http://www.w3.org/2000/svg}"
_VOID = {"meta", "br", "hr", "img", "input", "link", "line", "rect", "circle"}


def _svgs(document: str) -> list[ET.Element]:
    """The charts on their linear scale (the log-scale renderings are tested in test_charts.py)."""
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", document, re.DOTALL)
            if 'data-scale="log"' not in svg]


def _timeline_rows(markdown: str) -> list[str]:
    section = markdown.split("### Timeline", 1)[1].split("###", 1)[0]
    return [line for line in section.splitlines() if re.match(r"^\| [\d.]+(-[\d.]+)? \|", line)]


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in _VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()


# --- verdict and causes -------------------------------------------------------------------------------------


def test_verdicts() -> None:
    assert common.verdict(load_result()) == "SLOs met, contract held"
    assert common.verdict(load_result(slos=[])) == "contract held (no SLO set)"
    assert common.verdict(failing_result()) == (
        "SLO p95<=300ms breached (measured 812.4 ms); 15 contract violations (unique-codes 12, entity-order 3)")
    assert common.verdict(interrupted_result()) == (
        "SLO p95<=300ms breached (no data) (interrupted: partial results)")


def test_no_verdict_without_evidence() -> None:
    """A run none of whose requests completed never holds, even with no SLO and no violation counted; a run with
    one answer among its failures is judged on its figures as before."""
    silent = load_result(requests=7, status_counts={"transport": 7}, violation_counts={}, slos=[],
                         request_timeout_s=3.0)
    line = "no answer completed within --request-timeout 3 s (7 requests sent)"
    assert silent.answered == 0 and silent.no_answer == line and not silent.holds
    assert common.causes(silent) == [line] and common.verdict(silent) == line
    one = load_result(requests=7, status_counts={"transport": 6, "200": 1}, violation_counts={}, slos=[])
    assert one.answered == 1 and one.no_answer is None and one.holds
    # An older summary (no request_timeout_s) and a run interrupted before sending anything.
    assert load_result(requests=2, status_counts={"transport": 2}).no_answer == (
        "no answer completed (2 requests sent)")
    assert interrupted_result().no_answer is None and not interrupted_result().holds


def test_downsample_merges_to_at_most_max_rows() -> None:
    points = timeline(500, interval=2.0, errors_every=50, gap_at=3)
    rows = common.downsample(points, 20)
    assert len(rows) == 20
    assert all(row.intervals == 25 for row in rows)
    assert sum(row.requests for row in rows) == sum(point.requests for point in points)
    assert sum(row.errors for row in rows) == 50
    assert (rows[0].t_from_s, rows[0].t_to_s, rows[-1].t_to_s) == (0.0, 50.0, 1000.0)
    # Latency of the worst interval, gaps ignored.
    assert rows[0].p99_ms == max(p.p99_ms for p in points[:25] if p.p99_ms is not None)
    assert common.downsample(points[:7], 20) == common.downsample(points[:7], 7)
    assert len(common.downsample(points[:7], 20)) == 7
    assert common.downsample([], 20) == []


# --- summary.json -------------------------------------------------------------------------------------------


def test_summary_json_of_a_failing_run(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    write_load_summary_json(failing_result(), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert (data["schema"], data["schema_version"]) == (LOAD_SCHEMA, 1) == ("coupon-harness/load-summary", 1)
    assert (data["holds"], data["slos_met"], data["generator_saturated"]) == (False, False, True)
    assert data["failure_count_ratio"] == 0.05
    assert data["violations"] == 15
    assert data["violation_examples"]["entity-order"] == SCRIPT_EXAMPLE
    assert data["causes"][0] == "SLO p95<=300ms breached (measured 812.4 ms)"
    assert data["slos"][0] == {"key": "p95", "label": "p95<=300ms", "figure": "p95 latency", "threshold": 300.0,
                               "unit": "ms",
                               "measured": 812.4, "passed": False}
    # Rounded: microseconds for times, millionths for ratios.
    assert data["latency_ms"]["mean"] == 55.123
    assert data["error_rate"] == 0.001667
    assert data["failure_ratio"] == 0.000439
    assert data["slos"][1]["measured"] == 0.001667
    point = data["timeline"][0]
    assert set(point) == {"t_s", "requests", "errors", "rps", "p50_ms", "p95_ms", "p99_ms"}
    assert point["p50_ms"] == round(point["p50_ms"], 3)
    assert data["timeline"][10] == {"t_s": 11.0, "requests": 0, "errors": 0, "rps": 0.0, "p50_ms": None,
                                    "p95_ms": None, "p99_ms": None}


def test_summary_json_has_no_nan_and_reads_back(tmp_path: Path) -> None:
    result = load_result(latency_ms={"p50": float("nan"), "p95": 12.3456789},
                         slos=[SloResult("p95", 300.0, "ms", float("inf"), False)])
    path = tmp_path / "summary.json"
    write_load_summary_json(result, path)
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert data["latency_ms"] == {"p50": None, "p95": 12.346} and data["slos"][0]["measured"] is None
    second = result.timeline[1]  # p99 250 * (1 + sin(0.2) / 2) + 1 has more than three decimals
    assert second.p99_ms is not None and data["timeline"][1]["p99_ms"] == round(second.p99_ms, 3) != second.p99_ms
    back = read_stored(path, LoadRunResult)  # the `result` member: unrounded, non-finite figures kept
    assert back.latency_ms["p95"] == 12.3456789 and math.isnan(back.latency_ms["p50"])
    assert back.slos[0].measured == float("inf") and back.timeline == result.timeline


def test_summary_json_refuses_another_schema(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"schema": "coupon-harness/contract-summary", "schema_version": 1}), encoding="utf-8")
    with pytest.raises(ValueError, match="older coupon-harness"):
        read_stored(path, LoadRunResult)


def test_summary_json_of_an_interrupted_run() -> None:
    data = load_summary_dict(interrupted_result())
    assert (data["interrupted"], data["stopped_reason"]) == (True, "--max-coupons reached (10000)")
    assert (data["timeline"], data["latency_ms"], data["failure_count_ratio"]) == ([], {}, 0.0)
    json.dumps(data, allow_nan=False)


# --- report.md ----------------------------------------------------------------------------------------------








def test_markdown_downsamples_a_long_timeline() -> None:
    text = render_markdown(load_document(long_result(500)))
    rows = _timeline_rows(text)
    assert len(rows) == TIMELINE_ROWS
    assert rows[0].startswith("| 0-50 | 5,000 | 100.0 | **5** |")
    assert rows[-1].startswith("| 950-1000 | 5,000 | 100.0 | 0 |")
    assert "_500 intervals of 2 s, merged 25 to a row" in text
    assert len(text.splitlines()) < 120






def test_markdown_escapes_free_text() -> None:
    text = render_markdown(load_document(load_result(notes=["<b>bold</b> | pipe"], stopped_reason="*stop*")))
    assert "- \\<b\\>bold\\</b\\> \\| pipe" in text
    assert "\\*stop\\*" in text


def test_sparkline() -> None:
    assert sparkline([0.0, 50.0, 100.0]) == "▁▅█"
    assert sparkline([0.0, 0.0]) == "▁▁"
    assert sparkline([]) == ""


# --- report.html --------------------------------------------------------------------------------------------


def test_html_is_balanced_escaped_and_self_contained() -> None:
    document = render_html(load_document(failing_result()))
    parser = _Balance()
    parser.feed(document)
    parser.close()
    assert parser.open == []
    assert "<script" not in document.replace(COPY_SCRIPT, "")  # the page's own copy script aside
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in document
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", document)
    assert "<style>" in document and "@import" not in document




def test_html_charts_are_well_formed_svg() -> None:
    document = render_html(load_document(failing_result()))
    latency, throughput = _svgs(document)
    assert latency.tag == throughput.tag == f"{_SVG}svg"
    paths = latency.findall(f"{_SVG}path")
    assert [path.findtext(f"{_SVG}title") for path in paths] == ["p50", "p95", "p99"]
    # The interval without answers (index 10) splits each line in two.
    assert all(path.attrib["d"].count("M") == 2 for path in paths)
    labels = [text.text for text in latency.iter(f"{_SVG}text")]
    assert "ms" in labels and "time (s)" in labels and "SLO p95<=300ms" in labels
    assert {"0", "100", "200", "300", "400"} <= set(labels)
    bars = throughput.findall(f".//{_SVG}rect")
    errors = [bar for bar in bars if bar.attrib["fill"] == "#cf222e" and bar.attrib.get("height") != "12"]
    assert len(errors) == 8  # intervals 0, 4, ..., 28 erred
    tips = [g.findtext(f"{_SVG}title") for g in throughput.findall(f"{_SVG}g")]
    assert "t 1 s: 200.0 req/s, 200 requests, 5 errors" in tips
    assert len(tips) == 29  # the empty interval draws no bar


def test_html_of_an_interrupted_run_has_no_chart() -> None:
    document = render_html(load_document(interrupted_result()))
    assert "<svg" not in document
    assert "No timeline recorded." in document
    assert "The run was interrupted" in document
    assert "Stopped before its time:</strong> --max-coupons reached (10000)" in document


def test_html_long_run_charts_every_interval_and_tables_twenty_rows() -> None:
    document = render_html(load_document(long_result(500)))
    latency, throughput = _svgs(document)
    first_path = latency.findall(f"{_SVG}path")[0].attrib["d"]
    assert first_path.count("L") == 499
    assert len(throughput.findall(f"{_SVG}g")) == 500
    visible = document.split("<details>", 1)[0].rsplit("<h2>Timeline</h2>", 1)[1]
    assert visible.count("<tr") == 20 + 1
    assert "All 500 intervals" in document


def test_html_chart_points_are_capped() -> None:
    document = render_html(load_document(long_result(1500)))
    _, throughput = _svgs(document)
    assert len(throughput.findall(f"{_SVG}g")) == 500  # 1500 intervals, 3 to a bar


def test_html_single_point_and_all_none_timelines() -> None:
    single = render_html(load_document(load_result(timeline=[TimelinePoint(1.0, 10, 0, 10.0, 5.0, 6.0, 7.0)])))
    latency, _ = _svgs(single)
    assert len(latency.findall(f"{_SVG}circle")) == 3
    empty = render_html(load_document(load_result(timeline=[TimelinePoint(1.0, 0, 0, 0.0, None, None, None)] * 3)))
    latency, throughput = _svgs(empty)
    assert latency.findall(f"{_SVG}path") == []
    assert throughput.findall(f"{_SVG}g") == []


def test_nice_ticks() -> None:
    assert nice_ticks(812.4) == [0, 200, 400, 600, 800, 1000]
    assert nice_ticks(1.0) == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
    assert nice_ticks(0.0) == nice_ticks(1.0)
    assert nice_ticks(float("nan")) == nice_ticks(1.0)
    assert nice_ticks(300) == [0, 100, 200, 300]




# --- console ------------------------------------------------------------------------------------------------








def test_console_colours_only_when_asked() -> None:
    coloured = render_load_table(failing_result(), color=True)
    assert "\033[" in coloured
    plain = "\n".join(line.rstrip() for line in re.sub(r"\033\[[\d;]*m", "", coloured).splitlines())
    assert plain == render_load_table(failing_result(), color=False)
    assert "\033[" not in plain and plain.splitlines()[-1].startswith("FAIL: SLO p95<=300ms breached")




# --- writer -------------------------------------------------------------------------------------------------


def test_write_load_reports(tmp_path: Path) -> None:
    report_dir = tmp_path / "reports" / "load"
    written = write_load_reports(failing_result(), report_dir)
    assert written == {name: report_dir / name for name in ("summary.json", "junit.xml", "report.md", "report.html")}
    assert sorted(path.name for path in report_dir.iterdir()) == sorted(written)
    assert json.loads(written["summary.json"].read_text(encoding="utf-8"))["holds"] is False
    assert written["report.md"].read_text(encoding="utf-8").startswith("## coupon-harness load: ❌")
    assert _svgs(written["report.html"].read_text(encoding="utf-8"))


def test_one_failing_writer_does_not_stop_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(result: object, path: Path) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("coupon_harness.reporting.load.document.write_load_summary_json", broken)
    with pytest.raises(RuntimeError, match="boom") as caught:
        write_load_reports(load_result(), tmp_path)
    assert any("summary.json" in note for note in caught.value.__notes__)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["junit.xml", "report.html", "report.md"]


def test_the_rerun_line_gives_every_flag_again() -> None:
    """Issue 18: a `coupon-harness load` report's Rerun line is the whole command, credentials as references; a
    capacity step or `run`'s load stage (no replay record) has none."""
    from coupon_harness.reporting.load.rerun import rerun_command
    from coupon_harness.results.load import LoadReplay, SloResult

    assert rerun_command(load_result()) is None
    replay = LoadReplay(series_ids=(101, 102), invalid_series_ids=(999,), customer_ids=("c 1",), credentials="token",
                        invalid_share=0.1, batch_min=1, batch_max=5, run_time_s=90.0, wait_s=0.5, workers=2,
                        max_coupons=500, allow_production=True, abort_on_fail=True, abort_violations=3,
                        abort_grace_s=10.0)
    slos = [SloResult("p95", 300.0, "ms", 100.0, True), SloResult("error-rate", 0.01, "ratio", 0.0, True)]
    result = load_result(target="https://staging.example.com", users=40, arrival_rate=200.0, shape="spike",
                         slos=slos, request_timeout_s=2.5, replay=replay)
    assert rerun_command(result) == (
        "coupon-harness load --base-url https://staging.example.com --series-ids 101,102 --invalid-series-ids 999 "
        "--customer-ids 'c 1' --token \"${COUPON_HARNESS_TOKEN}\" --users 40 --arrival-rate 200 --run-time 90s "
        "--wait 0.5s --shape spike --slo p95=300ms --slo error-rate=0.01 --workers 2 --invalid-share 0.1 "
        "--batch-size 1-5 --max-coupons 500 --request-timeout 2.5 --allow-production --abort-on-fail "
        "--abort-violations 3 --abort-grace 10s")
    closed = load_result(users=10, arrival_rate=None, replay=LoadReplay(spawn_rate=5.0))
    assert "--users 10 --spawn-rate 5 --run-time 30s" in (rerun_command(closed) or "")


def test_the_capacity_rerun_line_gives_every_flag_again() -> None:
    """Issue 18: the capacity report's Rerun line: SLOs as --slo takes them, the rates, times, steps, users and
    the load flags every step shares; a summary of an older version has none."""
    from tests.reporting.capacity_builders import knee_result

    from coupon_harness.reporting.load.rerun import capacity_rerun_command
    from coupon_harness.results.load import LoadReplay

    result = knee_result()
    assert capacity_rerun_command(result) is None
    result.replay = LoadReplay(series_ids=(101,), credentials="basic-md5", batch_min=2, batch_max=2, workers=2,
                               max_coupons=900)
    result.users, result.max_steps, result.min_capacity, result.request_timeout_s = 50, 8, 120.0, 3.0
    line = capacity_rerun_command(result) or ""
    assert line.startswith(f"coupon-harness capacity --base-url {result.target} --series-ids 101 "
                           '--user "${COUPON_HARNESS_USER}" --md5-password --slo ')
    assert all(f"--slo {slo.replace('<=', '=')}" in line for slo in result.slos)
    assert line.endswith(f"--start-rate {result.start_rate:g} --max-rate {result.max_rate:g} --step-time "
                         f"{result.step_time_s:g}s --warmup {result.warmup_s:g}s --precision {result.precision:g} "
                         "--max-steps 8 --users 50 --min-capacity 120 --workers 2 --batch-size 2-2 --max-coupons 900 "
                         "--request-timeout 3")
