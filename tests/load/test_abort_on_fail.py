"""--abort-on-fail against in-process sandboxes: a run that cannot pass stops early (its reason says so, well
short of its 60 s), in order, with a full report and its reason (exit 1); a healthy run runs its full time and
passes; without the flag a broken run runs its full length.

No test times a run: stopping early is seen in the result (a reason, the answers counted before it stopped);
a run that never stops fails on pytest's timeout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from coupon_harness.runners.load.abort import MIN_ANSWERS
from coupon_harness.sandbox.config import Faults, SandboxConfig
from coupon_harness.sandbox.server import running_sandbox
from load.support import coupon_rows, describe, run_against_sandbox, slos

CLI = str(Path(sys.executable).with_name("coupon-harness"))
#: Every answer ~200 ms late: far above p95<=50ms.
SLOW = SandboxConfig(faults=Faults(latency_ms=200.0))


def test_a_run_that_cannot_meet_its_p95_stops_in_seconds_with_a_full_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_against_sandbox(out, config=SLOW, slos=slos("p95=50ms", "error-rate=0.01"), users=20,
                                 run_time_s=60.0, abort_on_fail=True)
    why = describe(result)
    assert result.stopped_reason is not None, why
    assert result.stopped_reason.startswith("--abort-on-fail: p95<=50ms can no longer be met ("), why
    assert "answers allowed over 50 ms" in result.stopped_reason, why
    assert not result.interrupted, why
    assert not result.holds, why
    p95 = next(slo for slo in result.slos if slo.key == "p95")
    assert not p95.passed and p95.measured is not None and p95.measured > 150, why
    # A full report: every answer counted, every coupon in coupons.csv (users finished the request in flight).
    assert result.requests >= MIN_ANSWERS, why  # a percentile SLO waits for its grace and 100 answers
    assert result.status_counts == {"200": result.requests}, why
    assert result.coupons_issued > 0 and len(coupon_rows(out)) - 1 == result.coupons_issued, why
    assert result.duration_s >= 4, why  # the grace (5 s of traffic) was given: a bound that load only widens


def test_a_healthy_run_with_the_flag_runs_its_full_time_and_passes(tmp_path: Path) -> None:
    result = run_against_sandbox(tmp_path / "out", slos=slos("p95=500ms", "max=5s", "error-rate=0.01"), users=10,
                                 run_time_s=7.0, abort_on_fail=True, abort_grace_s=1.0)
    why = describe(result)
    assert result.holds, why
    assert result.stopped_reason is None, why
    assert result.duration_s >= 6.0, why


def test_without_the_flag_a_broken_run_runs_its_full_length(tmp_path: Path) -> None:
    result = run_against_sandbox(tmp_path / "out", config=SLOW, slos=slos("p95=50ms"), users=20, run_time_s=8.0)
    why = describe(result)
    assert result.stopped_reason is None, why
    assert result.duration_s >= 7.5, why
    assert not result.holds, why


def test_a_max_slo_or_a_violation_stops_the_run_at_once(tmp_path: Path) -> None:
    result = run_against_sandbox(tmp_path / "max", config=SLOW, slos=slos("max=100ms"), users=5, run_time_s=60.0,
                                 abort_on_fail=True)
    why = describe(result)
    assert result.stopped_reason is not None and "max<=100ms can no longer be met (an answer took" in \
        result.stopped_reason, why
    # Before the grace: a max SLO is broken for good by one answer. Waiting for the grace would count 100 answers
    # or more (5 users, 200 ms each: 25 a second); a busy machine only makes them fewer.
    assert result.requests < MIN_ANSWERS, why

    five_hundreds = SandboxConfig(faults=Faults(error_rate=0.05))
    result = run_against_sandbox(tmp_path / "violations", config=five_hundreds, slos=slos("p95=500ms"), users=5,
                                 run_time_s=60.0, abort_on_fail=True, abort_violations=3)
    why = describe(result)
    assert result.stopped_reason is not None and "--abort-violations 3" in result.stopped_reason, why
    assert "no-server-error" in result.stopped_reason, why
    assert sum(result.violation_counts.values()) >= 3, why
    assert not result.holds, why


def test_a_distributed_run_stops_on_the_master_with_every_workers_figures(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_against_sandbox(out, config=SLOW, slos=slos("p95=50ms"), users=20, run_time_s=60.0, workers=2,
                                 abort_on_fail=True)
    why = describe(result)
    assert result.stopped_reason is not None and result.stopped_reason.startswith(
        "--abort-on-fail: p95<=50ms can no longer be met"), why
    assert result.workers == 2, why
    assert not any("sent no last report" in note for note in result.notes), why
    assert result.status_counts == {"200": result.requests}, why
    assert result.coupons_issued > 0 and len(coupon_rows(out)) - 1 == result.coupons_issued, why


def test_the_cli_exits_1_with_the_reason_in_every_report(tmp_path: Path) -> None:
    report = tmp_path / "report"
    with running_sandbox(SLOW) as sandbox:
        done = subprocess.run([CLI, "load", "--base-url", sandbox.base_url, "--users", "20", "--run-time", "60s",
                               "--slo", "p95=50ms", "--abort-on-fail", "--abort-grace", "2s", "--report-dir",
                               str(report), "--no-color"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done
    assert "stopping early, --abort-on-fail: p95<=50ms can no longer be met" in done.stderr, done
    summary = json.loads((report / "summary.json").read_text())
    assert summary["stopped_reason"].startswith("--abort-on-fail: p95<=50ms"), summary["stopped_reason"]
    assert "--abort-on-fail" in (report / "report.md").read_text()
    assert "--abort-on-fail" in done.stdout  # the console table names why the run stopped early


def test_the_settings_of_the_flag_alone_are_refused_in_one_line() -> None:
    for extra in (["--abort-violations", "3"], ["--abort-grace", "2s"]):
        done = subprocess.run([CLI, "load", "--base-url", "http://127.0.0.1:9", "--series-ids", "101", "--user",
                               "u:p", *extra], capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 2, done
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "--abort-on-fail" in lines[0] and extra[0] in lines[0], done.stderr
        assert "Traceback" not in done.stderr
