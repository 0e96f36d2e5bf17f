"""Distributed mode as a user runs it across machines: the target, the master and two workers each in a network
namespace of their own, joined by a private bridge (10.213.X.0/24, nowhere else), all through the CLI
(`coupon-harness load --master ...` / `--worker --master-host ...`).

- The merged report counts what the target answered, request for request and code for code, the load came
  from both workers, and the merged HDR figures agree with Locust's own merged counters (its mean and max are
  exact) within HDR precision (3 significant digits).
- A code the target answers to a customer of one worker and again to a customer of the other is found:
  `unique-codes` is decided on the master, across workers.
- A worker killed (SIGKILL) mid-run: the master still ends, writes its report and says a worker sent no
  last report.

Skipped, with the reason, where `ip netns add` is not allowed (not root, no CAP_NET_ADMIN)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.load.netns import PREFLIGHT_REQUESTS, Lab, NetnsUnavailable

NETNS_PY = Path(__file__).with_name("netns.py")
CLI = str(Path(sys.executable).with_name("coupon-harness"))
#: The target's port: fixed, yet no race, since the target listens in a network namespace of its own, made for this
#: run, where nothing else can bind. The master and workers use the CLI's default master port (5557) the same way:
#: in the master's own namespace, which is what a user's deployment does.
TARGET_PORT = 8080
#: The HDR histograms keep 3 significant digits; Locust's mean and max are exact.
HDR_PRECISION = 0.001
ROLES = ("target", "master", "w1", "w2")


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    try:
        with Lab.open(ROLES) as made:
            yield made
    except NetnsUnavailable as exc:
        pytest.skip(str(exc))


@dataclass
class Run:
    master_exit: int | None
    summary: dict[str, Any]
    locust: dict[str, Any]
    tally: dict[str, Any]
    output: str
    worker_exits: list[int | None] = field(default_factory=list)
    #: The end of each process's output by role (master, w1, w2, target).
    logs: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """What a failure needs: exits, the target's tally, the summary without its bulky parts, Locust's merged
        counters, and the end of every process's log (each its own share: one chatty worker must not push the
        master's log out)."""
        bulky = ("timeline", "histograms", "steps")
        figures = {key: value for key, value in self.summary.items() if key not in bulky}
        locust = next((entry for entry in self.locust.get("entries", []) if entry.get("name") == "Aggregated"), None)
        tails = "\n".join(f"--- {role} ---\n{text[-(3000 if role == 'master' else 1500):]}"
                          for role, text in self.logs.items())
        return (f"master exit {self.master_exit}, workers {self.worker_exits}\ntarget: {self.tally}\n"
                f"locust: {locust}\nsummary: {json.dumps(figures, indent=1)}\n{tails or self.output[-4000:]}")


def _lines(stream: Any, into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line.rstrip("\n"))


