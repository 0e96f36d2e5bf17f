"""The classes the sandbox's mutants showed (tests/targets/broken_mutation.py) are failed under every seed,
naming the class, and the CLI fails one instance of each class (exit 1). The sandbox, which takes the lower-case
scheme and 1001 seriesIds, passes with both probes in every correct-target and seed-sweep run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coupon_harness.cli.main import main
from coupon_harness.results.contract import Outcome
from coupon_harness.sandbox.server import running_sandbox
from selftest.harness import SEEDS, describe, rule, run_against_sandbox
from targets.broken import Broken
from targets.broken_mutation import BROKEN_MUTATION


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", BROKEN_MUTATION, ids=[v.name for v in BROKEN_MUTATION])
def test_broken_target_is_caught_naming_the_class(variant: Broken, seed: int) -> None:
    result = run_against_sandbox(mutate=variant.mutate(), before=variant.before, passes=variant.passes,
                                 max_examples=20, seed=seed)
    report = describe(result)
    named = rule(result, variant.rule)
    assert named.outcome is Outcome.FAILED, report
    assert result.holds is False, report
    if variant.probe:
        assert variant.probe in {f.probe for f in named.findings}, report
    if variant.rule == "valid-till-future":
        assert {f.key for f in named.findings} == {"dead-on-arrival"}, report


@pytest.mark.parametrize("name", ["scheme-case-sensitive-401", "past-the-cap-500", "valid-for-0-s"])
def test_the_cli_fails_one_instance_of_each_class(name: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    variant = next(v for v in BROKEN_MUTATION if v.name == name)
    with running_sandbox(mutate=variant.mutate(), before=variant.before) as sandbox:
        code = main(["contract", "--base-url", sandbox.base_url, "--max-examples", "5", "--no-color",
                     "--report-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    failed = {r["id"]: r for r in summary["rules"] if r["outcome"] == "failed"}
    findings = failed[variant.rule]["findings"]
    assert variant.probe in {f["probe"] for f in findings} if variant.probe else findings, failed.keys()


def test_replay_sends_the_lower_case_scheme_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The finding's credentials are redacted in the report; the replay puts its own back in the spelling the run
    used, so it is never "fixed" by a canonical `Basic` against the broken target (its 401 reads as the credentials
    refused, exit 2, as for any replayed issue answered 401), and fixed against the sandbox."""
    variant = next(v for v in BROKEN_MUTATION if v.name == "scheme-case-sensitive-401")
    with running_sandbox(before=variant.before) as sandbox:
        assert main(["contract", "--base-url", sandbox.base_url, "--max-examples", "5", "--no-color",
                     "--report-dir", str(tmp_path / "run")]) == 1
        capsys.readouterr()
        code = main(["replay", str(tmp_path / "run"), "--base-url", sandbox.base_url,
                     "--report-dir", str(tmp_path / "before")])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "refused the credentials given (401)" in err, out + err
    assert "fixed" not in out, out
    with running_sandbox() as sandbox:
        code = main(["replay", str(tmp_path / "run"), "--base-url", sandbox.base_url,
                     "--report-dir", str(tmp_path / "after")])
    out, err = capsys.readouterr()
    assert code == 0, out + err


def test_the_curl_of_a_lower_case_scheme_sends_it_from_the_environment() -> None:
    from coupon_harness.results.request import RequestSample

    sample = RequestSample("POST", "http://127.0.0.1:1/v2/coupon/bulk/issue",
                           (("Authorization", "basic <redacted>"),), "{}")
    assert ('-H "Authorization: basic $(printf %s "$COUPON_HARNESS_USER" | base64 | tr -d \'\\n\')"'
            in sample.curl), sample.curl
    assert "<redacted>" not in sample.curl
