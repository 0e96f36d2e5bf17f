"""Every command against hostile targets, end to end: `load`, `capacity`, `contract`, `run` and `diff` against an
answer that never ends, a body dripped and headers dripped finish, never exit 0, and the load process stays under
300 MB; a token endpoint and a sandbox discovery that redirect to another host are a setup error (exit 2) naming
the URL, and the other host (a listener recording every connection) gets nothing.

Each hostile target answers its first few issues well (`good_first`), so a preflight of well-formed requests
passes and the hostile answers meet the run itself; where a preflight may still decide, exit 2 is accepted beside
exit 1, never 0. Each command meets one kind here (each kind meets several commands); `scripts/bench_hostile.py`
runs every command against every kind and measures the times against the deadline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from targets.hostile import DiscoveryRedirect, Hostile, Recorder, TokenRedirect, serving
from targets.peak_rss import LoadProcessPeak

EXE = str(Path(sys.executable).with_name("coupon-harness"))
DEADLINE = "1"
#: A hang guard, not a measurement: a command that hangs is what fails here (the bench measures the real figures).
HANG_S = 300
PEAK_MB = 300
WHAT = ["--series-ids", "101,102", "--user", "someone:pw", "--request-timeout", DEADLINE, "--no-color", "--overwrite"]


def _env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}


def _cli(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], LoadProcessPeak]:
    with LoadProcessPeak() as peak:
        done = subprocess.run([EXE, *args], capture_output=True, text=True, timeout=HANG_S, check=False,
                              cwd=tmp_path, env=_env())
    return done, peak


def _hostile(kind: str) -> Hostile:
    return Hostile(kind, good_first=3, interval=0.2)


@pytest.fixture
def recorder() -> Iterator[tuple[Recorder, str]]:
    other = Recorder()
    with serving(other) as url:
        yield other, url


@pytest.mark.parametrize("kind", ["endless", "drip-body", "drip-headers"])
def test_load(tmp_path: Path, kind: str) -> None:
    report = tmp_path / "report"
    with serving(_hostile(kind)) as url:
        done, peak = _cli(tmp_path, "load", "--base-url", url, *WHAT, "--run-time", "2s", "--users", "4",
                                "--slo", "p95=5s", "--report-dir", str(report))
    assert done.returncode in (1, 2), done.stderr[-2000:]
    assert peak.mb < PEAK_MB, f"{peak.mb:.0f} MB"
    if done.returncode == 1:  # the load ran (no preflight refused the target): every figure counts the failures
        assert peak.seen == 1
        summary = json.loads((report / "summary.json").read_text())
        assert not summary["holds"] and summary["status_counts"]["transport"] > 0, summary
        assert summary["error_rate"] > 0.5 and summary["violation_counts"]["transport"] > 0, summary


def test_contract_against_headers_dripped(tmp_path: Path) -> None:
    with serving(_hostile("drip-headers")) as url:
        done, _ = _cli(tmp_path, "contract", "--base-url", url, *WHAT, "--max-examples", "3",
                             "--report-dir", str(tmp_path / "report"))
    assert done.returncode in (1, 2), done.stderr[-2000:]
    if done.returncode == 1:
        summary = json.loads((tmp_path / "report" / "summary.json").read_text())
        assert "transport" in json.dumps(summary["rules"]), summary


def test_diff_against_a_body_dripped(tmp_path: Path) -> None:
    with serving(_hostile("drip-body")) as url:
        against = url.replace("127.0.0.1", "localhost")  # the same target under another name: two origins
        done, _ = _cli(tmp_path, "diff", "--base-url", url, "--against-url", against, *WHAT,
                             "--against-user", "someone:pw", "--max-examples", "3",
                             "--report-dir", str(tmp_path / "report"))
    assert done.returncode in (1, 2), done.stderr[-2000:]


def test_diff_where_neither_target_completes_an_answer_does_not_pass(tmp_path: Path) -> None:
    """Both sides hang alike: "no difference" would rest on nothing. One line says so; exit 1."""
    with serving(Hostile("drip-headers", interval=0.2)) as url:
        done, _ = _cli(tmp_path, "diff", "--base-url", url, "--against-url", url.replace("127.0.0.1", "localhost"),
                          *WHAT, "--against-user", "someone:pw", "--report-dir", str(tmp_path / "report"))
    assert done.returncode in (1, 2), done.stderr[-2000:]
    if done.returncode == 1:
        summary = json.loads((tmp_path / "report" / "summary.json").read_text())
        line = summary["no_answer"]
        assert line.startswith("base and against: no answer completed within --request-timeout 1 s"), summary
        assert f"coupon-harness diff: {line}" in done.stderr and not summary["holds"], done.stderr
        assert line in (tmp_path / "report" / "junit.xml").read_text()


def test_run_against_an_endless_answer(tmp_path: Path) -> None:
    with serving(_hostile("endless")) as url:
        done, peak = _cli(tmp_path, "run", "--base-url", url, *WHAT, "--max-examples", "3",
                                "--load-run-time", "2s", "--load-users", "4", "--report-dir", str(tmp_path / "run"))
    assert done.returncode in (1, 2), done.stderr[-2000:]
    assert peak.mb < PEAK_MB, f"{peak.mb:.0f} MB"


def test_capacity_against_headers_dripped(tmp_path: Path) -> None:
    with serving(_hostile("drip-headers")) as url:
        done, peak = _cli(tmp_path, "capacity", "--base-url", url, *WHAT, "--slo", "p95=5s", "--slo",
                                "error-rate=0.01", "--start-rate", "5", "--step-time", "1s", "--warmup", "0s",
                                "--max-steps", "3", "--report-dir", str(tmp_path / "report"))
    assert done.returncode in (1, 2), done.stderr[-2000:]
    assert peak.mb < PEAK_MB, f"{peak.mb:.0f} MB"


# --- setup requests that redirect -------------------------------------------------------------------------

def test_contract_with_a_token_endpoint_that_redirects(tmp_path: Path, recorder: tuple[Recorder, str]) -> None:
    other, elsewhere = recorder
    target = TokenRedirect(elsewhere)
    with serving(target) as url:
        done, _ = _cli(tmp_path, "contract", "--base-url", url, "--series-ids", "101", "--oauth-key", "the-key",
                          "--oauth-secret", "the-oauth-secret", "--report-dir", str(tmp_path / "report"))
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"{url}/v3/oauth/token/generate answered 307" in done.stderr, done.stderr
    assert f"to {elsewhere}/v3/oauth/token/generate" in done.stderr
    assert "Traceback" not in done.stderr and "the-oauth-secret" not in done.stderr + done.stdout
    assert target.token_requests >= 1
    assert other.connections == 0 and not other.requests


def test_load_with_a_token_endpoint_that_redirects(tmp_path: Path, recorder: tuple[Recorder, str]) -> None:
    other, elsewhere = recorder
    with serving(TokenRedirect(elsewhere)) as url:
        done, _ = _cli(tmp_path, "load", "--base-url", url, "--series-ids", "101", "--oauth-key", "the-key",
                             "--oauth-secret", "the-oauth-secret", "--run-time", "5s", "--users", "2",
                             "--no-color", "--report-dir", str(tmp_path / "report"))
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"{url}/v3/oauth/token/generate answered 307" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "the-oauth-secret" not in done.stderr + done.stdout
    assert other.connections == 0 and not other.requests


@pytest.mark.parametrize("command", ["load", "contract"])
def test_a_discovery_that_redirects(tmp_path: Path, recorder: tuple[Recorder, str], command: str) -> None:
    """No --series-ids: the target is asked GET /sandbox/info, and answers 302 to a host that would hand out
    other series and credentials."""
    other, elsewhere = recorder
    extra = ["--run-time", "2s"] if command == "load" else []
    with serving(DiscoveryRedirect(elsewhere)) as url:
        done, _ = _cli(tmp_path, command, "--base-url", url, "--no-color", *extra,
                          "--report-dir", str(tmp_path / "report"))
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"{url}/sandbox/info answered 302, a redirect to {elsewhere}/sandbox/info" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert other.connections == 0 and not other.requests
