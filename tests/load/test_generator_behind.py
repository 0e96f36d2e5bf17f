"""An open-model generator starved of CPU by other processes is caught behind its schedule, though its own CPU
reads low; with its core to itself, it is not.

The starved case is what a shared CI machine does to a load run: the event loop wakes users late, and since
latency counts from the intended send time, that delay reads as the target's. The run must say so (and the
capacity search must stop there instead of calling it a knee). Marked serial: the control run needs a quiet
core. Needs taskset and two cores (the sandbox on one, the generator and the hogs on the other).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.children import Children
from tests.load.support import load_settings
from tests.sockets import announced_url

from coupon_harness.runners.load.recorder import Recorder
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


@contextmanager
def _generator_core(hogs: int) -> Iterator[None]:
    """This process (and so the load process it starts) on one core, with `hogs` busy processes beside it."""
    before = os.sched_getaffinity(0)
    busy = [subprocess.Popen(["taskset", "-c", str(GENERATOR_CORE), sys.executable, "-c", "while True: pass"])
            for _ in range(hogs)]
    os.sched_setaffinity(0, {GENERATOR_CORE})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)
        for hog in busy:
            hog.kill()
            hog.wait()


@pytest.mark.parametrize("hogs", [0, HOGS], ids=["alone", "starved"])
def test_a_starved_generator_is_behind_its_schedule(tmp_path: Path, hogs: int) -> None:
    with _sandbox_on_core_0() as base_url, _generator_core(hogs):
        result = run_load(load_settings(base_url, arrival_rate=200.0, users=100, run_time_s=6.0), tmp_path)
    assert result.requests > 300 and result.generator_late_share is not None
    if hogs:
        assert result.generator_behind, (result.generator_late_share, result.generator_cpu_max)
        assert any("fell behind its own schedule" in note for note in result.notes)
        assert not result.generator_saturated  # its CPU reads low: the CPU watch alone would not see it
    else:
        assert not result.generator_behind, result.generator_late_share
        assert result.generator_late_share < 0.01


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
