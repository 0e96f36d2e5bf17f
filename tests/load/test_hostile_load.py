"""The load path against hostile targets, through the library (`run_load`, where no preflight runs) and plain
`locust -f`: an answer that never ends, a body or headers dripped, finish by the deadline, count as errors in every
figure (the harness's and Locust's own), never pass, and the load process stays small. A run that completed no
answer at all says so in one line and its SLOs read "no data".

Each target answers its first `good_first` issues well, then turns hostile (the drip here: a byte every 0.2 s under
a 1 s deadline, so that no single socket read ever waits long enough for a per-read timeout to end it: only the
deadline can). Durations are bounded generously; `scripts/bench_hostile.py` measures them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coupon_harness.results.load import LoadRunResult
from coupon_harness.runners.load.runner import run_load
from load.support import describe, load_settings, slos
from targets.hostile import Hostile, from_contract_client, serving
from targets.peak_rss import LoadProcessPeak

DEADLINE = 1.0
RUN_TIME = 2.0
#: The issue's bound on the load process's peak resident memory.
PEAK_MB = 300
LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfiles" / "bulk_issue.py"
LOCUST = str(Path(sys.executable).with_name("locust"))


def _run(tmp_path: Path, target: Hostile, **overrides: object) -> tuple[LoadRunResult, LoadProcessPeak]:
    """A run against `target`: it ends (a hostile answer that held it would fail on pytest's timeout)."""
    with serving(target) as url, LoadProcessPeak() as peak:
        settings = load_settings(url, series_ids=(101, 102), invalid_series_ids=(), users=4, spawn_rate=100.0,
                                 run_time_s=RUN_TIME, request_timeout=DEADLINE, slos=slos("p95=5s"), **overrides)
        result = run_load(settings, tmp_path / "out")
    return result, peak


@pytest.mark.parametrize("kind", ["endless", "drip-body", "drip-headers"])
def test_a_hostile_target_fails_the_run_in_bounded_time_and_memory(tmp_path: Path, kind: str) -> None:
    target = Hostile(kind, good_first=3, interval=0.2)
    result, peak = _run(tmp_path, target)
    why = describe(result)
    assert not result.holds, why
    assert result.answered == 3 and result.status_counts.get("200") == 3, why
    transport = result.status_counts.get("transport", 0)
    assert transport == result.requests - 3 and transport >= target.hostile_answers, (target, why)
    assert result.violation_counts.get("transport") == transport, why
    assert result.error_rate == transport / result.requests, why  # the requests past their deadline are errors
    # Locust's own statistics count them as failures too.
    stats = json.loads((tmp_path / "out" / "locust_stats.json").read_text())
    total = next(entry for entry in stats["entries"] if entry["name"] == "Aggregated")
    assert (total["requests"], total["failures"]) == (result.requests, transport), stats
    errors = " ".join(error["error"] for error in stats["errors"])
    expected = "body larger than" if kind == "endless" else "no complete answer within --request-timeout 1 s"
    assert expected in errors, stats["errors"]
    assert peak.seen == 1 and peak.mb < PEAK_MB, f"{peak.mb:.0f} MB"


def test_a_run_that_completed_no_answer_never_passes(tmp_path: Path) -> None:
    target = Hostile("drip-headers", interval=0.2)
    result, _ = _run(tmp_path, target)
    why = describe(result)
    line = f"no answer completed within --request-timeout 1 s ({result.requests} requests sent)"
    assert result.requests > 0 and result.answered == 0, why
    assert result.no_answer == line and result.notes[0] == line, why
    assert not result.holds, why
    assert [(slo.key, slo.measured, slo.passed) for slo in result.slos] == [("p95", None, False)], why


def test_no_answer_is_said_in_one_line_on_stderr_and_in_every_report(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI's reporting path (`execute_load`, then the exit code) on a run that completed no answer."""
    from coupon_harness.cli.load_cmd import execute_load, load_exit_code

    report = tmp_path / "report"
    # A preflight (where one runs before the load) is answered well; the load itself never is.
    with serving(Hostile("drip-body", interval=0.2, good_when=from_contract_client)) as url:
        settings = load_settings(url, series_ids=(101,), invalid_series_ids=(), users=2, run_time_s=RUN_TIME,
                                 request_timeout=DEADLINE, slos=slos("p95=5s", "error-rate=0.5"))
        result, _ = execute_load(settings, report, color=False)
        code = load_exit_code(result)
    line = result.no_answer
    assert code == 1 and line is not None and line.startswith("no answer completed within --request-timeout 1 s ("), (
        describe(result))
    assert f"coupon-harness load: {line}" in capsys.readouterr().err
    summary = json.loads((report / "summary.json").read_text())
    assert summary["no_answer"] == line and summary["answered"] == 0 and line in summary["causes"], summary
    assert [slo["measured"] for slo in summary["slos"]] == [None, None], summary
    for name in ("report.md", "junit.xml", "report.html"):
        assert line in (report / name).read_text(), name
    # The p95 row: no data, failed (its cells, not the table's exact form: reports are snapshot-tested).
    p95 = [row for row in (report / "report.md").read_text().splitlines() if "| p95 latency |" in row]
    assert len(p95) == 1 and "| no data |" in p95[0] and "FAIL" in p95[0], p95


def test_a_distributed_run_that_completed_no_answer_never_passes(tmp_path: Path) -> None:
    target = Hostile("endless")
    result, peak = _run(tmp_path, target, workers=2)
    why = describe(result)
    assert result.requests > 0 and result.answered == 0 and result.no_answer is not None, why
    assert not result.holds and result.slos[0].measured is None, why
    assert peak.seen == 3 and peak.mb < PEAK_MB, f"{peak.mb:.0f} MB over {peak.seen} processes"


def test_plain_locust_against_headers_dripped_fails_and_says_why(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}
    report = tmp_path / "report"
    with serving(Hostile("drip-headers", interval=0.2)) as url:
        done = subprocess.run([LOCUST, "-f", str(LOCUSTFILE), "--host", url, "--series-ids", "101,102",
                               "--user", "a:b", "--request-timeout", str(DEADLINE), "--slo", "p95=5s", "--headless",
                               "-u", "2", "-r", "10", "-t", "2s", "--harness-report-dir", str(report)],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    # 2 where a preflight refuses the target before any load; 1 where the load ran: never 0.
    assert done.returncode in (1, 2), done.stderr[-2000:]
    if done.returncode == 1:
        summary = json.loads((report / "summary.json").read_text())
        assert summary["answered"] == 0 and summary["requests"] > 0, summary
        assert summary["no_answer"] in done.stderr and summary["no_answer"] in summary["causes"], summary
        assert summary["slos"][0]["measured"] is None and not summary["holds"], summary


def test_a_capacity_step_that_completed_no_answer_meets_nothing_and_ends_the_search(tmp_path: Path) -> None:
    from coupon_harness.runners.load.capacity import CapacitySettings, run_capacity

    lines: list[str] = []
    with serving(Hostile("drip-headers", interval=0.2)) as url:
        load = load_settings(url, series_ids=(101,), invalid_series_ids=(), request_timeout=DEADLINE,
                             slos=slos("p95=5s"))
        result = run_capacity(CapacitySettings(load, start_rate=4, step_time_s=1.0, warmup_s=0.0, max_steps=4),
                              tmp_path / "search", lines.append)
    (step,) = result.steps
    assert step.requests > 0 and step.answered == 0 and not step.met, step
    assert step.slos[0].measured is None and not step.slos[0].passed, step
    line = result.stopped_reason or ""
    assert line.startswith("step 1 (4 req/s): no answer completed within --request-timeout 1 s ("), result
    assert line in result.notes and line in lines, (result.notes, lines)
    assert result.capacity_rps is None and result.breaking_rps == 4