def _wait_for(lines: queue.Queue[str], wanted: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise AssertionError(f"the target never printed {wanted!r} within {timeout:g} s") from None
        if line == wanted:
            return


# Complexity allowed: one end-to-end run across network namespaces, step by step.
def _distributed_run(lab: Lab, out: Path, *, plant: bool = False, kill_w2_after_s: float | None = None) -> Run:  # noqa: PLR0915
    """One run: a counting target, a master and two workers, each in its namespace; the target's tally."""
    target_host, master_host = lab.address["target"], lab.address["master"]
    base_url = f"http://{target_host}:{TARGET_PORT}"
    env = {**os.environ, "COUPON_HARNESS_USER": "sandbox:sandbox", "NO_COLOR": "1"}
    common = ["--base-url", base_url, "--series-ids", "101,102,105", "--max-coupons", "100000000",
              "--request-timeout", "3"]
    logs = {role: out / f"{role}.log" for role in ("master", "w1", "w2", "target")}
    started: list[subprocess.Popen[Any]] = []
    target_lines: queue.Queue[str] = queue.Queue()
    readers: list[threading.Thread] = []
    plant_args = ["--plant-from", lab.address["w1"], "--plant-to", lab.address["w2"]] if plant else []
    target_log = logs["target"].open("w")
    try:
        target = subprocess.Popen(
            lab.command("target", [sys.executable, str(NETNS_PY), "target", "--host", target_host,
                                   "--port", str(TARGET_PORT), *plant_args]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=target_log, text=True, env=env)
        started.append(target)
        readers.append(threading.Thread(target=_lines, args=(target.stdout, target_lines), daemon=True))
        readers[0].start()
        _wait_for(target_lines, "ready", 15)

        def launch(role: str, argv: list[str]) -> subprocess.Popen[Any]:
            with logs[role].open("w") as log:
                process = subprocess.Popen(lab.command(role, [CLI, "load", *argv, *common]), env=env,
                                           stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            started.append(process)
            return process

        master = launch("master", ["--master", "--expect-workers", "2", "--master-bind-host", master_host,
                                   "--run-time", "6s", "--users", "8",
                                   "--report-dir", str(out / "report"), "--no-color"])
        workers = [launch(role, ["--worker", "--master-host", master_host])
                   for role in ("w1", "w2")]
        if kill_w2_after_s is not None:
            _wait_for(target_lines, f"seen {lab.address['w2']}", 30)
            time.sleep(kill_w2_after_s)
            assert lab.kill("w2"), "nothing ran in the second worker's namespace"
        master_exit: int | None
        try:
            master_exit = master.wait(timeout=60)
        except subprocess.TimeoutExpired:
            master_exit = None  # a hang: reported by the assertions below, with the output
        worker_exits: list[int | None] = []
        for worker in workers:
            try:
                worker_exits.append(worker.wait(timeout=15))
            except subprocess.TimeoutExpired:
                worker_exits.append(None)
        assert target.stdin is not None
        target.stdin.close()
        tally: dict[str, Any] = {}
        deadline = time.monotonic() + 10
        while not tally and time.monotonic() < deadline:
            try:
                with_line = target_lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break  # no tally: the assertions say so, with the target's log
            if with_line.startswith("{"):
                tally = json.loads(with_line)
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait()
        for reader in readers:
            reader.join(timeout=5)
        for process in started[:1]:
            for stream in (process.stdin, process.stdout):
                if stream is not None and not stream.closed:
                    stream.close()
        target_log.close()
    report = out / "report"
    summary = json.loads((report / "summary.json").read_text()) if (report / "summary.json").is_file() else {}
    stats = report / "locust_stats.json"
    locust = json.loads(stats.read_text()) if stats.is_file() else {}
    texts = {role: path.read_text(errors="replace") for role, path in logs.items() if path.is_file()}
    output = "\n".join(f"--- {role} ---\n{text}" for role, text in texts.items())
    return Run(master_exit, summary, locust, tally, output, worker_exits, texts)


def _locust_total(run: Run) -> dict[str, Any]:
    return next(entry for entry in run.locust["entries"] if entry["name"] == "Aggregated")


def test_the_merged_report_counts_every_answer_and_finds_a_duplicate_across_workers(lab: Lab, tmp_path: Path) -> None:
    run = _distributed_run(lab, tmp_path, plant=True)
    summary, tally = run.summary, run.tally
    assert summary, f"no summary.json\n{run.describe()}"
    assert tally, f"the target printed no tally\n{run.describe()}"
    assert run.worker_exits == [0, 0], run.describe()
    answers = tally["answers"]
    # Every answer went to a worker, through the private links; both workers sent load.
    assert set(answers) == {lab.address["w1"], lab.address["w2"]}, run.describe()
    assert all(count > 0 for count in answers.values()), run.describe()
    # The merged report counts what the target answered, to the request (each worker's preflight aside: its
    # request tries the target, it is no load) and to the code (the preflight's coupons included).
    assert summary["requests"] > 0, run.describe()
    assert summary["requests"] + 2 * PREFLIGHT_REQUESTS == sum(answers.values()), run.describe()
    assert summary["coupons_issued"] == sum(tally["codes"].values()), run.describe()
    assert summary["workers"] == 2, run.describe()
    # The duplicate planted across workers is found on the master; nothing else is wrong.
    assert tally["planted"] is not None, run.describe()
    assert summary["duplicate_codes"] == 1, run.describe()
    assert summary["violation_counts"] == {"unique-codes": 1}, run.describe()
    assert run.master_exit == 1, run.describe()
    # Locust's own merged counters agree with the harness's merged HDR figures.
    total = _locust_total(run)
    assert total["requests"] == summary["requests"], run.describe()
    assert total["failures"] == 0, run.describe()
    latency = summary["latency_ms"]
    for ours, theirs in (("mean", "avg_ms"), ("max", "max_ms")):
        assert latency[ours] == pytest.approx(total[theirs], rel=HDR_PRECISION, abs=0.002), (ours, run.describe())
    assert not [note for note in summary["notes"] if "no last report" in note], run.describe()


def test_a_worker_killed_mid_run_is_reported_and_the_run_ends_with_a_report(lab: Lab, tmp_path: Path) -> None:
    run = _distributed_run(lab, tmp_path, kill_w2_after_s=1.5)
    assert run.master_exit is not None, f"the master hung after a worker was killed\n{run.describe()}"
    assert run.summary, f"no summary.json after a worker was killed\n{run.describe()}"
    assert run.tally, f"the target printed no tally\n{run.describe()}"
    assert run.master_exit == 0, run.describe()
    assert run.worker_exits[0] == 0, run.describe()
    summary = run.summary
    assert summary["requests"] > 0, run.describe()
    assert any("1 worker(s) sent no last report" in note for note in summary["notes"]), run.describe()
    # The killed worker's last seconds are lost, never invented: the report counts at most what was answered.
    assert 0 < summary["requests"] <= sum(run.tally["answers"].values()), run.describe()
    assert summary["coupons_issued"] <= sum(run.tally["codes"].values()), run.describe()
