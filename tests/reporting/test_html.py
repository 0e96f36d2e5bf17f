"""report.html (the HTML renderer over a contract run's Document): self-contained, escaped, a class per outcome,
findings in <details>. The page as a whole is in the snapshots (test_snapshots.py)."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from pathlib import Path

from tests.reporting.reporting_builders import PROBE, TRACEBACK, build, fault, finding

from coupon_harness.contract.catalog import get_rule, rules
from coupon_harness.reporting.contract.document import contract_document, write_contract_reports
from coupon_harness.reporting.render import html as html_renderer
from coupon_harness.reporting.render.html import mark as html_mark
from coupon_harness.results.contract import ContractRunResult, Outcome, RuleResult

_VOID = {"meta", "br", "hr", "img", "input", "link"}


class _Balance(HTMLParser):
    """Records every start tag and fails on a closing tag that does not match the open one."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in _VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()


def _parse(document: str) -> _Balance:
    parser = _Balance()
    parser.feed(document)
    parser.close()
    assert parser.open == []
    return parser


def render_html(result: ContractRunResult) -> str:
    return html_renderer.render_html(contract_document(result))


def test_script_in_a_received_value_is_escaped() -> None:
    hostile = finding("error-body", "html", "empty, JSON or XML", "<script>alert('x')</script>", status=400)
    warned = RuleResult(get_rule("error-body"), Outcome.WARNED, 1, [hostile])
    document = render_html(build({"error-body": warned}))
    assert document.count(html_renderer.COPY_SCRIPT) == 1  # the page's one script: its copy buttons
    assert "<script" not in document.replace(html_renderer.COPY_SCRIPT, "").lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in document
    assert "script" not in {tag for tag, _ in _parse(document.replace(html_renderer.COPY_SCRIPT, "")).tags}


def test_self_contained(failed_result: ContractRunResult) -> None:
    document = render_html(failed_result)
    tags = _parse(document).tags
    assert [attrs for tag, attrs in tags if tag == "script"] == [{}]  # the inline copy script, no src
    assert {tag for tag, _ in tags}.isdisjoint({"link", "img", "iframe"})
    assert not any("src" in attrs for _, attrs in tags)
    links = [attrs.get("href") or "" for tag, attrs in tags if tag == "a"]
    assert links and all(link.startswith("#") for link in links)
    assert "<style>" in document and "@import" not in document


def test_a_class_per_outcome_and_details_per_finding(failed_result: ContractRunResult) -> None:
    tags = _parse(render_html(failed_result)).tags
    row_classes = [attrs.get("class") for tag, attrs in tags if tag == "tr" and attrs.get("class")]
    assert (row_classes.count("pass"), row_classes.count("fail")) == (len(rules()) - 7, 2)
    assert (row_classes.count("warn"), row_classes.count("skip")) == (1, 4)
    findings = [attrs for tag, attrs in tags if tag == "details" and attrs.get("class") == "finding"]
    assert len(findings) == 4  # 1 + 2 failed findings, 1 warned
    assert ["open" in finding for finding in findings] == [True, True, False, True]  # the first of each rule


def test_content(failed_result: ContractRunResult) -> None:
    document = render_html(failed_result)
    assert f"<h1>{html_mark('fail')} 2 rules violated (1 critical)</h1>" in document
    assert 'id="rule-entity-order"' in document and 'href="#rule-entity-order"' in document
    assert "curl -X POST -H &#x27;Content-Type: application/json&#x27;" in document
    assert "coupon-harness contract --seed 11" in document
    assert "needs --invalid-series-ids | none given" in document
    assert '4 rules not run</strong> and not counted as passed: see <a href="#not-run">' in document
    assert 'id="not-run"' in document


def test_verdicts(passed_result: ContractRunResult, interrupted_result: ContractRunResult) -> None:
    assert f'<header class="verdict pass"><h1>{html_mark("pass")} contract holds</h1>' in render_html(passed_result)
    interrupted = render_html(interrupted_result)
    assert "(interrupted: partial results)</h1>" in interrupted
    assert "The run was interrupted" in interrupted


def test_write(passed_result: ContractRunResult, tmp_path: Path) -> None:
    path = write_contract_reports(passed_result, tmp_path)["report.html"]
    assert path.read_text(encoding="utf-8") == render_html(passed_result)


def test_harness_error_under_the_verdict(faulted_result: ContractRunResult) -> None:
    document = render_html(faulted_result)
    tags = _parse(document).tags
    verdict = (f'<header class="verdict error"><h1>{html_mark("error")} harness error in 1 pass; '
               "3 rules violated (1 critical)</h1>")
    assert verdict in document
    start = document.index('<p class="banner error">')
    assert document.index(verdict) < start < document.index('<dl class="meta">')
    assert ("<strong>Harness error in pass &#x27;scenarios&#x27;</strong> (a bug in coupon-harness, not a "
            "finding): <code>TypeError: Integer exceeds 64-bit range</code>; traceback in "
            '<a href="harness-error-scenarios.txt"><code>harness-error-scenarios.txt</code></a>; '
            "seed <code>7</code>.") in document
    assert html.escape(TRACEBACK) in document[start:]
    links = [attrs.get("href") or "" for tag, attrs in tags if tag == "a"]
    assert [link for link in links if not link.startswith("#")] == ["harness-error-scenarios.txt"]


def test_probe_and_first_finding(faulted_result: ContractRunResult) -> None:
    document = render_html(faulted_result)
    assert "<dt>First finding</dt><dd>after 0.4 s (property/negative)</dd>" in document
    assert (f"<dt>probe</dt><dd><pre><code>{PROBE}</code></pre></dd>"
            "<dt>expected</dt><dd><pre><code>400 Bad Request</code></pre></dd>") in document
    assert document.count("<dt>probe</dt>") == 1


def test_a_hostile_fault_is_escaped() -> None:
    result = build()
    result.faults = [fault("<b>scenarios</b>", "ValueError: <script>x</script>", "<script>y</script>")]
    document = render_html(result).replace(html_renderer.COPY_SCRIPT, "")  # the page's own script aside
    assert "<script" not in document.lower() and "<b>" not in document
    assert "&lt;script&gt;y&lt;/script&gt;" in document
    assert 'class="verdict error"' in document and "no rule violated in what ran" in document


def test_one_stylesheet_for_every_page(failed_result: ContractRunResult) -> None:
    from coupon_harness.reporting.diff.document import diff_document
    from coupon_harness.results.diff import DiffRunResult

    diff = html_renderer.render_html(diff_document(DiffRunResult("http://a", "http://b", "t", 1.0, 1, 0)))
    styles = {page[page.index("<style>"):page.index("</style>")] for page in (render_html(failed_result), diff)}
    assert styles == {f"<style>{html_renderer.STYLESHEET}"}
