"""An open-model generator starved of CPU by other processes is caught behind its schedule, though its own CPU
reads low; the verdicts (behind, saturated) are judged on controlled figures too.

The starved case is what a shared CI machine does to a load run: the event loop wakes users late, and since
latency counts from the intended send time, that delay reads as the target's. The run must say so (and the
capacity search must stop there instead of calling it a knee). Marked serial: its 16 CPU hogs would starve
its neighbours. Needs taskset and two cores (the sandbox on one, the generator and the hogs on the other).
The hogs start once the run is sending and stop when its time is up: started before, they starved the load
process's start-up and its reports too (a 1/17 share of the core: ~35 s of a 48 s test), which prove nothing here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.children import Children
from tests.load.support import load_settings
from tests.sockets import announced_url

from coupon_harness.coupon_log import count_rows
from coupon_harness.runners.load.recorder import BEHIND_MIN_WAITS, BEHIND_SHARE, Recorder
from coupon_harness.runners.load.runner import run_load

pytestmark = pytest.mark.skipif(shutil.which("taskset") is None or (os.cpu_count() or 1) < 2,
                                reason="needs taskset and two cores")
CLI = str(Path(sys.executable).with_name("coupon-harness"))
HOGS = 16
GENERATOR_CORE = 1


@contextmanager
def _sandbox_on_core_0() -> Iterator[str]:
    """`coupon-harness serve --port 0` on core 0: it binds a free port itself and prints its URL."""
    children = Children()
    try:
        server = children.start(["taskset", "-c", "0", CLI, "serve", "--port", "0"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        yield announced_url(server)
    finally:
        children.close()


def _sending(out: Path) -> bool:
    """The run's coupons.csv lists a coupon: its users are sending (rows are flushed with each answer)."""
    try:
        return count_rows(out / "coupons.csv") > 0
    except OSError:
        return False


@contextmanager
def _generator_core(hogs: int, out: Path, run_time_s: float) -> Iterator[None]:
    """This process (and so the load process it starts) on one core; `hogs` busy processes beside it from the
    moment the run in `out` is sending until its `run_time_s` are over (see the module's docstring)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {GENERATOR_CORE})
    busy: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()

    def starve() -> None:
        deadline = time.monotonic() + 120  # a hang guard: the run below fails on its own without hogs
        while not _sending(out) and not stop.wait(0.02) and time.monotonic() < deadline:
            pass
        if not stop.is_set():
            busy.extend(subprocess.Popen(["taskset", "-c", str(GENERATOR_CORE), sys.executable, "-c",
                                          "while True: pass"]) for _ in range(hogs))
            stop.wait(run_time_s)
        for hog in busy:
            hog.kill()

    thread = threading.Thread(target=starve, name="hogs", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
        os.sched_setaffinity(0, before)
        for hog in busy:
            hog.kill()
            hog.wait()


def test_a_starved_generator_is_behind_its_schedule(tmp_path: Path) -> None:
    """End to end, the one direction CPU contention cannot flip: more contention only starves it more. (The
    control, a generator with its core to itself, is judged below on controlled figures: on a busy machine no
    core is its own.)"""
    run_time_s = 6.0
    with _sandbox_on_core_0() as base_url, _generator_core(HOGS, tmp_path, run_time_s):
        result = run_load(load_settings(base_url, arrival_rate=200.0, users=100, run_time_s=run_time_s), tmp_path)
    # Enough sends to judge (a busy machine only starves it more: fewer sends, a larger late share).
    assert result.requests >= BEHIND_MIN_WAITS and result.generator_late_share is not None, result.requests
    assert result.generator_behind, (result.generator_late_share, result.generator_cpu_max)
    assert any("fell behind its own schedule" in note for note in result.notes)
    assert not result.generator_saturated  # its CPU reads low: the CPU watch alone would not see it


#: Results for given schedule counters and CPU samples, built by runners/load/result.py in a child process (it
#: imports the load plugin, which patches the process with gevent: never inside pytest's).
_VERDICTS = """
import json, sys
from types import SimpleNamespace
from coupon_harness.coupon_log import count_rows
from coupon_harness.runners.load.recorder import Aggregate
from coupon_harness.runners.load.result import build_result
from coupon_harness.runners.load.settings import LoadSettings
from coupon_harness.transport.auth import Credentials, Redactor
settings = LoadSettings(base_url="http://127.0.0.1:9", series_ids=(101,), arrival_rate=200.0)
out = []
for waits, late, cpu in json.loads(sys.argv[1]):
    aggregate = Aggregate(1.0, frozenset(), None)
    aggregate.counters["schedule_waits"], aggregate.counters["schedule_late"] = waits, late
    state = SimpleNamespace(aggregate=aggregate, cpu_samples=cpu, redactor=Redactor(Credentials()), steps=[],
                            stopped_reason=None)
    result = build_result(settings, state, "2026-01-01T00:00:00Z", 6.0, False, 0)
    out.append([result.generator_behind, result.generator_saturated, result.generator_late_share, result.notes])
print(json.dumps(out))
"""


def _verdicts(*cases: tuple[int, int, list[float]]) -> list[tuple[bool, bool, float | None, list[str]]]:
    done = subprocess.run([sys.executable, "-c", _VERDICTS, json.dumps(cases)], capture_output=True, text=True,
                          timeout=120, check=True)
    return [tuple(row) for row in json.loads(done.stdout)]  # type: ignore[misc]


def test_behind_and_saturated_are_judged_on_late_sends_and_cpu_samples() -> None:
    """The verdicts on controlled figures: over the share of late sends is behind, at it is not (a generator with
    its core to itself); too few sends are not judged; a fifth of the CPU samples at 90% or more is saturated."""
    quiet = [20.0] * 10
    over, at, few, none, fifth, less = _verdicts(
        (1000, int(1000 * BEHIND_SHARE) + 1, quiet), (1000, int(1000 * BEHIND_SHARE), quiet),
        (BEHIND_MIN_WAITS - 1, BEHIND_MIN_WAITS - 1, quiet), (0, 0, quiet),
        (1000, 0, [95.0] * 2 + [20.0] * 8), (1000, 0, [95.0] + [20.0] * 9))
    assert over[:2] == (True, False) and any("fell behind its own schedule" in note for note in over[3]), over
    assert at[:3] == (False, False, BEHIND_SHARE) and not any("fell behind" in note for note in at[3]), at
    assert few[:3] == (False, False, 1.0), few
    assert none[:3] == (False, False, None), none
    assert fifth[:2] == (False, True) and any("CPU was above 90%" in note for note in fifth[3]), fifth
    assert less[:2] == (False, False), less


def test_the_recorder_counts_late_wakes_only_past_the_threshold() -> None:
    recorder = Recorder(1.0)
    for late in (0.0, 0.002, 0.0099, 0.0101, 0.5):
        recorder.woke(late)
    assert recorder.counters["schedule_waits"] == 5 and recorder.counters["schedule_late"] == 2
    assert recorder.take_delta()["counters"]["schedule_late"] == 2  # shipped to the master with the rest


def test_a_closed_model_run_has_no_schedule_to_fall_behind(tmp_path: Path) -> None:
    from tests.load.support import run_against_sandbox

    result = run_against_sandbox(tmp_path, users=2, run_time_s=1.5)
    assert result.generator_late_share is None and not result.generator_behind
