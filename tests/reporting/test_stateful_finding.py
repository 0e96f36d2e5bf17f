"""A stateful finding's sequence as reports keep it: how each earlier request was judged survives summary.json (and
so replay and the exported tests), the curl comments each step with what it must be answered, and a step that must
be refused 401 is sent without credentials (its own made-up ones are redacted like the user's)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.reporting.reporting_builders import build, request

from coupon_harness.contract.catalog import get_rule
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.violations import Violation
from coupon_harness.reporting.contract.summary_json import write_summary_json
from coupon_harness.reporting.stored import read_stored
from coupon_harness.results.codec import decode, encode
from coupon_harness.results.contract import ContractRunResult, Finding, Outcome, ReplayInfo, RuleResult, step_note
from coupon_harness.runners.contract.collector import Collector, ScratchCollector

UNAUTHORIZED = ReplayInfo((401,), "auth-required")
MALFORMED = ReplayInfo((400,), "rejects-malformed")
ISSUE = ReplayInfo((200,), "accepts-well-formed", issue_call=True, fresh_customer=True)


def _finding() -> Finding:
    body = '{"seriesIds":[103],"customer":{"id":"ch-0123456789-4"}}'
    unauthorized = replace(request(body), headers=(("Content-Type", "application/json"),
                                                   ("Authorization", "Basic <redacted>")))
    return Finding(rule_id="valid-series-issues", key="refused", expected="a coupon",
                   received="series 103 answered errors 5002", request=request(body), response_status=200,
                   response_excerpt="{}", source="stateful", seed=7, probe="stateful sequence of 3 requests",
                   probe_class="stateful sequence", sequence=[unauthorized, request('{"seriesIds": [103, "x"]}')],
                   sequence_judged=[UNAUTHORIZED, MALFORMED], replay=ISSUE)


def test_how_each_step_was_judged_survives_summary_json(tmp_path: Path) -> None:
    finding = _finding()
    assert decode(Finding, encode(finding)).sequence_judged == [UNAUTHORIZED, MALFORMED]
    result = build({"valid-series-issues": RuleResult(get_rule("valid-series-issues"), Outcome.FAILED, 3,
                                                      [finding])})
    write_summary_json(result, tmp_path / "summary.json")
    back = next(f for r in read_stored(tmp_path / "summary.json", ContractRunResult).rules for f in r.findings)
    assert back.sequence_judged == finding.sequence_judged and back.fingerprint == finding.fingerprint
    # A record of an older version has no sequence_judged: its earlier requests are bulk issues.
    data = encode(finding)
    del data["sequence_judged"]
    assert decode(Finding, data).sequence_judged == []


def test_the_curl_comments_each_step_and_sends_a_401_step_without_credentials() -> None:
    script = _finding().curl
    assert script is not None
    lines = script.splitlines()
    assert lines[0] == f"# 1 of 3: {step_note(UNAUTHORIZED)}" and "Authorization" not in lines[1]
    assert "$COUPON_HARNESS_USER" not in lines[1]
    assert lines[2] == f"# 2 of 3: {step_note(MALFORMED)}" and '-u "$COUPON_HARNESS_USER"' in lines[3]
    assert lines[4] == "# 3 of 3: breaks valid-series-issues: series 103 answered errors 5002"
    assert '-u "$COUPON_HARNESS_USER"' in lines[5]
    assert step_note(ISSUE).startswith("a bulk issue: answered 200, a coupon for each valid series")


def test_a_scratch_collector_keeps_its_findings_and_counts_in_the_run_s() -> None:
    run = Collector(7, 4)
    scratch = ScratchCollector(run)
    scratch.sent(transport_ok=True)
    scratch.checked(["total-count"])
    scratch.record(Violation("total-count", "vs-entries", "1", "2"), request(), 200, "{}", "stateful")
    assert run.requests == 1 and not run.findings and len(scratch.findings) == 1
    assert next(r for r in run.rule_results(Expectations()) if r.rule.id == "total-count").checks == 1
    for _ in range(4):
        scratch.sent(transport_ok=False)
    assert run.stopped is not None  # four transport failures in a row stop the run, whichever collector saw them


def test_record_takes_the_steps_it_is_given() -> None:
    run = Collector(7, 4)
    finding = _finding()
    run.record(Violation(finding.rule_id, finding.key, finding.expected, finding.received), finding.request, 200,
               "{}", "stateful", finding.probe, finding.probe_class,
               steps=(ISSUE, finding.sequence, finding.sequence_judged))
    kept = run.findings[0]
    assert (kept.sequence, kept.sequence_judged, kept.replay) == (finding.sequence, finding.sequence_judged, ISSUE)
