"""report.md (the Markdown renderer over a contract run's Document): the verdict line of each case, the rules
table, sections with curl, escaping. The report as a whole is in the snapshots (test_snapshots.py)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from tests.reporting.reporting_builders import INVALID_REASON, PROBE, TRACEBACK, build, failed_overrides, finding

from coupon_harness.contract.catalog import get_rule, rules
from coupon_harness.reporting.contract.document import contract_document, write_contract_reports
from coupon_harness.reporting.render import markdown as markdown_renderer
from coupon_harness.results.contract import ContractRunResult, Outcome, RuleResult

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def render_markdown(result: ContractRunResult) -> str:
    return markdown_renderer.render_markdown(contract_document(result))


def _row(markdown: str, rule_id: str) -> str:
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and f"`{rule_id}`" in line]
    assert len(rows) == 1
    return rows[0]


def test_verdict_passed(passed_result: ContractRunResult) -> None:
    assert render_markdown(passed_result).splitlines()[0] == "## coupon-harness contract: ✅ contract holds"


def test_verdict_failed(failed_result: ContractRunResult) -> None:
    first = render_markdown(failed_result).splitlines()[0]
    assert first == "## coupon-harness contract: ❌ 2 rules violated (1 critical)"


def test_verdict_one_rule(make_one_failed: ContractRunResult) -> None:
    first = render_markdown(make_one_failed).splitlines()[0]
    assert first == "## coupon-harness contract: ❌ 1 rule violated"


def test_verdict_warned_still_holds(warned_result: ContractRunResult) -> None:
    markdown = render_markdown(warned_result)
    assert markdown.splitlines()[0] == "## coupon-harness contract: ✅ contract holds"
    assert "#### ⚠️ `error-body`: Error bodies leak no stack trace" in markdown
    assert "**warning** (does not fail the gate)" in markdown


def test_verdict_interrupted(interrupted_result: ContractRunResult) -> None:
    markdown = render_markdown(interrupted_result)
    assert markdown.splitlines()[0] == (
        "## coupon-harness contract: ❌ 2 rules violated (1 critical) (interrupted: partial results)")
    assert "**The run was interrupted**" in markdown
    interrupted_holding = build(interrupted=True)
    assert render_markdown(interrupted_holding).splitlines()[0].endswith(
        "✅ contract holds (interrupted: partial results)")


def test_run_facts(failed_result: ContractRunResult) -> None:
    markdown = render_markdown(failed_result)
    assert "- **Target:** `http://127.0.0.1:8080`\n- **Seed:** `7`\n- **Duration:** 12.3 s" in markdown
    assert "- **Requests:** 812" in markdown
    assert f"✅ {len(rules()) - 7} passed · ❌ 2 failed · ⚠️ 1 warned · ⏭️ 4 not run" in markdown


def test_table_has_every_rule_with_its_outcome(failed_result: ContractRunResult) -> None:
    markdown = render_markdown(failed_result)
    for rule in rules():
        assert len(_UNESCAPED_PIPE.split(_row(markdown, rule.id))) == 8  # 6 cells between 7 pipes
    assert _row(markdown, "no-server-error").startswith("| ❌ failed |")
    assert _row(markdown, "error-body").startswith("| ⚠️ warned |")
    assert _row(markdown, "transport").startswith("| ✅ passed |")
    not_run = _row(markdown, "unique-codes")
    assert not_run.startswith("| ⏭️ not run |") and "✅" not in not_run


def test_pipes_are_escaped_in_cells(failed_result: ContractRunResult) -> None:
    overrides = failed_overrides()
    overrides["transport"] = RuleResult(
        dataclasses.replace(get_rule("transport"), id="trans|port", title="Answers | every request"),
        Outcome.PASSED, 3)
    markdown = render_markdown(build(overrides))
    row = _row(markdown, "trans\\|port")
    assert "Answers \\| every request" in row
    assert len(_UNESCAPED_PIPE.split(row)) == 8
    reason_row = _row(markdown, "invalid-series-refused")
    assert INVALID_REASON.replace("|", "\\|") in reason_row
    assert len(_UNESCAPED_PIPE.split(reason_row)) == 8


def test_sections_most_severe_first_with_curl(failed_result: ContractRunResult) -> None:
    markdown = render_markdown(failed_result)
    critical = markdown.index("#### ❌ `no-server-error`: Never a 5xx")
    error = markdown.index("#### ❌ `entity-order`: Entities answer the request in order")
    warning = markdown.index("#### ⚠️ `error-body`")
    assert critical < error < warning
    section = markdown[critical:error]
    assert "- **expected:** `a status below 500`" in section
    assert "- **received:** `500 Internal Server Error`" in section
    assert "```sh\ncurl -X POST -H 'Content-Type: application/json'" in section
    assert "3 occurrences · found in `property/negative`" in section
    assert "- **replay:** `coupon-harness contract --seed 11`" in section
    later = markdown[error:warning]
    assert "<details><summary>Finding 2/2: order-tail · 1 occurrence · found in scenario/mixed-batch" in later
    assert "_No request recorded for this finding._" in later


def test_not_run_listed_with_reason(failed_result: ContractRunResult) -> None:
    markdown = render_markdown(failed_result)
    not_run = markdown[markdown.index("### Not run"):]
    assert "- `valid-series-issues` A valid series yields a coupon: needs --series-ids" in not_run
    assert "**4 rules not run** and not counted as passed: see [Not run](#not-run)" in markdown


def test_values_with_backticks_and_lines() -> None:
    overrides = {"code-non-empty": RuleResult(get_rule("code-non-empty"), Outcome.FAILED, 2, [
        finding("code-non-empty", "blank", "a non-empty `code`", "line one\n```\nline three"),
    ])}
    markdown = render_markdown(build(overrides))
    assert "- **expected:** `` a non-empty `code` ``" in markdown
    assert "  ````text\n  line one\n  ```\n  line three\n  ````" in markdown


def test_many_findings_stay_folded() -> None:
    findings = [finding("entity-order", f"k{n}", "x", f"received {n}") for n in range(30)]
    markdown = render_markdown(build({"entity-order": RuleResult(get_rule("entity-order"), Outcome.FAILED, 30,
                                                                 findings)}))
    before, folded = markdown.split("<details><summary>Finding 2/30", 1)
    assert before.count("```sh") == 1 and folded.count("```sh") == 29
    assert folded.count("<details>") == 28 and folded.count("</details>") == 29
    assert "<details><summary>Finding 30/30: k29 · " in folded


def test_write(failed_result: ContractRunResult, tmp_path: Path) -> None:
    path = write_contract_reports(failed_result, tmp_path)["report.md"]
    assert path.read_text(encoding="utf-8") == render_markdown(failed_result)


def test_harness_error_right_under_the_headline(faulted_result: ContractRunResult) -> None:
    lines = render_markdown(faulted_result).splitlines()
    assert lines[0] == "## coupon-harness contract: 🛑 harness error in 1 pass; 3 rules violated (1 critical)"
    assert lines[2].startswith(f"{len(rules())} rules: ")
    assert lines[4] == (
        "> 🛑 **Harness error in pass 'scenarios'** (a bug in coupon-harness, not a finding): "
        "`TypeError: Integer exceeds 64-bit range`; traceback in "
        "[`harness-error-scenarios.txt`](harness-error-scenarios.txt); seed `7`. "
        "The other passes ran; the rules are judged on what ran.")
    markdown = "\n".join(lines)
    details = markdown[markdown.index("<details><summary>Traceback of pass &#x27;scenarios&#x27; "
                                      "(harness-error-scenarios.txt)</summary>"):]
    assert details.index(TRACEBACK.rstrip("\n")) < details.index("</details>")


def test_probe_and_first_finding(faulted_result: ContractRunResult) -> None:
    markdown = render_markdown(faulted_result)
    assert "- **First finding:** after 0.4 s (property/negative)\n" in markdown
    section = markdown[markdown.index("#### ❌ `rejects-malformed`"):]
    assert (f"- **probe:** `{PROBE}`\n- **expected:** `400 Bad Request`\n- **received:** `200 OK`"
            in section)
    assert "**probe:**" not in markdown.replace(f"- **probe:** `{PROBE}`", "")  # only the labelled finding


def test_no_fault_no_error_mark(failed_result: ContractRunResult) -> None:
    markdown = render_markdown(failed_result)
    assert "🛑" not in markdown and "Harness error" not in markdown and "First finding" not in markdown


def test_the_variables_the_curls_read_are_named_once_above_them(failed_result: ContractRunResult) -> None:
    """Issue 18: the curls carry `"$COUPON_HARNESS_USER"`, never a credential; the report says what to set."""
    from coupon_harness.results.contract import RunShape

    assert "HARNESS\\_USER (USER:PASSWORD" not in render_markdown(failed_result)  # no credentials: nothing
    with_user = dataclasses.replace(failed_result, shape=RunShape(base_url=failed_result.target, credentials="basic"))
    markdown = render_markdown(with_user)
    section = markdown[markdown.index("Violations and warnings"):]
    assert section.index("$COUPON\\_HARNESS\\_USER (USER:PASSWORD") < section.index("```sh\ncurl")
    assert markdown.count("The curl commands read the credentials") == 1
    oauth = render_markdown(dataclasses.replace(failed_result, shape=RunShape(base_url="x", credentials="oauth")))
    assert "set COUPON\\_HARNESS\\_TOKEN to a token" in oauth


def test_curls_of_a_sandbox_run_started_say_how_to_serve_it_again(failed_result: ContractRunResult) -> None:
    """Issue 18: `run` stops the sandbox it started; its curls name that port, so the report says how to serve a
    sandbox there again, and its Replay line starts a new one instead of naming the port."""
    from coupon_harness.results.contract import RunShape

    shape = RunShape(base_url="http://127.0.0.1:41234", series_ids=(101,), credentials="basic", sandbox_started=True)
    markdown = render_markdown(dataclasses.replace(failed_result, shape=shape))
    section = markdown[markdown.index("Violations and warnings"):]
    assert section.index("`coupon-harness serve --port 41234`") < section.index("```sh\ncurl")
    assert "`coupon-harness run --no-load --series-ids 101 --seed " in markdown
    assert "contract --base-url http://127.0.0.1:41234" not in markdown and '--user "' not in markdown
    plain = render_markdown(dataclasses.replace(failed_result, shape=dataclasses.replace(shape, sandbox_started=False)))
    assert "serve --port" not in plain and "`coupon-harness contract --base-url http://127.0.0.1:41234" in plain
