"""Every format of a differential report from one typed result: the groups, each difference's reproducer, the
verdict, notes and faults; markup in a target's answer stays text."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from coupon_harness.reporting.diff.document import diff_document, write_diff_reports
from coupon_harness.reporting.render.console import render_console
from coupon_harness.reporting.render.html import COPY_SCRIPT
from coupon_harness.reporting.stored import read_stored
from coupon_harness.results.contract import HarnessFault
from coupon_harness.results.diff import CATEGORIES, Difference, DiffRunResult, Reproducer
from coupon_harness.results.request import RequestSample

BODY = '{"seriesIds":[102],"customer":{"id":"c-1"}}'


def render_diff_table(result: DiffRunResult, *, color: bool = False) -> str:
    return render_console(diff_document(result), color=color, width=100)


def _reproducer(source: str) -> Reproducer:
    headers = (("Content-Type", "application/json"), ("Authorization", "Basic <redacted>"))
    return Reproducer(source, RequestSample("POST", "http://127.0.0.1:1/v2/coupon/bulk/issue", headers, BODY),
                      RequestSample("POST", "http://127.0.0.1:2/v2/coupon/bulk/issue", headers, BODY),
                      200, 400, '{"response": []}', "<script>alert(1)</script>")


def _result(**changes: object) -> DiffRunResult:
    differences = [Difference(category, f"series 102: {category} field", "10", f"<b>{n}</b>",
                              _reproducer(f"scenario/{n}"), occurrences=n + 1)
                   for n, category in enumerate(CATEGORIES)]
    result = DiffRunResult(base_target="http://127.0.0.1:1", against_target="http://127.0.0.1:2",
                           started_at="2026-12-01T05:00:00+00:00", duration_s=1.5, seed=42, cases=300,
                           differences=differences, passes=[("classics", 100), ("scenarios", 200)],
                           series_map={101: 5001}, notes=["a note"], base_coupons=10, against_coupons=9)
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def test_every_format_shows_every_group_and_reproducer(tmp_path: Path) -> None:
    paths = write_diff_reports(_result(), tmp_path)
    assert set(paths) == {"junit.xml", "summary.json", "report.md", "report.html"}
    markdown = paths["report.md"].read_text()
    html = paths["report.html"].read_text()
    for category in CATEGORIES:
        assert f"series 102: {category} field" in markdown and f"series 102: {category} field" in html
    assert "5 differences between the targets over 300 cases" in markdown
    assert "--seed 42" in markdown and "--series-map 101=5001" in markdown
    assert "<script>" not in html.replace(COPY_SCRIPT, "")  # the page's own copy script aside
    assert "&lt;script&gt;" in html and "&lt;b&gt;0&lt;/b&gt;" in html
    assert '"$COUPON_HARNESS_AGAINST_USER"' in markdown and '"$COUPON_HARNESS_USER"' in markdown
    suite = ET.fromstring(paths["junit.xml"].read_text())
    assert suite.get("failures") == "5" and len(list(suite.iter("testcase"))) == 5
    summary = json.loads(paths["summary.json"].read_text())
    assert read_stored(paths["summary.json"], DiffRunResult) == _result()
    assert summary["differs"] is True and summary["counts"] == {c: 1 for c in CATEGORIES}
    assert summary["series_map"] == {"101": 5001}
    assert summary["differences"][0]["reproducer"]["base_curl"].startswith("curl ")
    console = render_diff_table(_result())
    assert "\nFAIL Response shape (1)\n" in console and "\nReplay:     coupon-harness diff --base-url" in console


def test_no_difference_a_stop_and_a_fault(tmp_path: Path) -> None:
    fault = HarnessFault("diff-scenarios", "RuntimeError: boom", "Traceback ...\nRuntimeError: boom")
    paths = write_diff_reports(_result(differences=[], stopped="the coupon cap is reached", faults=[fault]),
                               tmp_path)
    assert paths["harness-error-diff-scenarios.txt"].read_text().endswith("RuntimeError: boom")
    markdown = paths["report.md"].read_text()
    assert "harness error in 1 pass over 300 cases (stopped early: the coupon cap is reached)" in markdown
    suite = ET.fromstring(paths["junit.xml"].read_text())
    assert suite.get("failures") == "0" and suite.get("errors") == "1"
    calm = write_diff_reports(_result(differences=[]), tmp_path / "calm")
    assert json.loads(calm["summary.json"].read_text())["headline"] == \
        "no difference between the targets over 300 cases"
    assert "no difference" in render_diff_table(_result(differences=[]), color=True)


def test_a_target_that_completed_no_answer_is_no_pass_in_any_format(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """No verdict without evidence: "no difference" over cases one target never answered is not a pass."""
    from coupon_harness.cli.diff_cmd import diff_exit_code

    silent = _result(differences=[], base_answered=300, against_answered=0, request_timeout_s=3.0)
    line = "against: no answer completed within --request-timeout 3 s (300 requests sent)"
    assert silent.no_answer == line and not silent.holds
    paths = write_diff_reports(silent, tmp_path)
    summary = json.loads(paths["summary.json"].read_text())
    assert summary["no_answer"] == line and summary["holds"] is False and summary["headline"].startswith(line)
    assert line in paths["report.md"].read_text() and line in paths["report.html"].read_text()
    suite = ET.fromstring(paths["junit.xml"].read_text())
    assert suite.get("failures") == "1" and line in paths["junit.xml"].read_text()
    assert diff_exit_code(silent) == 1 and f"coupon-harness diff: {line}" in capsys.readouterr().err
    # Both answered (or an older summary, which says nothing of it): the verdict is as before.
    for calm in (_result(differences=[], base_answered=300, against_answered=12), _result(differences=[])):
        assert calm.no_answer is None and calm.holds and diff_exit_code(calm) == 0


def test_control_characters_in_a_reproducer_leave_junit_valid_xml(tmp_path: Path) -> None:
    """A generated body or a target's answer may hold control bytes XML 1.0 cannot carry (a diff run with a random
    seed wrote `\\x16` into junit.xml, which no CI could read)."""
    headers = (("Content-Type", "application/json"),)
    odd = Reproducer("property/negative", RequestSample("POST", "http://127.0.0.1:1/x", headers, "\ufffd\x16\x01"),
                     RequestSample("POST", "http://127.0.0.1:2/x", headers, "\x16"), 400, 400, "\x0b", "\x0c")
    difference = Difference("attributes", "where \x1f", "\x02", "\x03", odd)
    fault = HarnessFault("diff-classics", "RuntimeError: \x07", "Traceback ...")
    paths = write_diff_reports(_result(differences=[difference], faults=[fault]), tmp_path)
    suite = ET.fromstring(paths["junit.xml"].read_text())
    assert suite.get("failures") == "1" and "\\x16" in paths["junit.xml"].read_text()


def test_the_replay_line_keeps_every_flag_that_shaped_the_run() -> None:
    """Issue 18: series, customers, examples, timeout, the maps, the cap and both targets' credentials (as
    `${COUPON_HARNESS_*}` references, never values) come back; a summary of an older version still gives a line."""
    from coupon_harness.reporting.diff.common import replay_command
    from coupon_harness.results.contract import RunShape

    shape = RunShape("https://a.example.com", series_ids=(101, 102), invalid_series_ids=(999,),
                     generic_series_ids=(104,), customer_ids=("c 1",), max_examples=7, request_timeout=2.5,
                     credentials="basic-md5")
    result = DiffRunResult("https://a.example.com", "https://b.example.com", "2026-01-01T00:00:00+00:00", 1.0, 5, 3,
                           series_map={101: 5001}, customer_map={"c 1": "d 1"}, shape=shape,
                           against_credentials="oauth", max_coupons=500)
    assert replay_command(result) == (
        "coupon-harness diff --base-url https://a.example.com --against-url https://b.example.com --series-ids 101,102 "
        "--invalid-series-ids 999 --generic-series-ids 104 --customer-ids 'c 1' --user \"${COUPON_HARNESS_USER}\" "
        "--md5-password --max-examples 7 --request-timeout 2.5 "
        "--against-oauth-key \"${COUPON_HARNESS_AGAINST_OAUTH_KEY}\" "
        "--against-oauth-secret \"${COUPON_HARNESS_AGAINST_OAUTH_SECRET}\" --series-map 101=5001 "
        "--customer-map 'c 1=d 1' --max-coupons 500 --seed 5")
    token = DiffRunResult("a", "b", "", 0.0, 1, 0, shape=RunShape("a", credentials="token"),
                          against_credentials="basic-md5")
    assert replay_command(token).endswith('--token "${COUPON_HARNESS_TOKEN}" --against-user '
                                          '"${COUPON_HARNESS_AGAINST_USER}" --against-md5-password --seed 1')
    older = DiffRunResult("a", "b", "", 0.0, 1, 0)  # a summary without the shape
    assert replay_command(older) == "coupon-harness diff --base-url a --against-url b --seed 1"
