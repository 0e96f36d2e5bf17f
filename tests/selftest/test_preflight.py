"""The preflight tells a setup mistake (exit 2, naming the flag) from a broken target (a finding, exit 1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from coupon_harness.cli.main import main
from coupon_harness.contract.expectations import Expectations
from coupon_harness.errors import ConfigError
from coupon_harness.results.contract import Outcome
from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.server import running_sandbox
from selftest.harness import describe, rule, run_against_sandbox
from targets.broken import BROKEN

SCENARIOS = ("scenarios",)


def _expect(valid: set[int], invalid: set[int] | None = None) -> Expectations:
    return Expectations(valid_series=frozenset(valid), invalid_series=frozenset(invalid or {201, 999999}))


def test_every_valid_series_unknown_is_a_setup_error_naming_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"^--series-ids: the target knows none of the configured series: "
                                          r"544770 \(entity error 707\), 553379 \(entity error 707\)"):
        run_against_sandbox(passes=SCENARIOS, expectations=_expect({544770, 553379}))


def test_some_valid_series_unknown_are_named_and_the_rest_is_judged() -> None:
    result = run_against_sandbox(passes=SCENARIOS, expectations=_expect({101, 102, 544770}))
    assert result.holds, describe(result)
    assert any("--series-ids: the target does not know 544770 (entity error 707)" in n for n in result.notes), \
        result.notes
    assert rule(result, "valid-series-issues").outcome is Outcome.PASSED, describe(result)


def test_an_invalid_series_that_exists_is_a_setup_error_naming_the_flag() -> None:
    # 102 exists and issues coupons; a made-up series is refused: the configuration is wrong, not the target.
    with pytest.raises(ConfigError, match=r"^--invalid-series-ids: series 102 issued a coupon on the target"):
        run_against_sandbox(passes=SCENARIOS, expectations=_expect({101}, {102, 201}))


def test_a_target_that_issues_for_any_series_is_a_finding_not_a_setup_error() -> None:
    variant = next(v for v in BROKEN if v.name == "invalid-series-issues")
    result = run_against_sandbox(mutate=variant.mutate(), passes=SCENARIOS)
    assert rule(result, "invalid-series-refused").outcome is Outcome.FAILED, describe(result)
    assert any("issues coupons for series that do not exist" in note for note in result.notes), result.notes
    sources = {f.source for f in rule(result, "invalid-series-refused").findings}
    assert "preflight" in sources, describe(result)


def _refuse_everything(answer: Answer) -> Answer:
    """Every series answered 722 ("unable to create coupon"): a broken target, not a typo."""
    body: Any = answer.body
    if answer.status == 200 and isinstance(body, dict):
        for entity in body["response"]:
            entity.pop("result", None)
            entity["errors"] = [{"code": 722, "message": "Unable to create coupon"}]
        body["failureCount"] = len(body["response"])
    return answer


def test_valid_series_refused_for_another_reason_is_a_finding() -> None:
    result = run_against_sandbox(mutate=_refuse_everything, passes=SCENARIOS)
    assert rule(result, "valid-series-issues").outcome is Outcome.FAILED, describe(result)


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with running_sandbox() as sandbox:
        yield sandbox.base_url


@pytest.mark.parametrize(("flags", "fragment"), [
    (["--series-ids", "544770,553379", "--invalid-series-ids", "999999"], "--series-ids: the target knows none"),
    (["--series-ids", "101", "--invalid-series-ids", "102"], "--invalid-series-ids: series 102 issued a coupon"),
])
def test_cli_setup_error_is_exit_2_with_one_line(sandbox_url: str, flags: list[str], fragment: str,
                                                 capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    code = main(["contract", "--base-url", sandbox_url, "--user", "sandbox:sandbox", "--md5-password",
                 *flags, "--report-dir", str(tmp_path), "--max-examples", "5"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert err[-1].startswith("coupon-harness contract: error: "), err
    assert fragment in err[-1], err
    assert "Traceback" not in "\n".join(err)


def test_a_404_on_the_endpoint_is_a_setup_error_naming_the_base_url(tmp_path: Any,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with running_sandbox() as sandbox:
        code = main(["contract", "--base-url", sandbox.base_url + "/wrong-prefix", "--user", "sandbox:sandbox",
                     "--series-ids", "101", "--report-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert "answers 404 Not Found" in err[-1] and "check --base-url (its path prefix)" in err[-1], err
