"""junit.xml of a differential run: one testcase per group of differences (a failure per difference)."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from coupon_harness.reporting.common import atomic_write_text
from coupon_harness.reporting.diff.common import against_curl, replay_command, verdict
from coupon_harness.reporting.junit_xml import xml_safe
from coupon_harness.results.diff import CATEGORIES, DiffRunResult

__all__ = ["render_diff_junit", "write_diff_junit"]


def render_diff_junit(result: DiffRunResult) -> str:
    groups = dict(result.by_category())
    silent = result.no_answer
    failures = sum(1 for name in CATEGORIES if name in groups) + (silent is not None)
    suite = ET.Element("testsuite", name="coupon-harness diff",
                       tests=str(len(CATEGORIES) + len(result.faults) + (silent is not None)),
                       failures=str(failures), errors=str(len(result.faults)), time=f"{result.duration_s:.3f}")
    properties = ET.SubElement(suite, "properties")
    for name, value in (("base", result.base_target), ("against", result.against_target),
                        ("seed", str(result.seed)), ("cases", str(result.cases)), ("verdict", verdict(result)),
                        ("replay", replay_command(result))):
        ET.SubElement(properties, "property", name=name, value=xml_safe(value))
    for name in CATEGORIES:
        case = ET.SubElement(suite, "testcase", classname="coupon_harness.diff", name=f"same {name}", time="0")
        differences = groups.get(name, [])
        if differences:
            failure = ET.SubElement(case, "failure", message=f"{len(differences)} difference(s) in {name}",
                                    type="difference")
            failure.text = xml_safe("\n\n".join(
                f"{d.where}: {d.base} (base) vs {d.against} (against), {d.occurrences} case(s); first in "
                f"{d.reproducer.source}\nbase:    {d.reproducer.base_request.curl}\n"
                f"against: {against_curl(d.reproducer.against_request)}" for d in differences))
    if silent is not None:  # no verdict without evidence
        case = ET.SubElement(suite, "testcase", classname="coupon_harness.diff", name="both targets answered",
                             time="0")
        ET.SubElement(case, "failure", message=xml_safe(silent), type="no-answer").text = xml_safe(silent)
    for fault in result.faults:
        case = ET.SubElement(suite, "testcase", classname="coupon_harness.diff", name=f"harness {fault.stage}",
                             time="0")
        ET.SubElement(case, "error", message=xml_safe(fault.error), type="harness-error").text = fault.file_name
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def write_diff_junit(result: DiffRunResult, path: Path) -> None:
    atomic_write_text(path, render_diff_junit(result))
