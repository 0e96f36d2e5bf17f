"""Write every report file of a load run into one directory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from coupon_harness.reporting.common import write_all
from coupon_harness.reporting.load.html import write_load_html
from coupon_harness.reporting.load.junit import write_load_junit
from coupon_harness.reporting.load.markdown import write_load_markdown
from coupon_harness.reporting.load.summary_json import write_load_summary_json
from coupon_harness.results.load import LoadRunResult, SampleData

__all__ = ["LOAD_REPORT_FILES", "redact_load_result", "write_load_reports"]

#: File name -> writer, the machine-readable gate files (summary.json, junit.xml for CI test tabs) first.
LOAD_REPORT_FILES: dict[str, Callable[[LoadRunResult, Path], None]] = {
    "summary.json": write_load_summary_json,
    "junit.xml": write_load_junit,
    "report.md": write_load_markdown,
    "report.html": write_load_html,
}


def write_load_reports(result: LoadRunResult, report_dir: Path, *, junit: bool = True) -> dict[str, Path]:
    """Create `report_dir` and write summary.json, junit.xml, report.md and report.html into it (atomically).

    `junit=False` leaves junit.xml out: a capacity search's steps break SLOs on purpose (that is how it finds the
    knee), and a CI job collecting every junit.xml must not count those as failed tests."""
    writers = LOAD_REPORT_FILES if junit else {name: w for name, w in LOAD_REPORT_FILES.items() if name != "junit.xml"}
    return write_all(result, report_dir, writers)


def redact_load_result(result: LoadRunResult, redact: Callable[[str], str]) -> LoadRunResult:
    """The result with `redact` applied to every text that came from the load process (the target, the
    violation examples and sample requests, the counters' keys, notes, reasons, harness errors): a second line of
    defence for what the load process should have redacted itself. Numbers and timeline are kept as they are."""
    def keys(counts: dict[str, int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for key, count in counts.items():
            out[redact(key)] = out.get(redact(key), 0) + count
        return out

    return replace(
        result, target=redact(result.target), started_at=redact(result.started_at), shape=redact(result.shape),
        status_counts=keys(result.status_counts), violation_counts=keys(result.violation_counts),
        violation_examples={redact(rule): redact(example) for rule, example in result.violation_examples.items()},
        violation_samples={redact(rule): SampleData(method=redact(sample["method"]), url=redact(sample["url"]),
                                                    headers=[[redact(name), redact(value)]
                                                             for name, value in sample["headers"]],
                                                    body=None if sample["body"] is None else redact(sample["body"]))
                           for rule, sample in result.violation_samples.items()},
        entity_error_codes=keys(result.entity_error_codes),
        stopped_reason=redact(result.stopped_reason) if result.stopped_reason is not None else None,
        notes=[redact(note) for note in result.notes],
        files={name: redact(path) for name, path in result.files.items()},
        harness_errors=[redact(error) for error in result.harness_errors])
