"""The baseline of known findings as data: its file, its matching, what is fixed, and what the Replay line says."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from coupon_harness.contract.catalog import RuleId, rules
from coupon_harness.errors import ConfigError
from coupon_harness.reporting.contract.common import replay_command
from coupon_harness.reporting.contract.summary_json import write_summary_json
from coupon_harness.reporting.stored import read_stored
from coupon_harness.results.baseline import Baseline, BaselineEntry, apply_baseline, updated_baseline
from coupon_harness.results.contract import (
    BaselineStatus,
    ContractRunResult,
    Finding,
    Outcome,
    ReplayInfo,
    RequestSample,
    RuleResult,
    RunShape,
    fingerprint,
)

TODAY = date(2026, 12, 1)
_REQUEST = RequestSample("POST", "http://127.0.0.1:1/v2/coupon/bulk/issue",
                         (("Content-Type", "application/json"), ("Authorization", "Basic <redacted>")),
                         '{"seriesIds":[101],"customer":{"id":"ch-0123456789-1"}}')


def _finding(rule_id: str, key: str, probe: str | None = None, customer: str = "c1") -> Finding:
    request = replace(_REQUEST, body=_REQUEST.body.replace("ch-0123456789-1", customer) if _REQUEST.body else None)
    return Finding(rule_id=rule_id, key=key, expected="x", received=f"y for {customer}", request=request,
                   response_status=500, response_excerpt="", source="classics" if probe else "scenario/mixed-batch",
                   seed=1, probe=probe and probe.replace(" in ", ": 65 characters in "), probe_class=probe,
                   sequence=[_REQUEST] if rule_id == RuleId.UNIQUE_CODES else [],
                   replay=ReplayInfo((200,), RuleId.ACCEPTS_WELL_FORMED, issue_call=True, fresh_customer=True))


def _result(*findings: Finding, interrupted: bool = False, not_run: tuple[str, ...] = (),
            passes: tuple[str, ...] = ("classics", "scenarios")) -> ContractRunResult:
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule_id, []).append(finding)
    results = []
    for rule in rules():
        found = by_rule.get(rule.id, [])
        outcome = (Outcome.NOT_RUN if rule.id in not_run else Outcome.FAILED if found and rule.severity.fails_gate
                   else Outcome.WARNED if found else Outcome.PASSED)
        results.append(RuleResult(rule, outcome, 0 if rule.id in not_run else 10, found))
    return ContractRunResult(target="http://127.0.0.1:1", started_at="2026-12-01T05:00:00+00:00", duration_s=1.0,
                             seed=1, requests=10, rules=results, interrupted=interrupted,
                             passes=[(name, 5) for name in passes],
                             shape=RunShape("http://127.0.0.1:1", series_ids=(101, 102), credentials="basic"))


SERVER_ERROR = ("no-server-error", "status-500", "string length in customer.id")
DUPLICATE = ("unique-codes", "across-customers", None)


def test_a_fingerprint_is_the_rule_kind_and_probe_class_never_the_request() -> None:
    one, other = _finding(*SERVER_ERROR, customer="c1"), _finding(*SERVER_ERROR, customer="c2")
    assert one.fingerprint == other.fingerprint == fingerprint(*SERVER_ERROR)
    assert len(one.fingerprint) == 12 and int(one.fingerprint, 16) >= 0
    assert fingerprint("no-server-error", "status-500", "array size in seriesIds") != one.fingerprint
    assert fingerprint("no-server-error", "status-502", SERVER_ERROR[2]) != one.fingerprint
    # A rule about a 200's body breaks alike whichever probe drew the answer: the probe is left out.
    assert fingerprint("unique-codes", "across-customers", "headers: Accept */*") == fingerprint(*DUPLICATE)


def test_known_new_and_fixed(tmp_path: Path) -> None:
    baseline = Baseline([BaselineEntry.from_finding(_finding(*SERVER_ERROR), TODAY),
                         BaselineEntry.from_finding(_finding("total-count", "vs-entries"), TODAY)])
    result = _result(_finding(*SERVER_ERROR, customer="other"), _finding(*DUPLICATE))
    summary = apply_baseline(result, baseline, "b.json", TODAY)
    by_id = {r.rule.id: r for r in result.rules}
    assert by_id["no-server-error"].outcome is Outcome.KNOWN
    assert by_id["no-server-error"].findings[0].baseline is BaselineStatus.KNOWN
    assert by_id["unique-codes"].outcome is Outcome.FAILED
    assert by_id["unique-codes"].findings[0].baseline is BaselineStatus.NEW
    assert not result.holds  # the new one fails the gate
    assert [entry.rule_id for entry in summary.fixed] == ["total-count"]  # exercised (10 checks), not seen
    assert summary.warnings == []


def test_only_known_findings_hold_the_gate() -> None:
    baseline = Baseline([BaselineEntry.from_finding(_finding(*SERVER_ERROR), TODAY)])
    result = _result(_finding(*SERVER_ERROR))
    apply_baseline(result, baseline, "b.json", TODAY)
    assert result.holds and not result.failed


def test_an_expired_entry_counts_as_new_with_a_warning() -> None:
    entry = BaselineEntry.from_finding(_finding(*SERVER_ERROR), TODAY)
    entry.expires = "2026-11-30"
    result = _result(_finding(*SERVER_ERROR))
    summary = apply_baseline(result, Baseline([entry]), "b.json", TODAY)
    assert not result.holds
    assert result.rules[0].findings[0].baseline is BaselineStatus.EXPIRED
    assert summary.warnings and "expired on 2026-11-30" in summary.warnings[0] and entry.id in summary.warnings[0]
    entry.expires = "2026-12-01"  # the last day it holds
    result = _result(_finding(*SERVER_ERROR))
    assert apply_baseline(result, Baseline([entry]), "b.json", TODAY).warnings == [] and result.holds


@pytest.mark.parametrize("how", ["not run", "interrupted", "classics did not run"])
def test_an_entry_not_exercised_is_never_fixed(how: str) -> None:
    baseline = Baseline([BaselineEntry.from_finding(_finding(*SERVER_ERROR), TODAY)])
    result = _result(not_run=("no-server-error",) if how == "not run" else (), interrupted=how == "interrupted",
                     passes=("scenarios",) if how == "classics did not run" else ("classics", "scenarios"))
    assert apply_baseline(result, baseline, "b.json", TODAY).fixed == []


def test_update_accepts_the_new_keeps_the_known_and_drops_the_fixed(tmp_path: Path) -> None:
    known = BaselineEntry.from_finding(_finding(*SERVER_ERROR), date(2026, 1, 1))
    known.description, known.expires = "accepted until the DB migration", "2027-01-01"
    fixed = BaselineEntry.from_finding(_finding("total-count", "vs-entries"), date(2026, 1, 1))
    unexercised = BaselineEntry.from_finding(_finding("invalid-series-refused", "coupon"), date(2026, 1, 1))
    result = _result(_finding(*SERVER_ERROR), _finding(*DUPLICATE), not_run=("invalid-series-refused",))
    written = updated_baseline(result, Baseline([known, fixed, unexercised]), TODAY)
    by_id = written.by_id()
    assert set(by_id) == {known.id, unexercised.id, fingerprint(*DUPLICATE)}
    assert (by_id[known.id].description, by_id[known.id].accepted, by_id[known.id].expires,
            by_id[known.id].last_seen) == ("accepted until the DB migration", "2026-01-01", "2027-01-01", "2026-12-01")
    new = by_id[fingerprint(*DUPLICATE)]
    assert (new.accepted, new.rule, new.kind, new.probe) == ("2026-12-01", "unique-codes", "across-customers", None)
    path = tmp_path / "baseline.json"
    written.save(path)
    again = Baseline.load(path)
    assert sorted(e.to_dict()["id"] for e in again.entries) == sorted(by_id)
    assert again.by_id()[known.id].to_dict() == by_id[known.id].to_dict()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format_version"] == 1 and {"id", "rule", "kind", "probe", "description", "accepted", "first_seen",
                                            "last_seen", "expires", "operation"} <= set(data["entries"][0])


def test_keys_it_does_not_know_are_kept_and_an_id_alone_is_enough(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"format_version": 1, "entries": [
        {"id": fingerprint(*SERVER_ERROR), "rule": "no-server-error", "ticket": "JIRA-123"}]}), encoding="utf-8")
    baseline = Baseline.load(path)
    assert baseline.entries[0].extra == {"ticket": "JIRA-123"}
    result = _result(_finding(*SERVER_ERROR))
    apply_baseline(result, baseline, str(path), TODAY)
    assert result.holds
    assert "JIRA-123" in baseline.dumps()


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file; create it from a run with --baseline-update"),
    ("{not json", "not JSON"),
    ('{"entries": []}', "format_version 1"),
    ('{"format_version": 1, "entries": {}}', "entries must be a list"),
    ('{"format_version": 1, "entries": [{"rule": "no-server-error"}]}', "needs a string 'id'"),
    ('{"format_version": 1, "entries": [{"id": "abc", "rule": "no-such-rule"}]}', "is not a rule of the contract"),
    ('{"format_version": 1, "entries": [{"id": "abc", "rule": "transport", "kind": "timeout"}]}',
     "is not the fingerprint of rule transport"),
    ('{"format_version": 1, "entries": [{"id": "abc", "rule": "transport", "expires": "next week"}]}',
     "expires must be a date YYYY-MM-DD"),
    ('{"format_version": 1, "entries": [{"id": "abc", "rule": "transport"}, {"id": "abc", "rule": "transport"}]}',
     "listed twice"),
])
def test_a_bad_file_is_one_line_naming_the_fix(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "b.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Baseline.load(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_summary_json_keeps_what_replay_needs(tmp_path: Path) -> None:
    result = _result(_finding(*SERVER_ERROR), _finding(*DUPLICATE))
    apply_baseline(result, Baseline([BaselineEntry.from_finding(_finding(*SERVER_ERROR), TODAY)]), "b.json", TODAY)
    path = tmp_path / "summary.json"
    write_summary_json(result, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    duplicate = next(f for r in data["rules"] for f in r["findings"] if f["rule_id"] == "unique-codes")
    assert duplicate["id"] == fingerprint(*DUPLICATE) and duplicate["baseline"] == "new"
    assert duplicate["sequence"][0]["body"] == _REQUEST.body
    assert duplicate["judged"] == {"statuses": [200], "status_rule": "accepts-well-formed", "warn": [],
                                   "warn_rule": None, "issue_call": True, "fresh_customer": True}
    assert data["baseline"]["new"] == [fingerprint(*DUPLICATE)]
    assert data["baseline"]["known"] == [fingerprint(*SERVER_ERROR)]
    assert data["run"]["series_ids"] == [101, 102] and data["run"]["credentials"] == "basic"
    assert data["counts"]["known"] == 1
    back = read_stored(path, ContractRunResult)
    assert back == result


def test_the_replay_line_is_the_whole_command_with_credentials_as_references() -> None:
    shape = RunShape("https://staging.example.com", series_ids=(101, 102), invalid_series_ids=(999,),
                     generic_series_ids=(104,), customer_ids=("c 1", "c2"), max_examples=20, request_timeout=2.5,
                     credentials="basic-md5", allow_production=True)
    assert replay_command(7, shape) == (
        "coupon-harness contract --base-url https://staging.example.com --series-ids 101,102 "
        "--invalid-series-ids 999 --generic-series-ids 104 --customer-ids 'c 1,c2' "
        '--user "${COUPON_HARNESS_USER}" --md5-password --max-examples 20 --request-timeout 2.5 '
        "--allow-production --seed 7")
    assert '--token "${COUPON_HARNESS_TOKEN}"' in replay_command(1, replace(shape, credentials="token"))
    oauth = replay_command(1, replace(shape, credentials="oauth"))
    assert '--oauth-key "${COUPON_HARNESS_OAUTH_KEY}" --oauth-secret "${COUPON_HARNESS_OAUTH_SECRET}"' in oauth
    assert replay_command(3) == "coupon-harness contract --seed 3"
