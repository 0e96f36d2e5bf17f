"""The peak resident memory of the load processes a run starts (`python -m coupon_harness.runners.load.process`).

A thread polls the process tree under `root` (default: this process) every `interval` seconds and reads each load
process's high-water mark (Linux `VmHWM`, the kernel's own peak, so a spike between two polls is not missed;
psutil's current RSS elsewhere). Used by the hostile-target tests and `scripts/bench_hostile.py`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from types import TracebackType

import psutil

__all__ = ["LOAD_MODULE", "LoadProcessPeak"]

LOAD_MODULE = "coupon_harness.runners.load.process"


def _peak_bytes(process: psutil.Process) -> int:
    status = Path(f"/proc/{process.pid}/status")
    with contextlib.suppress(OSError, ValueError):
        for line in status.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return int(process.memory_info().rss)


class LoadProcessPeak:
    """`with LoadProcessPeak() as peak: ...`, then `peak.mb` (the highest of every load process seen) and
    `peak.seen` (how many load processes were seen: 0 means nothing was measured)."""

    def __init__(self, root: int | None = None, interval: float = 0.05) -> None:
        self.root = os.getpid() if root is None else root
        self.interval = interval
        self.peak = 0
        self._seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="load-process-peak", daemon=True)

    @property
    def mb(self) -> float:
        return self.peak / 1024 / 1024

    @property
    def seen(self) -> int:
        return len(self._seen)

    def _poll(self) -> None:
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.root).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if LOAD_MODULE not in " ".join(child.cmdline()):
                        continue
                    self._seen.add(child.pid)
                    self.peak = max(self.peak, _peak_bytes(child))

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()

    def __enter__(self) -> LoadProcessPeak:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(5)
