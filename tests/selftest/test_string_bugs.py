"""The strings pass: each server that breaks on one class of string is caught under every seed, the finding
naming the class; the plain sandbox passes with no finding under every seed, within the pass's budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from coupon_harness.cli.main import main
from coupon_harness.results.contract import Outcome
from coupon_harness.runners.contract.strings import MOST
from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.server import running_sandbox
from selftest.harness import SEEDS, describe, rule, run_against_sandbox
from targets.broken import Broken, server_error_on_long_customer_id
from targets.broken_strings import BROKEN_STRINGS, STRINGS, sql_quote_500


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", BROKEN_STRINGS, ids=[v.name for v in BROKEN_STRINGS])
def test_string_bug_is_caught_naming_its_class(variant: Broken, seed: int) -> None:
    result = run_against_sandbox(mutate=variant.mutate(), before=variant.before, passes=variant.passes,
                                 max_examples=20, seed=seed, **variant.settings)
    report = describe(result)
    named = rule(result, variant.rule)
    assert named.outcome is Outcome.FAILED, report
    assert result.holds is False, report
    assert variant.probe in {f.probe for f in named.findings}, report
    finding = next(f for f in named.findings if f.probe == variant.probe)
    assert finding.seed == seed and finding.source == "strings", report
    if variant.rule != "transport":
        assert finding.request is not None and "/v2/coupon/bulk/issue" in finding.request.curl, report
    # Every string of one class that meets the bug is one finding.
    assert sum(1 for f in named.findings if f.probe == variant.probe) == 1, report


@pytest.mark.parametrize("seed", SEEDS)
def test_the_sandbox_passes_the_strings_pass(seed: int) -> None:
    result = run_against_sandbox(passes=STRINGS, max_examples=100, seed=seed)
    report = describe(result)
    assert result.holds, report
    assert not [f for r in result.rules for f in r.findings], report
    assert not result.faults, result.faults
    (name, sent), = result.passes
    assert name == "strings" and 0 < sent <= MOST, result.passes


def test_with_a_customer_pool_refusals_of_unknown_customers_are_judged_and_pass() -> None:
    """With --customer-ids every probe names a customer the target does not know; a target that refuses them
    (701 in the body, as Capillary does) is right, and its answers are still judged by every rule."""
    pool = ("cust-1", "cust-2")

    def only_known(answer: Answer) -> Answer:
        body: Any = answer.request_json
        if answer.status == 200 and isinstance(body, dict) and body["customer"]["id"] not in pool:
            entities = [{"entityId": s, "errors": [{"code": 701, "message": "Customer not found"}], "warnings": []}
                        for s in body["seriesIds"]]
            answer.body = {"response": entities, "totalCount": len(entities), "failureCount": len(entities)}
        return answer

    result = run_against_sandbox(mutate=only_known, customer_ids=pool, passes=STRINGS, max_examples=20)
    assert result.holds, describe(result)
    assert rule(result, "total-count").checks > 80, describe(result)  # every string sent (90 at this budget)
    broken = run_against_sandbox(mutate=lambda a: sql_quote_500(only_known(a)), customer_ids=pool, passes=STRINGS,
                                 max_examples=20)
    assert "strings:sql in customer.id" in {f.probe for f in rule(broken, "no-server-error").findings}


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_a_length_bug_is_named_once_by_the_classics(seed: int) -> None:
    """A 500 past 64 characters is the classics' string-length finding; the strings pass then sends no string of
    65 characters or more, so it does not find the same bug again in every class with a long string."""
    result = run_against_sandbox(mutate=server_error_on_long_customer_id, passes=("classics", "strings"),
                                 max_examples=100, seed=seed)
    findings = rule(result, "no-server-error").findings
    assert [f.probe_class for f in findings] == ["string length in customer.id"], describe(result)
    assert dict(result.passes)["strings"] > 250, result.passes  # of 300: the long strings are left out


def test_a_string_bug_fails_the_cli_naming_the_class(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = next(v for v in BROKEN_STRINGS if v.name == "500-on-sql-quote")
    with running_sandbox(mutate=broken.mutate()) as sandbox:
        code = main(["contract", "--base-url", sandbox.base_url, "--max-examples", "5", "--no-color",
                     "--report-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert "no-server-error" in out and "strings:" in out, out
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    failed = {r["id"]: r for r in summary["rules"] if r["outcome"] == "failed"}
    assert broken.probe in {f["probe"] for f in failed[broken.rule]["findings"]}, failed
