"""A soak through a real load run: 10^6 coupons issued by the sandbox, every one counted, listed and checked for
uniqueness, in bounded memory (issue 9). And a code answered again to another customer after many coupons is
flagged exactly once.

The sandbox runs in a process of its own (`soak_target.py`: 50 series, so a request carries a batch of 50
coupons: 2 x 10^4 requests carry the 10^6 coupons; with 10 series the 10^5 requests took 36 s alone, 90-130 s
beside a parallel suite, for no coupon more), the load runner in its own
(`python -m coupon_harness.runners.load.process`); the test samples both
processes' RSS while the run goes (psutil, and the kernel's high-water mark, VmHWM, where /proc has it).

The memory bound, from the Ledger's CodeStore (src/coupon_harness/codestore.py) as it stands: every series'
codes are packed into 64-bit slots from the first code on (a table starts at one bucket and doubles as it grows),
~9-12 bytes a code: ~70 MB of interpreter, gevent and Locust (a 2 x 10^4-coupon run peaks at ~68 MB) + 10^6 x
~12 B (~12 MB) + the recorder's deltas in flight: ~90 MB; measured 93 MB (167 MB while a series' first 65,536 codes
still sat in a dict). The bound, 200 MB, leaves room for changes elsewhere in the process, while a load process
that kept every coupon in Python objects (a (series, code, customer) tuple and its strings, >= 150 bytes a coupon)
would pass it. The sandbox (its issued codes in the same CodeStore, one per run) measured ~60 MB.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from coupon_harness.results.load import LoadRunResult
from coupon_harness.runners.load.runner import run_load
from load.soak_target import series_ids
from load.support import describe, load_settings

TARGET = Path(__file__).with_name("soak_target.py")
LOAD_MODULE = "coupon_harness.runners.load.process"
SERIES = 50
MILLION = 1_000_000
MB = 1 << 20
#: See the module's docstring for both bounds.
LOAD_PEAK_BOUND = 200 * MB
SANDBOX_PEAK_BOUND = 200 * MB


@dataclass
class Peaks:
    """Peak RSS (bytes) of the load process(es) and of the sandbox, sampled while a run goes."""

    load: int = 0
    sandbox: int = 0
    load_pids: set[int] = field(default_factory=set)
    samples: int = 0

    def text(self) -> str:
        return (f"peak RSS: load process {self.load / MB:.1f} MB (pids {sorted(self.load_pids)}), "
                f"sandbox {self.sandbox / MB:.1f} MB, {self.samples} samples")


def _high_water(pid: int) -> int:
    """The kernel's peak RSS of a process (VmHWM), 0 where /proc does not tell."""
    try:
        with Path(f"/proc/{pid}/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _rss(process: psutil.Process) -> int:
    try:
        return max(int(process.memory_info().rss), _high_water(process.pid))
    except psutil.Error:
        return 0


@contextmanager
def _sampling(sandbox_pid: int, every_s: float = 0.1) -> Iterator[Peaks]:
    """Samples the sandbox and the load process run_load starts (found among this process's children). VmHWM is
    the kernel's own peak, so the sampling rate only matters where /proc lacks it; the load process is looked
    for until found, then only it and the sandbox are read (the sampler competes for the same two cores)."""
    peaks = Peaks()
    done = threading.Event()
    me = psutil.Process()
    sandbox = psutil.Process(sandbox_pid)
    loads: list[psutil.Process] = []

    def sample() -> None:
        while not done.is_set():
            if not loads:
                for child in me.children(recursive=True):
                    try:
                        if child.pid != sandbox_pid and LOAD_MODULE in child.cmdline():
                            loads.append(child)
                            peaks.load_pids.add(child.pid)
                    except psutil.Error:
                        continue
            for process in loads:
                peaks.load = max(peaks.load, _rss(process))
            peaks.sandbox = max(peaks.sandbox, _rss(sandbox))
            peaks.samples += 1
            done.wait(every_s)

    thread = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        done.set()
        thread.join(timeout=5)


@dataclass
class Soak:
    result: LoadRunResult
    tally: dict[str, Any]
    peaks: Peaks
    out: Path

    def describe(self) -> str:
        return f"{describe(self.result)}\nsandbox: {self.tally}\n{self.peaks.text()}"


def _soak(out: Path, cap: int, plant_after: int | None = None) -> Soak:
    """A load run against a soak sandbox in a subprocess until `cap` coupons; RSS sampled all along."""
    argv = [sys.executable, str(TARGET), "--series", str(SERIES)]
    if plant_after is not None:
        argv += ["--plant-after", str(plant_after)]
    target = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout is not None and target.stdin is not None
        ready = target.stdout.readline().split()
        assert ready[:1] == ["ready"], f"the soak sandbox did not start: {ready}"
        settings = load_settings(ready[1], series_ids=series_ids(SERIES), invalid_series_ids=(), users=10,
                                 spawn_rate=1000.0, batch_min=SERIES, batch_max=SERIES, max_coupons=cap,
                                 # The cap ends the run, long before this; an unanswered request would count
                                 # against the cap, so the timeout is generous for a busy machine.
                                 run_time_s=600.0, request_timeout=30.0)
        with _sampling(target.pid) as peaks:
            result = run_load(settings, out)
        target.stdin.close()
        tally: dict[str, Any] = json.loads(target.stdout.readline())
    finally:
        if target.poll() is None:
            target.kill()
        target.wait()
        for stream in (target.stdin, target.stdout):
            if stream is not None and not stream.closed:
                stream.close()
    return Soak(result, tally, peaks, out)


def _coupon_lines(out: Path) -> Iterator[list[str]]:
    with (out / "coupons.csv").open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        assert next(rows) == ["series_id", "code", "customer_id", "issued_at", "source"]
        for row in rows:
            assert len(row) == 5 and row[4] == "load", row
            yield row[:3]


def test_a_million_coupons_are_issued_counted_and_listed_in_bounded_memory(tmp_path: Path) -> None:
    soak = _soak(tmp_path / "out", MILLION)
    result, why = soak.result, soak.describe()
    # The cap ended the run, exactly at 10^6, and the sandbox issued and answered as many.
    assert result.coupons_issued == MILLION, why
    assert "--max-coupons reached" in (result.stopped_reason or ""), why
    assert soak.tally["issued"] == soak.tally["answered"] == MILLION, why
    assert result.requests == MILLION // SERIES, why
    assert result.status_counts == {"200": result.requests}, why
    assert result.duplicate_codes == 0 and result.violation_counts == {}, why
    # coupons.csv lists every coupon once: 10^6 data lines, no (series, code) twice, only the run's series.
    pairs: set[tuple[str, str]] = set()
    lines = 0
    for series, code, _customer in _coupon_lines(soak.out):
        lines += 1
        pairs.add((series, code))
    assert lines == MILLION, why
    assert len(pairs) == MILLION, f"{MILLION - len(pairs)} (series, code) pairs listed twice\n{why}"
    assert {int(series) for series, _ in pairs} == set(series_ids(SERIES)), why
    # Memory: bounded (see the module's docstring); both processes were seen.
    assert soak.peaks.load_pids and soak.peaks.sandbox > 0, why
    assert soak.peaks.load < LOAD_PEAK_BOUND, why
    assert soak.peaks.sandbox < SANDBOX_PEAK_BOUND, why
    print(why.splitlines()[-1])  # the figures, for `pytest -s` and the notes


@pytest.mark.parametrize("cap, plant_after", [(100_000, 60_000)])
def test_a_code_answered_again_after_many_coupons_is_flagged_once(tmp_path: Path, cap: int,
                                                                  plant_after: int) -> None:
    soak = _soak(tmp_path / "out", cap, plant_after=plant_after)
    result, why = soak.result, soak.describe()
    planted = soak.tally["planted"]
    assert planted is not None and planted["after"] >= plant_after, why
    assert result.coupons_issued == cap == soak.tally["answered"], why
    # The one planted repeat, and nothing else, is a duplicate.
    assert result.duplicate_codes == 1, why
    assert result.violation_counts == {"unique-codes": 1}, why
    assert planted["code"] in result.violation_examples["unique-codes"], why
    assert not result.holds, why
    # coupons.csv lists both coupons that carry the code, to the two customers, and no other pair twice.
    holders: dict[tuple[str, str], list[str]] = {}
    counts: Counter[tuple[str, str]] = Counter()
    for series, code, customer in _coupon_lines(soak.out):
        counts[(series, code)] += 1
        if code == planted["code"]:
            holders.setdefault((series, code), []).append(customer)
    assert sum(counts.values()) == cap, why
    assert [pair for pair, count in counts.items() if count > 1] == [(str(planted["series"]), planted["code"])], why
    assert sorted(holders[(str(planted["series"]), planted["code"])]) == sorted(
        [planted["first_customer"], planted["second_customer"]]), why
