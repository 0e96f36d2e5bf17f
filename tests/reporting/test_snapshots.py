"""Snapshots of every format of the contract, diff and run reports over fixed results (console text, report.md,
report.html, junit.xml, summary.json): a change in what a report shows is a reviewable diff of a file under
`__snapshots__/test_snapshots/` (open the .html ones in a browser). After an intended change:
`pytest tests/reporting/test_snapshots.py --snapshot-update`, then read the diff."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import replace

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from tests.reporting.reporting_builders import build, failed_overrides, faulted, finding, request

from coupon_harness.contract.catalog import get_rule
from coupon_harness.reporting.contract.document import contract_document
from coupon_harness.reporting.contract.junit import render_junit
from coupon_harness.reporting.contract.summary_json import summary_dict
from coupon_harness.reporting.diff.document import diff_document
from coupon_harness.reporting.diff.junit import render_diff_junit
from coupon_harness.reporting.diff.summary_json import diff_summary_dict
from coupon_harness.reporting.document import Document
from coupon_harness.reporting.render.console import render_console
from coupon_harness.reporting.render.html import render_html
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.reporting.run.document import render_run_markdown
from coupon_harness.reporting.run.junit import render_run_junit
from coupon_harness.reporting.setup_error import render_setup_markdown
from coupon_harness.results.contract import (
    BaselineStatus,
    BaselineSummary,
    ContractRunResult,
    FixedEntry,
    HarnessFault,
    Outcome,
    RuleResult,
)
from coupon_harness.results.diff import CATEGORIES, Difference, DiffRunResult, Reproducer
from coupon_harness.results.request import RequestSample
from coupon_harness.results.setup import SetupFailure


def _extension(suffix: str) -> type[SingleFileSnapshotExtension]:
    return type(f"{suffix.capitalize()}Snapshot", (SingleFileSnapshotExtension,),
                {"_write_mode": WriteMode.TEXT, "file_extension": suffix})


@pytest.fixture(autouse=True)
def _fixed_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """JUnit names the machine: the same name on every machine."""
    monkeypatch.setattr(socket, "gethostname", lambda: "ci-host")


def baseline_result() -> ContractRunResult:
    """A run against a baseline: a known rule, a new and an expired finding, a fixed entry, a warning, and a
    finding with an earlier request (a cross-request finding)."""
    overrides = failed_overrides()
    known = replace(finding("no-server-error", "500", "a status below 500", "500 Internal Server Error", seed=11),
                    baseline=BaselineStatus.KNOWN)
    overrides["no-server-error"] = RuleResult(get_rule("no-server-error"), Outcome.KNOWN, 812, [known])
    first, second = overrides["entity-order"].findings
    overrides["entity-order"] = RuleResult(get_rule("entity-order"), Outcome.FAILED, 500, [
        replace(first, baseline=BaselineStatus.NEW, sequence=[request('{"seriesIds":[101],"customer":{"id":"c-1"}}')]),
        replace(second, baseline=BaselineStatus.EXPIRED)])
    result = build(overrides)
    result.baseline = BaselineSummary("baseline.json", fixed=[FixedEntry("0123456789ab", "unique-codes",
                                                                         "a code handed out twice")],
                                      warnings=["entry 89abcdef0123 expired on 2026-01-01: it counts as new"])
    return result


def _reproducer(source: str, answer: str) -> Reproducer:
    headers = (("Content-Type", "application/json"), ("Authorization", "Basic <redacted>"))
    body = '{"seriesIds":[102],"customer":{"id":"c-1"}}'
    return Reproducer(source, RequestSample("POST", "http://127.0.0.1:1/v2/coupon/bulk/issue", headers, body),
                      RequestSample("POST", "http://127.0.0.1:2/v2/coupon/bulk/issue", headers, body),
                      200, 400, '{"response": []}', answer)


def diff_result() -> DiffRunResult:
    differences = [Difference(category, f"series 102: {category} field", "10", f"<b>{n}</b>",
                              _reproducer(f"scenario/{n}", "<script>alert(1)</script>"), occurrences=n + 1)
                   for n, category in enumerate(CATEGORIES)]
    differences.append(Difference(CATEGORIES[0], "series 101: second", "a", "b", _reproducer("classics/x", "{}")))
    return DiffRunResult(base_target="http://127.0.0.1:1", against_target="http://127.0.0.1:2",
                         started_at="2026-12-01T05:00:00+00:00", duration_s=1.5, seed=42, cases=300,
                         differences=differences, passes=[("classics", 100), ("scenarios", 200)],
                         series_map={101: 5001}, customer_map={"c1": "d1"}, notes=["a note"], base_coupons=10,
                         against_coupons=9)


def diff_faulted() -> DiffRunResult:
    result = diff_result()
    result.differences = []
    result.stopped = "the coupon cap is reached"
    result.faults = [HarnessFault("diff-scenarios", "RuntimeError: boom", "Traceback ...\nRuntimeError: boom")]
    return result


CONTRACT: dict[str, Callable[[], ContractRunResult]] = {
    "contract-passed": build, "contract-failed": lambda: build(failed_overrides()),
    "contract-interrupted": lambda: build(failed_overrides(), interrupted=True), "contract-faulted": faulted,
    "contract-baseline": baseline_result}
DIFF: dict[str, Callable[[], DiffRunResult]] = {"diff-differs": diff_result, "diff-faulted": diff_faulted}


def _documents() -> dict[str, Callable[[], Document]]:
    documents: dict[str, Callable[[], Document]] = {
        name: (lambda make=make: contract_document(make())) for name, make in CONTRACT.items()}
    documents.update({name: (lambda make=make: diff_document(make())) for name, make in DIFF.items()})
    return documents


DOCUMENTS = _documents()


@pytest.mark.parametrize("name", DOCUMENTS)
def test_console(name: str, snapshot: SnapshotAssertion) -> None:
    assert render_console(DOCUMENTS[name](), color=False, width=100) == snapshot(extension_class=_extension("txt"))


@pytest.mark.parametrize("name", ["contract-faulted", "diff-differs"])
def test_console_in_colour(name: str, snapshot: SnapshotAssertion) -> None:
    assert render_console(DOCUMENTS[name](), color=True, width=100) == snapshot(extension_class=_extension("ansi"))


@pytest.mark.parametrize("name", DOCUMENTS)
def test_markdown(name: str, snapshot: SnapshotAssertion) -> None:
    assert render_markdown(DOCUMENTS[name]()) == snapshot(extension_class=_extension("md"))


@pytest.mark.parametrize("name", DOCUMENTS)
def test_html(name: str, snapshot: SnapshotAssertion) -> None:
    assert render_html(DOCUMENTS[name]()) == snapshot(extension_class=_extension("html"))


@pytest.mark.parametrize("name", CONTRACT)
def test_contract_junit_and_summary(name: str, snapshot: SnapshotAssertion) -> None:
    result = CONTRACT[name]()
    assert render_junit(result) == snapshot(name="junit", extension_class=_extension("xml"))
    summary = json.dumps(summary_dict(result), indent=2, ensure_ascii=False) + "\n"
    assert summary == snapshot(name="summary", extension_class=_extension("json"))


@pytest.mark.parametrize("name", DIFF)
def test_diff_junit_and_summary(name: str, snapshot: SnapshotAssertion) -> None:
    result = DIFF[name]()
    assert render_diff_junit(result) == snapshot(name="junit", extension_class=_extension("xml"))
    summary = json.dumps(diff_summary_dict(result), indent=2) + "\n"
    assert summary == snapshot(name="summary", extension_class=_extension("json"))


def test_run(snapshot: SnapshotAssertion) -> None:
    """`run`'s report.md and junit.xml: a failed contract stage and a load stage that stopped on a setup error (and
    that stage's own report.md)."""
    contract = faulted()
    error = SetupFailure("run load stage", "the target refused the preflight: 401", "2026-11-26T07:19:00+00:00", 0.0,
                         target="http://127.0.0.1:8080")
    assert render_run_markdown(contract, None, load_error=error) == snapshot(name="report",
                                                                              extension_class=_extension("md"))
    assert render_run_junit(contract, None, error) == snapshot(name="junit", extension_class=_extension("xml"))
    assert render_setup_markdown(error) == snapshot(name="setup-error", extension_class=_extension("md"))
    interrupted = render_run_markdown(build(), None, interrupted=True)
    assert interrupted == snapshot(name="interrupted", extension_class=_extension("md"))
