"""A differential run's report as a `Document` (console, report.md and report.html draw it, with the same look as
every other kind), and the files of its folder."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from coupon_harness.reporting.diff.causes import EXAMPLES, Cause, causes
from coupon_harness.reporting.diff.common import against_curl, replay_command, verdict
from coupon_harness.reporting.diff.junit import render_diff_junit
from coupon_harness.reporting.diff.summary_json import write_diff_summary_json
from coupon_harness.reporting.document import (
    Banner,
    Code,
    CodeBlock,
    Column,
    Document,
    Figure,
    FindingBlock,
    Link,
    Row,
    Section,
    Status,
    Table,
    Text,
    Verdict,
    joined,
)
from coupon_harness.reporting.text import shorten
from coupon_harness.reporting.writer import text_file, traceback_files, write_document_reports
from coupon_harness.results.diff import Difference, DiffRunResult

__all__ = ["diff_document", "write_diff_reports"]

_EXCERPT_LIMIT = 300


def _answer(status: int | None, excerpt: str) -> str:
    return f"{status if status is not None else 'nothing'} {shorten(excerpt, _EXCERPT_LIMIT)}".rstrip()


def _figures(result: DiffRunResult) -> tuple[Figure, ...]:
    passes = ", ".join(f"{name} ({count})" for name, count in result.passes) or "none"
    figures = [Figure("Base", (Code(result.base_target), f" ({result.base_coupons:,} coupons issued)")),
               Figure("Against", (Code(result.against_target), f" ({result.against_coupons:,} coupons issued)")),
               Figure("Seed", (Code(str(result.seed)),)),
               Figure("Cases", f"{result.cases:,} in {result.duration_s:.1f} s"),
               Figure("Started", result.started_at), Figure("Passes", passes)]
    if result.series_map:
        figures.append(Figure("Series map", (Code(", ".join(f"{a}={b}" for a, b in result.series_map.items())),)))
    if result.customer_map:
        figures.append(Figure("Customer map", (Code(", ".join(f"{a}={b}" for a, b in result.customer_map.items())),)))
    figures.append(Figure("Replay", (Code(replay_command(result)),)))
    return tuple(figures)


def _reproducer(index: int, total: int, cause: Cause) -> FindingBlock:
    difference = cause.members[0]
    r = difference.reproducer
    many = len(cause.members)
    where = difference.where + (f" (the first of {many} of this cause)" if many > 1 else "")
    return FindingBlock((f"Reproducer {index}/{total}: {where} · first in ", Code(r.source)),
                   (("base answered", _answer(r.base_status, r.base_excerpt)),
                    ("against answered", _answer(r.against_status, r.against_excerpt))),
                   (CodeBlock(r.base_request.curl, "sh", "base"),
                    CodeBlock(against_curl(r.against_request), "sh", "against")), open=index == 1)


def _examples(values: list[str]) -> Text:
    """The first distinct values as code, and how many more distinct ones there are."""
    distinct = list(dict.fromkeys(values))
    more = [f" and {len(distinct) - EXAMPLES} more"] if len(distinct) > EXAMPLES else []
    return (*joined(map(Code, distinct[:EXAMPLES]), ", "), *more)


def _row(cause: Cause) -> Row:
    """One row a cause: a lone difference as it is; several with their count, the shared change and examples."""
    first = cause.members[0]
    many = len(cause.members)
    if many == 1:
        return Row((first.where, (Code(first.base),), (Code(first.against),), "1", str(first.occurrences),
                    first.reproducer.source), Status.FAIL)
    subjects = [subject for subject in cause.subjects if subject]
    named = ", ".join(subjects[:EXAMPLES]) + (f" and {len(subjects) - EXAMPLES} more" if len(subjects) > EXAMPLES
                                              else "")
    where = f"{cause.field}" + (f" ({cause.change})" if cause.change else "") + (f" in {named}" if named else "")
    return Row((where, _examples([d.base for d in cause.members]), _examples([d.against for d in cause.members]),
                str(many), str(cause.cases),
                first.reproducer.source), Status.FAIL)


def _group(category: str, differences: list[Difference]) -> Section:
    grouped = causes(differences)
    table = Table((Column("Where"), Column("Base"), Column("Against"), Column("Differences", numeric=True),
                   Column("Cases", numeric=True), Column("First seen in")), tuple(_row(c) for c in grouped))
    title = f"{category.capitalize()} ({len(differences)})"
    if len(grouped) < len(differences):
        title = f"{category.capitalize()} ({len(differences)}, {len(grouped)} cause{'' if len(grouped) == 1 else 's'})"
    return Section(title, (table, *(_reproducer(n, len(grouped), c) for n, c in enumerate(grouped, start=1))),
                   status=Status.FAIL)


def diff_document(result: DiffRunResult) -> Document:
    status = Status.ERROR if result.faults else Status.PASS if result.holds else Status.FAIL
    banners = tuple(Banner(Status.ERROR, (f"Harness error in pass '{fault.stage}' (a bug in coupon-harness, not a "
                                          "difference): ", Code(fault.error), "; traceback in ",
                                          Link(fault.file_name, fault.file_name, code=True)))
                    for fault in result.faults)
    return Document("diff", Verdict(status, verdict(result)), tally="the same cases sent to two targets",
                    banners=banners, figures=_figures(result),
                    sections=tuple(_group(category, items) for category, items in result.by_category()),
                    notes=tuple(result.notes), footer="Generated by coupon-harness. Credentials in requests were "
                    "redacted; each curl reads its target's from the environment.")


def write_diff_reports(result: DiffRunResult, report_dir: Path) -> dict[str, Path]:
    """Write the files of a differential run's folder into `report_dir` (name -> path)."""
    return write_document_reports(report_dir, diff_document(result), {
        "junit.xml": text_file(partial(render_diff_junit, result)),
        "summary.json": partial(write_diff_summary_json, result), **traceback_files(result.faults)})
