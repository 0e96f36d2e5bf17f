"""Locust tells the same truth as the harness: on a broken target, Locust's own statistics (--json, --csv, the
web UI's /stats/requests, the load process's locust_stats.json) count the requests and failures the harness
report counts; a 200 that breaks a rule is a failed `POST bulk-issue` whose message is the rule id (one
error row per rule), never an extra request row. Before: `bulk-issue 126 requests, 0 failures` plus one
`CONTRACT <rule>` row per violation, while the harness reported 126 requests and a 79% error rate."""

from __future__ import annotations

import csv
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import requests
from tests.children import Children
from tests.sockets import listening_port

from coupon_harness.sandbox.app import Answer, Mutate, error_envelope
from coupon_harness.sandbox.server import RunningSandbox, running_sandbox
from load.support import VALID, coupon_rows, run_against_sandbox

LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfiles" / "bulk_issue.py"
LOCUST = str(Path(sys.executable).with_name("locust"))
SERIES = ",".join(map(str, VALID))
#: What the broken target breaks, by the rule the harness names.
RULES = {"total-count", "response-schema"}


def _broken() -> Mutate:
    """Of every four answers: a 500, a 200 whose totalCount is off by one, a 200 whose discountValue is a
    string (the schema), a correct 200."""
    turn = itertools.count()

    def mutate(answer: Answer) -> Answer:
        n = next(turn) % 4
        body = answer.body
        if answer.status != 200 or not isinstance(body, dict) or n == 3:
            return answer
        if n == 0:
            return Answer(500, error_envelope(500, "internal error"), answer.request)
        if n == 1:
            body["totalCount"] = int(body["totalCount"]) + 1
        else:
            for entity in body["response"]:
                if isinstance(entity.get("result"), dict):
                    entity["result"]["discountValue"] = "500"
        return answer

    return mutate


def _env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}


def _harness_figures(summary: dict[str, Any]) -> tuple[int, int]:
    requests_ = int(summary["requests"])
    return requests_, round(float(summary["error_rate"]) * requests_)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _csv_counts(rows: list[dict[str, str]]) -> dict[str, tuple[int, int]]:
    """Locust's --csv stats: (requests, failures) by row name ('bulk-issue', 'Aggregated')."""
    return {row["Name"]: (int(row["Request Count"]), int(row["Failure Count"])) for row in rows}


def _printed_counts(out: str) -> dict[str, int]:
    """Locust's last printed statistics table (not the percentiles): requests by row ('POST bulk-issue',
    'Aggregated')."""
    lines = out.splitlines()
    header = max(i for i, line in enumerate(lines) if "# reqs" in line and "# fails" in line)
    counts = {}
    for line in lines[header + 1:]:
        if not line.strip():
            break
        tokens = line.partition("|")[0].split()
        if tokens and not tokens[0].startswith("-"):
            counts[" ".join(tokens[:-2])] = int(tokens[-2])
    return counts


def _said_at_exit(err: str, summary: dict[str, Any], report: Path) -> None:
    """Plain locust's last lines (stderr, after Locust's own tables): the verdict and where the report is, as
    `coupon-harness load` ends."""
    word = "PASS" if summary["holds"] else "FAIL"
    assert err.rstrip("\n").splitlines()[-2:] == [f"{word}: {summary['verdict']}", f"reports: {report}"], err[-3000:]


