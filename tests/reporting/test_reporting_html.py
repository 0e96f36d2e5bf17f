"""report.html: self-contained, escaped, a class per outcome, findings in <details>."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from reporting_builders import build, finding

from coupon_harness.contract import get_rule
from coupon_harness.reporting import render_html, write_html
from coupon_harness.results import ContractRunResult, Outcome, RuleResult

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


def test_script_in_a_received_value_is_escaped() -> None:
    hostile = finding("error-body", "html", "empty, JSON or XML", "<script>alert('x')</script>", status=400)
    warned = RuleResult(get_rule("error-body"), Outcome.WARNED, 1, [hostile])
    document = render_html(build({"error-body": warned}))
    assert "<script" not in document.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in document
    assert "script" not in {tag for tag, _ in _parse(document).tags}


def test_self_contained(failed_result: ContractRunResult) -> None:
    document = render_html(failed_result)
    tags = _parse(document).tags
    assert {tag for tag, _ in tags}.isdisjoint({"script", "link", "img", "iframe"})
    assert not any("src" in attrs for _, attrs in tags)
    links = [attrs.get("href") or "" for tag, attrs in tags if tag == "a"]
    assert links and all(link.startswith("#") for link in links)
    assert "<style>" in document and "@import" not in document


def test_a_class_per_outcome_and_details_per_finding(failed_result: ContractRunResult) -> None:
    tags = _parse(render_html(failed_result)).tags
    row_classes = [attrs.get("class") for tag, attrs in tags if tag == "tr" and attrs.get("class")]
    assert (row_classes.count("passed"), row_classes.count("failed")) == (17, 2)
    assert (row_classes.count("warned"), row_classes.count("not-run")) == (1, 4)
    assert sum(tag == "details" for tag, _ in tags) == 4  # 1 + 2 failed findings, 1 warned


def test_content(failed_result: ContractRunResult) -> None:
    document = render_html(failed_result)
    assert "<h1>❌ 2 rules violated (1 critical)</h1>" in document
    assert 'id="rule-entity-order"' in document and 'href="#rule-entity-order"' in document
    assert "curl -X POST -H &#x27;Content-Type: application/json&#x27;" in document
    assert "coupon-harness contract --seed 11" in document
    assert "needs --invalid-series-ids | none given" in document
    assert "rules were not run</strong> and are not counted as passed" in document


def test_verdicts(passed_result: ContractRunResult, interrupted_result: ContractRunResult) -> None:
    assert '<header class="verdict holds"><h1>✅ contract holds</h1>' in render_html(passed_result)
    interrupted = render_html(interrupted_result)
    assert "(interrupted: partial results)</h1>" in interrupted
    assert "The run was interrupted" in interrupted


def test_write(passed_result: ContractRunResult, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write_html(passed_result, path)
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
