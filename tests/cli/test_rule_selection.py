"""--rules and --exclude-rules: a rule left out is reported "not run" with the reason, never "passed", and its
violations fail nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coupon_harness.cli.main import main
from coupon_harness.sandbox.server import running_sandbox
from targets.broken import BROKEN

VARIANT = next(v for v in BROKEN if v.name == "same-code-for-two-customers")  # breaks unique-codes


@pytest.fixture(scope="module")
def broken_url() -> Iterator[str]:
    with running_sandbox(mutate=VARIANT.mutate(), before=VARIANT.before) as sandbox:
        yield sandbox.base_url


def _run(url: str, folder: Path, *flags: str) -> tuple[int, dict[str, Any]]:
    code = main(["contract", "--base-url", url, "--passes", "classics,scenarios", "-n", "5", "--seed", "5", "-q",
                 "--report-dir", str(folder), *flags])
    summary = json.loads((folder / "summary.json").read_text())
    return code, {rule["id"]: rule for rule in summary["rules"]}


def test_the_broken_target_fails_unique_codes(broken_url: str, tmp_path: Path) -> None:
    code, rules = _run(broken_url, tmp_path / "r")
    assert code == 1 and rules[VARIANT.rule]["outcome"] == "failed"


def test_an_excluded_rule_is_not_run_and_fails_nothing(broken_url: str, tmp_path: Path) -> None:
    code, rules = _run(broken_url, tmp_path / "r", "--exclude-rules", VARIANT.rule)
    assert code == 0
    rule = rules[VARIANT.rule]
    assert rule["outcome"] == "not run" and rule["reason"] == "left out by --exclude-rules"
    assert not rule.get("findings")
    report = (tmp_path / "r" / "report.md").read_text()
    assert "left out by --exclude-rules" in report
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert f"--exclude-rules {VARIANT.rule} --seed 5" in summary["replay"]


def test_rules_runs_only_those_and_never_passes_the_others(broken_url: str, tmp_path: Path) -> None:
    code, rules = _run(broken_url, tmp_path / "r", "--rules", f"no-server-error,{VARIANT.rule}")
    assert code == 1
    assert rules["no-server-error"]["outcome"] == "passed" and rules[VARIANT.rule]["outcome"] == "failed"
    others = [rule for rule_id, rule in rules.items() if rule_id not in ("no-server-error", VARIANT.rule)]
    assert others and all(rule["outcome"] == "not run" for rule in others)
    assert all(rule["reason"] == "left out: not in --rules" for rule in others)


def test_the_variable_names_itself_in_the_reason(broken_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUPON_HARNESS_EXCLUDE_RULES", VARIANT.rule)
    code, rules = _run(broken_url, tmp_path / "r")
    assert code == 0 and rules[VARIANT.rule]["reason"] == "left out by COUPON_HARNESS_EXCLUDE_RULES"


@pytest.mark.parametrize(("flags", "fragment"), [
    (["--exclude-rules", "uniqe-codes"], "'uniqe-codes' is not a rule (did you mean unique-codes?)"),
    (["--rules", "nope"], "'nope' is not a rule"),
])
def test_an_unknown_rule_is_one_line(flags: list[str], fragment: str, capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path) -> None:
    assert main(["contract", "--base-url", "http://127.0.0.1:1", *flags, "--report-dir", str(tmp_path / "r")]) == 2
    assert fragment in capsys.readouterr().err.strip().splitlines()[-1]
