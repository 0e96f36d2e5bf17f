"""The findings timeline of the contract report: when each finding was first seen, and in which pass. The
collector records each finding's first sighting (time and source) and the runner each pass's span; files of
older versions, without them, still read, and the report then leaves the timeline out."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

from tests.reporting.reporting_builders import build, failed_overrides

from coupon_harness.contract.catalog import RuleId
from coupon_harness.contract.violations import Violation
from coupon_harness.reporting.contract.document import contract_document
from coupon_harness.reporting.document import Chart
from coupon_harness.reporting.render.html import render_html
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.results.contract import ContractRunResult
from coupon_harness.runners.contract.collector import Collector

_SVG = "{http://www.w3.org/2000/svg}"


def timed_result() -> ContractRunResult:
    """The failed run with each finding's first sighting and the passes' spans."""
    result = build(failed_overrides())
    result.pass_spans = [("property/positive", 0.0, 4.5), ("property/negative", 4.5, 12.3)]
    times = iter([9.25, 0.4, 6.0, 2.125, 11.0, 7.5, 3.0, 8.0])
    for rule_result in result.rules:
        rule_result.findings = [replace(f, first_seen_s=next(times), first_seen_in=f.source)
                                for f in rule_result.findings]
    return result


def test_the_collector_records_each_finding_s_first_sighting() -> None:
    collector = Collector(seed=1, max_transport_failures=5)
    violation = Violation(RuleId.NO_SERVER_ERROR.value, "5xx", "a status below 500", "500")
    collector.record(violation, None, 500, "", "classics/type confusion", probe="p", group="g")
    collector.record(violation, None, 500, "", "property/negative", probe="p", group="g")
    [finding] = collector.findings
    assert finding.first_seen_in == "classics/type confusion" and finding.occurrences == 2
    assert finding.first_seen_s is not None and 0 <= finding.first_seen_s <= collector.elapsed()
    assert collector.first_finding == (finding.first_seen_s, "classics/type confusion")


def test_old_files_read_and_unknown_keys_are_kept() -> None:
    data = timed_result().to_json()
    assert data["pass_spans"][1] == ["property/negative", 4.5, 12.3]
    assert ContractRunResult.from_json(data).pass_spans == timed_result().pass_spans
    del data["pass_spans"]
    for rule in data["rules"]:
        for finding in rule["findings"]:
            del finding["first_seen_s"], finding["first_seen_in"]
            finding["seen_by_a_newer_version"] = True
    old = ContractRunResult.from_json(data)
    assert old.pass_spans == [] and all(f.first_seen_s is None for r in old.rules for f in r.findings)
    assert all(f["seen_by_a_newer_version"] for r in old.to_json()["rules"] for f in r["findings"])
    assert "Findings timeline" not in render_markdown(contract_document(old))


def test_the_report_lists_findings_in_the_order_first_seen_with_their_pass() -> None:
    result = timed_result()
    document = contract_document(result)
    section = next(s for s in document.sections if s.title == "Findings timeline")
    assert section.anchor == "timeline" and not section.console
    text = render_markdown(document)
    part = text.split("## Findings timeline", 1)[1].split("\n## ", 1)[0]
    times = [float(t) for t in re.findall(r"^\| ([\d.]+) \|", part, re.M)]
    assert times == sorted(times) and len(times) == sum(len(r.findings) for r in result.rules)
    assert re.search(r"^\| 0\.400 \| property/positive \| \[`[a-z-]+`\]\(#rule-", part, re.M), part
    assert re.search(r"^\| 6\.000 \| property/negative \|", part, re.M), part
    # Per pass: its span, its requests and how many findings it saw first.
    assert "| property/positive | 0.000 | 4.500 | 500 |" in part
    assert "| property/negative | 4.500 | 12.300 | 312 |" in part
    page = render_html(document)
    assert 'id="timeline"' in page and '<a href="#rule-' in page.split('id="timeline"', 1)[1]


def test_the_html_timeline_draws_each_finding_in_its_pass() -> None:
    """One dot a finding at its time, inside the band of the pass then running, its rule named beside it."""
    result = timed_result()
    section = next(s for s in contract_document(result).sections if s.title == "Findings timeline")
    chart = section.blocks[0]
    assert isinstance(chart, Chart)
    root = ET.fromstring(chart.svg)
    bands = [(float(r.get("x") or 0), float(r.get("x") or 0) + float(r.get("width") or 0))
             for r in root.iter(f"{_SVG}rect") if r.get("class") == "span"]
    dots = [float(c.get("cx") or 0) for c in root.iter(f"{_SVG}circle")]
    assert len(bands) == 2 and len(dots) == sum(len(r.findings) for r in result.rules)
    assert sorted(dots)[0] < bands[0][1] < sorted(dots)[-1] <= bands[1][1]
    texts = {t.text for t in root.iter(f"{_SVG}text")}
    assert {"property/positive", "property/negative", "no-server-error", "entity-order"} <= texts
