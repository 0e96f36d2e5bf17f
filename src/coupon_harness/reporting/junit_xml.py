"""What the JUnit files share: XML 1.0-safe text, the schema's timestamp, testcases with their outcome, suite
totals counted from the cases, one document of several suites. GitHub, GitLab and Jenkins read the form:
`<testsuites>`, `<testsuite>` with tests/failures/errors/skipped/time, `<testcase>` with at most one of
`<failure>`, `<error>` (the harness could not judge: exit 2) or `<skipped>`.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from coupon_harness.reporting.text import one_line, shorten

__all__ = ["MESSAGE_LIMIT", "document", "finish_suite", "new_suite", "seconds", "set_attributes",
           "testcase", "timestamp", "xml_safe"]

MESSAGE_LIMIT = 500
# Characters XML 1.0 cannot carry, even escaped (a target may answer control bytes).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def set_attributes(element: ET.Element, **attributes: str) -> None:
    for name, value in attributes.items():
        element.set(name, xml_safe(value))


def seconds(value: float) -> str:
    """A time attribute: seconds with millisecond precision, never negative."""
    return f"{max(value, 0.0):.3f}"


def timestamp(started_at: str) -> str:
    """ISO 8601 in UTC without offset, as the JUnit schema wants it; unparseable input passes through."""
    try:
        moment = datetime.fromisoformat(started_at)
    except ValueError:
        return started_at
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def new_suite(name: str, started_at: str, duration_s: float, properties: Iterable[tuple[str, str]] = ()) -> ET.Element:
    """A <testsuite> (not yet attached) with its <properties> when given; `finish_suite` counts its cases once they
    are added."""
    suite = ET.Element("testsuite")
    set_attributes(suite, name=name, tests="0", failures="0", errors="0", skipped="0", time=seconds(duration_s),
                   timestamp=timestamp(started_at), hostname=socket.gethostname() or "localhost")
    if pairs := list(properties):
        element = ET.SubElement(suite, "properties")
        for key, value in pairs:
            set_attributes(ET.SubElement(element, "property"), name=key, value=value)
    return suite


def testcase(suite: ET.Element, classname: str, name: str, time_s: float, *, failure: tuple[str, str] | None = None,
             error: tuple[str, str] | None = None, skipped: str | None = None, kind: str = "",
             out: str | None = None) -> ET.Element:
    """One testcase: passed, or with a failure/error (message, text) or skipped (message); `out` its system-out."""
    case = ET.SubElement(suite, "testcase")
    set_attributes(case, classname=classname, name=name, time=seconds(time_s))
    for tag, outcome in (("failure", failure), ("error", error)):
        if outcome is not None:
            element = ET.SubElement(case, tag)
            set_attributes(element, message=shorten(one_line(outcome[0]), MESSAGE_LIMIT), type=kind or tag)
            element.text = xml_safe(outcome[1])
    if skipped is not None:
        set_attributes(ET.SubElement(case, "skipped"), message=shorten(one_line(skipped), MESSAGE_LIMIT))
    if out:
        ET.SubElement(case, "system-out").text = xml_safe(out)
    return case


def finish_suite(suite: ET.Element, out_lines: Sequence[str] = ()) -> ET.Element:
    """Count the suite's cases into its attributes and append its system-out."""
    cases = suite.findall("testcase")
    set_attributes(suite, tests=str(len(cases)),
                   failures=str(sum(1 for case in cases if case.find("failure") is not None)),
                   errors=str(sum(1 for case in cases if case.find("error") is not None)),
                   skipped=str(sum(1 for case in cases if case.find("skipped") is not None)))
    if out_lines:
        ET.SubElement(suite, "system-out").text = xml_safe("\n".join(out_lines))
    return suite


def document(name: str, suites: Sequence[ET.Element]) -> str:
    """A <testsuites> document of `suites`, its totals summed (time: the suites' times added)."""
    root = ET.Element("testsuites")
    totals = {key: sum(int(suite.get(key, "0")) for suite in suites)
              for key in ("tests", "failures", "errors", "skipped")}
    time_s = sum(float(suite.get("time", "0")) for suite in suites)
    set_attributes(root, name=name, **{key: str(value) for key, value in totals.items()}, time=seconds(time_s))
    root.extend(suites)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
