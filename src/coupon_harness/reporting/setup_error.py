"""The reports of a run that stopped on a setup error (exit 2): junit.xml with one `<error>` testcase,
summary.json and report.md, each with the one line that names the fix. Written only where this run wrote no
report yet; a file an earlier run left (--overwrite) is replaced, so a CI step never reads a stale verdict.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from coupon_harness import __version__
from coupon_harness.reporting.document import Banner, Code, Document, Figure, Status, Verdict
from coupon_harness.reporting.junit_xml import document, finish_suite, new_suite, testcase
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.reporting.text import one_line
from coupon_harness.reporting.writer import atomic_write_text
from coupon_harness.results.setup import SETUP_ERROR_OUTCOME, SetupFailure

__all__ = ["SETUP_ERROR_FILES", "SETUP_SCHEMA", "SetupErrorSummary", "refuse_setup_error",
           "render_setup_markdown", "setup_suite", "setup_summary_dict", "write_setup_error_reports"]

SETUP_ERROR_FILES = ("junit.xml", "summary.json", "report.md")
SETUP_SCHEMA = "coupon-harness/setup-error"
SETUP_SCHEMA_VERSION = 1


class SetupErrorSummary(ValueError):
    """A summary.json read back is a setup error's: it holds no run (its message is the one line to show)."""


def refuse_setup_error(data: object, path: Path) -> None:
    """SetupErrorSummary when `data`, a summary.json read back, is a setup error's: it holds no run to read."""
    if isinstance(data, dict) and data.get("outcome") == SETUP_ERROR_OUTCOME:
        error = str(data.get("error", ""))[:200]
        raise SetupErrorSummary(f"{path}: the run there stopped before testing anything (setup error: {error})")


def setup_summary_dict(failure: SetupFailure) -> dict[str, object]:
    return {
        "schema": SETUP_SCHEMA,
        "schema_version": SETUP_SCHEMA_VERSION,
        "coupon_harness": __version__,
        "kind": failure.kind,
        "outcome": SETUP_ERROR_OUTCOME,
        "exit_code": failure.exit_code,
        "error": failure.message,
        "target": failure.target,
        "started_at": failure.started_at,
        "duration_s": round(failure.duration_s, 3),
        "coupons_issued": failure.coupons_issued,
        # The run as `results.codec` reads it (the `result` member of every summary.json; `reporting.stored`).
        "result": failure.to_json(),
    }


def setup_suite(failure: SetupFailure) -> ET.Element:
    """The <testsuite> of a run (or a stage) that stopped on a setup error: one testcase, its `<error>`."""
    suite = new_suite(f"coupon-harness {failure.kind}", failure.started_at, failure.duration_s)
    testcase(suite, f"coupon-harness.{failure.kind}", "setup", failure.duration_s,
             error=(failure.message, failure.message), kind="SetupError")
    return finish_suite(suite)


def render_setup_markdown(failure: SetupFailure) -> str:
    notes = [Banner(Status.ERROR, one_line(failure.message)),
             Banner(Status.SKIP, "Nothing was judged, so this is neither a pass nor a finding about the target.")]
    if failure.coupons_issued:
        notes.append(Banner(Status.WARN, f"{failure.coupons_issued} coupons were issued before it stopped: they are "
                                         "listed in coupons.csv."))
    figures = [Figure("Target", (Code(failure.target),))] if failure.target else []
    return render_markdown(Document(failure.kind, Verdict(
        Status.ERROR, f"ERROR (exit {failure.exit_code}): the harness could not run"), banners=tuple(notes),
        figures=(*figures, Figure("Started", failure.started_at))))


def write_setup_error_reports(failure: SetupFailure, folder: Path, *, since: float = 0.0) -> dict[str, Path]:
    """Write the three files into `folder`, each unless the run wrote it (a file changed at or after `since`, the
    run's start as epoch seconds); the paths written."""
    written: dict[str, Path] = {}
    renderers = {"junit.xml": lambda: document(f"coupon-harness {failure.kind}", [setup_suite(failure)]),
                 "summary.json": lambda: json.dumps(setup_summary_dict(failure), indent=2) + "\n",
                 "report.md": lambda: render_setup_markdown(failure)}
    for name in SETUP_ERROR_FILES:
        path = folder / name
        try:
            if path.stat().st_mtime >= since:
                continue
        except OSError:
            pass  # none there
        atomic_write_text(path, renderers[name]())
        written[name] = path
    return written