def test_plain_locust_json_and_csv_equal_the_harness_report(tmp_path: Path) -> None:
    report = tmp_path / "report"
    with running_sandbox(mutate=_broken()) as sandbox:
        done = subprocess.run(
            [LOCUST, "-f", str(LOCUSTFILE), "--headless", "--host", sandbox.base_url, "-u", "5", "-r", "5",
             "-t", "4s", "--series-ids", SERIES, "--user", "sandbox:sandbox", "--json", "--csv",
             str(tmp_path / "locust"), "--harness-report-dir", str(report)],
            cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 1, done.stderr[-3000:]  # rules broken: the harness's exit code
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    entries = json.loads(done.stdout)
    assert [(e["method"], e["name"]) for e in entries] == [("POST", "bulk-issue")], entries
    locust_requests, locust_failures = entries[0]["num_requests"], entries[0]["num_failures"]
    summary = json.loads((report / "summary.json").read_text())
    harness_requests, harness_failures = _harness_figures(summary)
    assert (locust_requests, locust_failures) == (harness_requests, harness_failures), summary
    assert harness_requests > 40 and 0.6 < harness_failures / harness_requests < 0.9, summary
    # --csv says the same, and its failures are grouped by status and rule (low cardinality).
    # Its per-name row and its Aggregated row count the same requests (one name: bulk-issue).
    counts = _csv_counts(_rows(tmp_path / "locust_stats.csv"))
    assert counts == {"bulk-issue": (harness_requests, harness_failures),
                      "Aggregated": (harness_requests, harness_failures)}, counts
    failures = {row["Error"]: int(row["Occurrences"]) for row in _rows(tmp_path / "locust_failures.csv")}
    # One row per status and per rule (a request that breaks two rules fails once, under the first).
    assert set(failures) == {"HttpStatusError('HTTP 500')", *(f"ContractViolation('{rule}')" for rule in RULES)
                             }, failures
    assert failures["HttpStatusError('HTTP 500')"] == summary["status_counts"]["500"], (failures, summary)
    assert sum(failures.values()) == harness_failures, failures
    # The report names Locust's own files beside its own.
    assert summary["files"]["locust stats.csv"] == str(tmp_path / "locust_stats.csv"), summary["files"]
    assert summary["files"]["coupons.csv"] == str(report / "coupons.csv"), summary["files"]
    _said_at_exit(done.stderr, summary, report)
    entry = entries[0]
    _timeline_reads_locusts_rate(summary, locust_requests,
                                 locust_requests / (entry["last_request_timestamp"] - entry["start_time"]))


def _timeline_reads_locusts_rate(summary: dict[str, Any], requests_: int, rate: float) -> None:
    """The report's timeline beside Locust's own figures: 1 s intervals for a run of seconds (before: without -t,
    the web UI's run had 30 s intervals, one or two points at a fraction of the rate: 156 and 70 req/s where
    Locust said 656), every request Locust counted in them, and no interval claiming more traffic time than its
    width. How a partial first or last interval reads its rate is shown exactly on a known clock in
    test_rate_matches_timeline.py: here the edges read what a busy machine's ramp-up gave (31 requests in 0.34 s
    beside Locust's 863 req/s at load average 15), not a figure to hold to the run's rate."""
    points = summary["timeline"]
    assert len(points) >= 2 and points[1]["t_s"] - points[0]["t_s"] == 1.0, points
    assert sum(point["requests"] for point in points) == requests_, points
    assert rate > 0 and all(point["requests"] <= point["rps"] * 1.001 for point in points if point["requests"]), points
    # The middle intervals are whole seconds of traffic: each reads its count.
    assert all(abs(point["rps"] - point["requests"]) < 0.01 for point in points[1:-1]), points


def _master_and_two_workers(tmp_path: Path, run_time: str, children: Children
                            ) -> tuple[subprocess.Popen[str], str, str, Path]:
    """Plain Locust's master and two workers against a broken sandbox: (master, its stdout, its stderr, report).
    `children` ends them (their groups) and closes their pipes however the test ends."""
    report = tmp_path / "report"
    with running_sandbox(mutate=_broken()) as sandbox:
        common = ["-f", str(LOCUSTFILE), "--host", sandbox.base_url, "--series-ids", SERIES,
                  "--user", "sandbox:sandbox"]
        master = children.start([LOCUST, *common, "--master", "--expect-workers", "2", "--master-bind-port", "0",
                                 "--headless", "-u", "6", "-r", "6", "-t", run_time, "--json", "--csv",
                                 str(tmp_path / "locust"), "--harness-report-dir", str(report)],
                                cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        port = listening_port(master)  # it bound a free port itself (--master-bind-port 0)
        workers = [children.start([LOCUST, *common, "--worker", "--master-port", str(port)], cwd=tmp_path,
                                  env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
                   for _ in range(2)]
        out, err = master.communicate(timeout=120)
        for worker in workers:
            worker.wait(timeout=90)
    return master, out, err, report


def test_plain_locust_master_and_two_workers_agree_too(tmp_path: Path, children: Children) -> None:
    """Locust's statistics and the harness's deltas ride on the same worker reports: the master's --json
    totals equal its harness report. The master's clock starts once the workers connect, before their harness
    is installed (its preflight): at load average 15 a 4 s run had no request in it. A run with too few requests
    to compare is run again for 12 s; a master that loses its workers' reports fails both."""
    for attempt, run_time in enumerate(("4s", "12s")):
        folder = tmp_path / f"run-{attempt}"
        folder.mkdir()
        master, out, err, report = _master_and_two_workers(folder, run_time, children)
        assert master.returncode == 1, err[-3000:]
        assert "Traceback" not in err, err[-3000:]
        summary = json.loads((report / "summary.json").read_text())
        if summary["requests"] > 40:
            break
    entries = json.loads(out)
    assert [(e["method"], e["name"]) for e in entries] == [("POST", "bulk-issue")], entries
    assert (entries[0]["num_requests"], entries[0]["num_failures"]) == _harness_figures(summary), summary
    assert summary["users"] == 6 and summary["requests"] > 40, summary
    # The master's per-name row is its Aggregated row is the harness report (each worker's stats merged once).
    counts = _csv_counts(_rows(folder / "locust_stats.csv"))
    assert counts == {"bulk-issue": _harness_figures(summary), "Aggregated": _harness_figures(summary)}, counts
    _said_at_exit(err, summary, report)


def test_the_load_cli_agrees_with_its_own_locust_stats(tmp_path: Path) -> None:
    result = run_against_sandbox(tmp_path, mutate=_broken(), users=5, run_time_s=3.0)
    stats = json.loads((tmp_path / "locust_stats.json").read_text())
    rows = [(entry["method"], entry["name"]) for entry in stats["entries"]]
    assert rows == [("POST", "bulk-issue"), ("", "Aggregated")], rows
    total = stats["entries"][-1]
    errors = round(result.error_rate * result.requests)
    assert (total["requests"], total["failures"]) == (result.requests, errors), (total, result.requests)
    assert result.requests > 40 and errors / result.requests > 0.6, (result.requests, errors)
    assert {e["error"] for e in stats["errors"]} == {"HTTP 500", *RULES}, stats  # str() of the exceptions


@contextmanager
def _web_ui(sandbox: RunningSandbox, tmp_path: Path, report: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [LOCUST, "-f", str(LOCUSTFILE), "--host", sandbox.base_url, "--web-host", "127.0.0.1", "--web-port",
         "0", "--series-ids", SERIES, "--user", "sandbox:sandbox", "--harness-report-dir", str(report)],
        cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{listening_port(process)}"  # it bound a free port itself (--web-port 0)
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base + "/stats/requests", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline, "the web UI did not come up"
                time.sleep(0.1)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_web_ui_agrees_and_its_report_names_the_swarm(tmp_path: Path) -> None:
    """Through the web UI's own API: 2 s idle, a swarm of 3 users for 3 s (run_time), 1.5 s idle, Ctrl-C. The
    web UI's totals are the report's; the report says 3 users and about 3 s, not the process's life, and the
    run was not interrupted (Ctrl-C is how a web-UI session ends)."""
    report = tmp_path / "report"
    with running_sandbox(mutate=_broken()) as sandbox, _web_ui(sandbox, tmp_path, report) as (process, base):
        time.sleep(2.0)  # idle before the swarm: no traffic, so no duration
        stats = _swarm(base, 3, "3s")
        time.sleep(1.5)  # idle after it, too
        process.send_signal(signal.SIGINT)  # Ctrl-C: taken in a greenlet of its own, never in the web server
        _, err = process.communicate(timeout=60)
    assert "Traceback" not in err, err[-6000:]
    total = next(row for row in stats["stats"] if row["name"] == "Aggregated")
    summary = json.loads((report / "summary.json").read_text())
    assert (total["num_requests"], total["num_failures"]) == _harness_figures(summary), (total, summary)
    assert [row["name"] for row in stats["stats"]] == ["bulk-issue", "Aggregated"], stats["stats"]
    assert summary["users"] == 3, summary
    # The swarm's 3 s (gevent's timer may end it early), not the 6.5 s and more of the process.
    assert 1.0 <= summary["duration_s"] <= 4.0, summary
    assert summary["files"]["coupons.csv"] == str(report / "coupons.csv"), summary["files"]
    assert summary["interrupted"] is False and summary["stopped_reason"] is None, summary
    _timeline_reads_locusts_rate(summary, total["num_requests"], total["total_rps"])


def _swarm(base: str, users: int, run_time: str) -> dict[str, Any]:
    """One web-UI test: swarm, wait until its run time stopped it; Locust's /stats/requests at the end."""
    answer = requests.post(base + "/swarm", data={"user_count": users, "spawn_rate": users, "run_time": run_time},
                           timeout=10)
    assert answer.json()["success"], answer.text
    deadline = time.monotonic() + 30
    while (stats := requests.get(base + "/stats/requests", timeout=5).json())["state"] != "stopped":
        assert time.monotonic() < deadline, "the swarm did not stop after its run time"
        time.sleep(0.2)
    result: dict[str, Any] = stats
    return result


def _report_once(report: Path, newer_than: int = -1) -> dict[str, Any]:
    """The report's summary.json once it is written with more than `newer_than` requests (a web-UI stop writes
    it after its users stopped)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            summary: dict[str, Any] = json.loads((report / "summary.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            summary = {}
        if summary.get("requests", -1) > newer_than:
            return summary
        assert time.monotonic() < deadline, "no report after the web UI's stop"
        time.sleep(0.1)


def _aggregated(stats: dict[str, Any]) -> int:
    counts = {row["name"]: int(row["num_requests"]) for row in stats["stats"]}
    assert counts.get("bulk-issue") == counts["Aggregated"], counts  # per-name row and total agree
    return counts["Aggregated"]


def test_two_web_ui_tests_are_one_report_that_says_so(tmp_path: Path) -> None:
    """Locust clears its statistics when a new test starts; the report keeps every request (and coupon) of the
    process, counts both tests' traffic time and the larger swarm, and says why Locust shows fewer. Each stop
    writes the report (before: only when Locust quit): after the first it is Locust's first test, after the second
    the first plus Locust's second, each test's requests in its notes; Locust's per-name rows are its totals."""
    report = tmp_path / "report"
    with running_sandbox() as sandbox, _web_ui(sandbox, tmp_path, report) as (process, base):
        first = _aggregated(_swarm(base, 2, "2s"))
        after_first = _report_once(report)
        time.sleep(2.0)  # idle between the tests
        last = _swarm(base, 3, "2s")
        after_last = _report_once(report, after_first["requests"])
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert "Traceback" not in err, err[-3000:]
    assert after_first["requests"] == first > 0, (after_first, first)
    assert after_last["requests"] == first + _aggregated(last), (after_last, first, last)
    assert f"test 1: 2 users, {first:,} requests" in after_last["notes"], after_last["notes"]
    assert f"test 2: 3 users, {_aggregated(last):,} requests" in after_last["notes"], after_last["notes"]
    assert f"test 1 stopped: PASS: {after_first['verdict']}" in err and "test 2 stopped: reports: " in err, err
    summary = json.loads((report / "summary.json").read_text())
    total = next(row for row in last["stats"] if row["name"] == "Aggregated")
    assert summary["requests"] == after_last["requests"] > total["num_requests"] > 0, (summary, total)
    assert summary["users"] == 3, summary
    assert 1.0 <= summary["duration_s"] <= 5.0, summary  # two tests of 2 s, not the idle time around them
    assert any("Locust cleared its statistics during the run (2 tests" in note for note in summary["notes"]), summary
    _said_at_exit(err, summary, report)


def _web_and_master_ports(process: subprocess.Popen[str]) -> dict[str, int]:
    """A master told --web-port 0 and --master-bind-port 0 bound two free ports itself: the one that answers
    HTTP is its web UI."""
    deadline = time.monotonic() + 30
    while len(ports := {c.laddr.port for c in psutil.Process(process.pid).net_connections("tcp")
                        if c.status == psutil.CONN_LISTEN}) < 2:
        assert process.poll() is None and time.monotonic() < deadline, "the master did not listen"
        time.sleep(0.1)
    for port in ports:
        try:
            requests.get(f"http://127.0.0.1:{port}/stats/requests", timeout=3)
        except requests.RequestException:
            continue
        return {"web": port, "master": (ports - {port}).pop()}
    raise AssertionError(f"no web UI among {ports}")


def test_a_web_ui_master_writes_its_report_at_each_stop(tmp_path: Path) -> None:
    """The web UI of a master with one worker: the stop's report waits for the worker's last figures and equals
    Locust's own statistics of the test (per-name row and total); Ctrl-C ends with the verdict and the folder."""
    report = tmp_path / "report"
    with running_sandbox() as sandbox:
        common = ["-f", str(LOCUSTFILE), "--host", sandbox.base_url, "--series-ids", SERIES,
                  "--user", "sandbox:sandbox"]
        master = subprocess.Popen([LOCUST, *common, "--master", "--master-bind-host", "127.0.0.1",
                                   "--master-bind-port", "0", "--web-host",
                                   "127.0.0.1", "--web-port", "0", "--harness-report-dir", str(report)],
                                  cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        worker = None
        try:
            ports = _web_and_master_ports(master)
            worker = subprocess.Popen([LOCUST, *common, "--worker", "--master-port", str(ports["master"])],
                                      cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            base = f"http://127.0.0.1:{ports['web']}"
            deadline = time.monotonic() + 30
            while requests.get(base + "/stats/requests", timeout=5).json().get("worker_count", 0) < 1:
                assert time.monotonic() < deadline, "the worker did not connect"
                time.sleep(0.1)
            _swarm(base, 2, "2s")
            after_stop = _report_once(report)
            listed_at_stop = len(coupon_rows(report)) - 1
            master.send_signal(signal.SIGINT)
            out, err = master.communicate(timeout=60)
            worker.wait(timeout=30)
            issued = sum(sandbox.issuer.coupons_issued(series) for series in VALID)
        finally:
            for process in (master, worker):
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait()
    assert "Traceback" not in err, err[-3000:]
    # Locust's own final table (its web UI's statistics are cached for 2 s, and say "stopped" before the worker's
    # last figures arrive): the same test, per-name row and total.
    printed = _printed_counts(out + "\n" + err)
    assert printed == {"POST bulk-issue": after_stop["requests"], "Aggregated": after_stop["requests"]}, (
        printed, after_stop["requests"], err[-3000:])
    assert after_stop["requests"] > 0, err[-3000:]
    # Every coupon the worker's users got is listed at the stop (the worker's last delta was not discarded).
    assert listed_at_stop == issued == after_stop["coupons_issued"], (listed_at_stop, issued, after_stop)
    summary = json.loads((report / "summary.json").read_text())
    assert summary["requests"] == after_stop["requests"], summary
    _said_at_exit(err, summary, report)


def test_headless_report_names_the_users_and_the_traffic_time(tmp_path: Path) -> None:
    report = tmp_path / "report"
    with running_sandbox() as sandbox:
        done = subprocess.run(
            [LOCUST, "-f", str(LOCUSTFILE), "--headless", "--host", sandbox.base_url, "-u", "3", "-r", "3",
             "-t", "3s", "--series-ids", SERIES, "--user", "sandbox:sandbox", "--html", str(tmp_path / "l.html"),
             "--harness-report-dir", str(report)],
            cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((report / "summary.json").read_text())
    assert summary["users"] == 3, summary
    assert 1.0 <= summary["duration_s"] <= 3.5, summary  # -t 3s (gevent's timer may end it early)
    assert summary["files"] == {"coupons.csv": str(report / "coupons.csv"),
                                "locust report.html": str(tmp_path / "l.html")}, summary["files"]
    assert (tmp_path / "l.html").exists() and (report / "coupons.csv").exists()
    markdown = (report / "report.md").read_text()
    assert "3 users" in markdown and "l.html" in markdown, markdown
    # Locust's own final table: its bulk-issue row and its Aggregated row both count the report's requests.
    # (on stderr or stdout: Locust's console logger picks one by its options)
    printed = _printed_counts(done.stdout + "\n" + done.stderr)
    assert printed == {"POST bulk-issue": summary["requests"], "Aggregated": summary["requests"]}, printed
    _said_at_exit(done.stderr, summary, report)


def test_ctrl_c_mid_run_stops_in_order_and_still_agrees(tmp_path: Path) -> None:
    """Ctrl-C is taken in a greenlet of its own (not as a KeyboardInterrupt inside a user mid-request, with a
    traceback and a lost answer): the users stop, the report says interrupted, Locust's totals are its own."""
    report = tmp_path / "report"
    with running_sandbox(mutate=_broken()) as sandbox:
        process = subprocess.Popen(
            [LOCUST, "-f", str(LOCUSTFILE), "--headless", "--host", sandbox.base_url, "-u", "4", "-r", "4",
             "-t", "60s", "--series-ids", SERIES, "--user", "sandbox:sandbox", "--json",
             "--harness-report-dir", str(report)],
            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            while not (report / "coupons.csv").exists() or (report / "coupons.csv").stat().st_size < 2000:
                assert process.poll() is None and time.monotonic() < deadline, "no coupons within 30 s"
                time.sleep(0.1)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    entries = json.loads(out)
    summary = json.loads((report / "summary.json").read_text())
    assert (entries[0]["num_requests"], entries[0]["num_failures"]) == _harness_figures(summary), summary
    assert summary["interrupted"] is True and summary["stopped_reason"] == "interrupted by Ctrl-C (SIGINT)", summary
    assert summary["duration_s"] < 30, summary
