"""The stateful pass through the CLI: an order bug the per-request passes miss makes `contract` exit 1 under every
seed, naming the rule and the class with a short sequence; its finding replays ("still failing" against the bug,
"fixed" against the sandbox) and exports as a pytest test that fails against the bug and passes against the
sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coupon_harness.cli.main import main
from coupon_harness.runners.contract.stateful import PROBE_CLASS
from coupon_harness.sandbox.server import running_sandbox
from selftest.harness import SEEDS
from targets.broken_stateful import BROKEN_STATEFUL

#: A 401 that issued: the auth pass sees a 401, the scenarios see every first ask issue; only a sequence shows it.
TARGET = next(v for v in BROKEN_STATEFUL if v.name == "issues-before-auth-check")


def _contract(folder: Path, seed: int) -> int:
    with running_sandbox(mutate=TARGET.mutate(), before=TARGET.before) as sandbox:
        return main(["contract", "--base-url", sandbox.base_url, "--no-color", "--seed", str(seed),
                     "--report-dir", str(folder), "--overwrite"])


def _stateful(folder: Path) -> list[dict[str, Any]]:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return [f for r in summary["rules"] for f in r["findings"] if f["probe_class"] == PROBE_CLASS]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stateful")
    assert _contract(folder, SEEDS[0]) == 1
    return folder


@pytest.mark.parametrize("seed", SEEDS[1:])
def test_contract_fails_the_order_bug_naming_rule_and_class(seed: int, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = _contract(tmp_path, seed)
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert TARGET.rule in out and f"probe:    {PROBE_CLASS} of " in out, out
    found = [f for f in _stateful(tmp_path) if f["rule_id"] == TARGET.rule]
    assert found and len(found[0]["sequence"]) + 1 <= 6, found


def test_the_report_shows_the_sequence_in_order(report: Path) -> None:
    finding = next(f for f in _stateful(report) if f["rule_id"] == TARGET.rule)
    count = len(finding["sequence"]) + 1
    assert len(finding["sequence_judged"]) == count - 1
    assert 401 in finding["sequence_judged"][0]["statuses"]  # the unauthorized request that issued
    assert finding["judged"]["issue_call"] and finding["judged"]["fresh_customer"]
    curl = finding["curl"]
    assert curl.count("curl -X ") == count and f"# {count} of {count}: breaks {TARGET.rule}" in curl, curl
    assert "without valid credentials (sent here with none): answered 401, and nothing changes" in curl
    markdown = (report / "report.md").read_text(encoding="utf-8")
    assert PROBE_CLASS in markdown and "earlier request" in markdown


def test_replay_says_still_failing_before_and_fixed_after(report: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    finding = next(f for f in _stateful(report) if f["rule_id"] == TARGET.rule)
    capsys.readouterr()
    with running_sandbox(before=TARGET.before) as sandbox:
        code = main(["replay", str(report), "--finding", finding["id"], "--base-url", sandbox.base_url,
                     "--user", "sandbox:sandbox", "--report-dir", str(tmp_path / "before")])
    out, err = capsys.readouterr()
    assert code == 1 and out.startswith(f"still failing  {finding['id']}  {TARGET.rule}"), out + err
    with running_sandbox() as sandbox:
        code = main(["replay", str(report), "--finding", finding["id"], "--base-url", sandbox.base_url,
                     "--user", "sandbox:sandbox", "--report-dir", str(tmp_path / "after")])
    out, err = capsys.readouterr()
    assert code == 0 and out.startswith("fixed"), out + err
    assert "but now breaks" not in out  # the earlier steps were judged as the run judged them (a 401 is right)


def _pytest(test_file: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COUPON_HARNESS_")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           str(test_file), "--harness-base-url", base_url, "--harness-user", "sandbox:sandbox"],
                          capture_output=True, text=True, cwd=test_file.parent, env=env, timeout=120, check=False)


def test_the_exported_test_fails_against_the_bug_and_passes_against_the_sandbox(
        report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    finding = next(f for f in _stateful(report) if f["rule_id"] == TARGET.rule)
    test_file = tmp_path / "test_stateful_findings.py"
    assert main(["export-tests", str(report), "-o", str(test_file), "--finding", finding["id"]]) == 0
    text = test_file.read_text(encoding="utf-8")
    assert "'sequence_judged'" in text and "sandbox:" not in text.lower()
    with running_sandbox(before=TARGET.before) as sandbox:
        broken = _pytest(test_file, sandbox.base_url)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"rule {TARGET.rule} (" in broken.stdout and "still fails" in broken.stdout, broken.stdout
    with running_sandbox() as sandbox:
        fixed = _pytest(test_file, sandbox.base_url)
    assert fixed.returncode == 0 and " passed" in fixed.stdout, fixed.stdout + fixed.stderr
    capsys.readouterr()
