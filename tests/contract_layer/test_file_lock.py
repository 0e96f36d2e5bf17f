"""The lock file of a report folder and of a baseline: one holder at a time, between processes too; the file goes
with its release; a holder's pid is readable by the one refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from coupon_harness.file_lock import FileLock, holder_of


def test_one_holder_at_a_time_and_the_file_goes_with_the_release(tmp_path: Path) -> None:
    path = tmp_path / ".x.lock"
    first, second = FileLock(path), FileLock(path)
    assert first.acquire() and holder_of(path) == str(os.getpid())
    assert not second.acquire()  # in the same process too: flock is per open file
    first.release()
    assert not path.exists() and holder_of(path) is None
    assert second.acquire()
    second.release()


def test_a_lock_held_by_another_process_is_refused_and_named(tmp_path: Path) -> None:
    path = tmp_path / ".x.lock"
    code = ("import sys, time; from pathlib import Path; from coupon_harness.file_lock import FileLock\n"
            f"lock = FileLock(Path({str(path)!r})); assert lock.acquire(); print('held', flush=True); "
            "sys.stdin.read(); lock.release()\n")
    other = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        assert holder_of(path) == str(other.pid)
        assert not FileLock(path).acquire(timeout=0.2)
    finally:
        other.communicate(timeout=10)  # closes its stdin (it releases), reads the rest, closes the pipes
    mine = FileLock(path)
    assert mine.acquire(timeout=5)  # released (and removed) by the other: taken again
    mine.release()


def test_a_holder_killed_outright_leaves_its_file_unlocked(tmp_path: Path) -> None:
    path = tmp_path / ".x.lock"
    code = ("import os, signal; from pathlib import Path; from coupon_harness.file_lock import FileLock\n"
            f"assert FileLock(Path({str(path)!r})).acquire(); os.kill(os.getpid(), signal.SIGKILL)\n")
    subprocess.run([sys.executable, "-c", code], check=False)
    assert path.exists() and holder_of(path) is None
    lock = FileLock(path)
    assert lock.acquire()
    lock.release()
