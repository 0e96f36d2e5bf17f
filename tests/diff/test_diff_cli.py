"""`coupon-harness diff` end to end against sandboxes on 127.0.0.1: exit codes (0 alike, 1 different, 2 could not
run, 130 interrupted with a partial report), every report format naming the difference, no credential of either
target in any report or output, the production guard on both URLs, the second target from a config file."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.progress_lines import assert_plain_progress
from tests.sockets import refusing_port

from coupon_harness.cli.main import main
from coupon_harness.sandbox import Faults, RunningSandbox, default_config, running_sandbox

BASE_SECRET = "base-Secret-7f3a9"
AGAINST_SECRET = "against-Secret-2c8e1"
BASE = replace(default_config(), users={"alice": BASE_SECRET})
AGAINST = replace(default_config(), users={"bob": AGAINST_SECRET})
WHAT = ["--series-ids", "101,102,103,104,105", "--invalid-series-ids", "201,202,999999", "--generic-series-ids",
        "104", "--max-examples", "5", "--seed", "5"]


@pytest.fixture()
def base() -> Iterator[RunningSandbox]:
    with running_sandbox(BASE) as sandbox:
        yield sandbox


def _args(base: RunningSandbox, against_url: str, report_dir: Path, *extra: str) -> list[str]:
    return ["diff", "--base-url", base.base_url, "--against-url", against_url, "--user", f"alice:{BASE_SECRET}",
            "--against-user", f"bob:{AGAINST_SECRET}", *WHAT, "--report-dir", str(report_dir), *extra]


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert BASE_SECRET not in text and AGAINST_SECRET not in text


def _reports(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in folder.iterdir() if path.is_file()}


def test_alike_targets_exit_0_with_every_report(base: RunningSandbox, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with running_sandbox(AGAINST) as against:
        assert main(_args(base, against.base_url, tmp_path / "r")) == 0
    out, err = capsys.readouterr()
    reports = _reports(tmp_path / "r")
    assert set(reports) == {"junit.xml", "summary.json", "report.md", "report.html", "coupons.csv"}
    _no_secret(out, err, *reports.values())
    sources = {row[4].split(":")[0] for row in list(csv.reader(reports["coupons.csv"].splitlines()))[1:]}
    assert sources == {"base", "against"}, sources  # both targets' coupons, listed as they came
    summary = json.loads(reports["summary.json"])
    assert summary["differs"] is False and summary["differences"] == [] and summary["cases"] > 100
    assert "no difference between the targets" in out
    assert 'failures="0"' in reports["junit.xml"]
    assert any("] classics: started" in line for line in assert_plain_progress(err))  # captured: plain lines


def test_a_difference_exits_1_and_every_format_names_it(base: RunningSandbox, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    changed = replace(AGAINST, series=tuple(replace(s, discount_value=15) if s.id == 102 else s
                                            for s in AGAINST.series))
    with running_sandbox(changed) as against:
        assert main(_args(base, against.base_url, tmp_path / "r")) == 1
    out, err = capsys.readouterr()
    reports = _reports(tmp_path / "r")
    _no_secret(out, err, *reports.values())
    where = "series 102: result.discountValue"
    for name in ("report.md", "report.html", "junit.xml"):
        assert where in reports[name], name
    assert where in out
    summary = json.loads(reports["summary.json"])
    assert summary["differs"] is True and summary["counts"] == {"attributes": 1}
    (difference,) = summary["differences"]
    assert (difference["where"], difference["base"], difference["against"]) == (where, "10", "15")
    reproducer = difference["reproducer"]
    assert reproducer["base_curl"].startswith("curl ") and '"$COUPON_HARNESS_USER"' in reproducer["base_curl"]
    assert '"$COUPON_HARNESS_AGAINST_USER"' in reproducer["against_curl"]
    assert "--seed 5" in summary["replay"]


@pytest.mark.parametrize(("change", "expected"), [
    (["--against-url", "https://eu.api.capillarytech.com"], "--against-url: eu.api.capillarytech.com is a Capillary "
                                                            "production host"),
    (["--series-map", "101"], "--series-map: '101' is not BASE=AGAINST"),
    (["--series-map", "101=5001,102=5001"], "two ids map to 5001"),
    (["--against-user", "bob:wrong"], "answered 401 to the first case: give its credentials (--against-user"),
    (["--against-url", "CLOSED"], "--against-url http://127.0.0.1:"),
    (["--against-url", "SAME"], "is --base-url itself"),
])
def test_what_cannot_run_is_one_line_and_exit_2(base: RunningSandbox, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str], change: list[str],
                                                expected: str) -> None:
    with running_sandbox(AGAINST) as against, refusing_port() as closed:
        args = _args(base, against.base_url, tmp_path / "r")
        flag, value = change
        value = {"CLOSED": f"http://127.0.0.1:{closed}", "SAME": base.base_url}.get(value, value)
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
        assert main(args) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert expected in lines[-1], err
    assert "Traceback" not in err
    _no_secret(out, err)


def test_the_second_target_comes_from_the_config_file(base: RunningSandbox, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with running_sandbox(AGAINST) as against:
        config = tmp_path / "targets.toml"
        config.write_text(f'[targets.staging]\nbase-url = "{base.base_url}"\nuser = "alice:${{BASE_PW}}"\n'
                          f'[targets.candidate]\nbase-url = "{against.base_url}"\nuser = "bob:${{AGAINST_PW}}"\n')
        monkeypatch.setenv("BASE_PW", BASE_SECRET)
        monkeypatch.setenv("AGAINST_PW", AGAINST_SECRET)
        code = main(["diff", "--config", str(config), "--target", "staging", "--against-target", "candidate",
                     *WHAT, "--report-dir", str(tmp_path / "r")])
    out, err = capsys.readouterr()
    assert code == 0, err
    _no_secret(out, err, *_reports(tmp_path / "r").values())


def test_sigint_exits_130_with_a_partial_report(base: RunningSandbox, tmp_path: Path) -> None:
    slow = replace(AGAINST, faults=Faults(latency_ms=30.0))
    with running_sandbox(slow) as against:
        env = {**os.environ, "COUPON_HARNESS_USER": f"alice:{BASE_SECRET}",
               "COUPON_HARNESS_AGAINST_USER": f"bob:{AGAINST_SECRET}"}
        command = [sys.executable, "-m", "coupon_harness.cli.main", "diff", "--base-url", base.base_url,
                   "--against-url", against.base_url, *WHAT, "--report-dir", str(tmp_path / "r")]
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert process.stderr is not None
        deadline = time.monotonic() + 30
        for line in process.stderr:
            if "classics: started" in line or time.monotonic() > deadline:
                break
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["cases"] >= 1
    _no_secret(out, err, *_reports(tmp_path / "r").values())


def test_a_harness_bug_in_a_pass_exits_2_naming_it_and_the_others_run(
        base: RunningSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from coupon_harness.runners.contract.passes import REGISTRY

    def broken(*_args: object) -> int:
        raise RuntimeError("a planted harness bug")

    monkeypatch.setitem(REGISTRY, "scenarios", replace(REGISTRY["scenarios"], run=broken))
    with running_sandbox(AGAINST) as against:
        assert main(_args(base, against.base_url, tmp_path / "r")) == 2
    _, err = capsys.readouterr()
    assert "harness error in pass 'diff-scenarios' (seed 5): RuntimeError: a planted harness bug" in err
    assert "a planted harness bug" in (tmp_path / "r" / "harness-error-diff-scenarios.txt").read_text()
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert [name for name, _ in summary["passes"]][-2:] == ["auth", "malformed"]
