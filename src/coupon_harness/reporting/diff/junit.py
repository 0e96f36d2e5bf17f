"""junit.xml of a differential run: one testcase per group of differences (a failure per difference)."""

from __future__ import annotations

from coupon_harness.reporting.diff.common import against_curl, replay_command, verdict
from coupon_harness.reporting.junit_xml import document, finish_suite, new_suite, testcase
from coupon_harness.results.diff import CATEGORIES, DiffRunResult

__all__ = ["render_diff_junit"]

_NAME = "coupon-harness diff"
_CLASS = "coupon_harness.diff"


def render_diff_junit(result: DiffRunResult) -> str:
    groups = dict(result.by_category())
    suite = new_suite(_NAME, result.started_at, result.duration_s, (
        ("base", result.base_target), ("against", result.against_target), ("seed", str(result.seed)),
        ("cases", str(result.cases)), ("verdict", verdict(result)), ("replay", replay_command(result))))
    for name in CATEGORIES:
        differences = groups.get(name, [])
        text = "\n\n".join(
            f"{d.where}: {d.base} (base) vs {d.against} (against), {d.occurrences} case(s); first in "
            f"{d.reproducer.source}\nbase:    {d.reproducer.base_request.curl}\n"
            f"against: {against_curl(d.reproducer.against_request)}" for d in differences)
        testcase(suite, _CLASS, f"same {name}", 0.0, kind="difference",
                 failure=(f"{len(differences)} difference(s) in {name}", text) if differences else None)
    if result.no_answer is not None:  # no verdict without evidence
        testcase(suite, _CLASS, "both targets answered", 0.0, kind="no-answer",
                 failure=(result.no_answer, result.no_answer))
    for fault in result.faults:
        testcase(suite, _CLASS, f"harness {fault.stage}", 0.0, kind="harness-error",
                 error=(fault.error, fault.file_name))
    return document(_NAME, [finish_suite(suite)])
