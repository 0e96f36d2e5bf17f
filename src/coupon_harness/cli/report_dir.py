"""Report folders: one per run, never shared, never overwritten by surprise, writable before any request.

A default folder is `reports/<kind>-<time>-<6 hex>`, created atomically; a --report-dir that holds reports needs
--overwrite. `check_report_dir` checks with the other inputs and creates nothing; `prepare_report_dir` claims the
folder just before the run: creates it, locks it (`.coupon-harness.lock`, held until `release_claims` or the
process ends, so a stale lock never blocks) and writes a probe file. A second run on a claimed folder is refused
whatever --overwrite says: two writers would mix their files and coupons.csv would lose codes.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from coupon_harness.errors import ConfigError
from coupon_harness.file_lock import FileLock, holder_of

__all__ = ["LOCK_FILE", "REPORT_FILES", "Claim", "ReportDirError", "check_report_dir", "claimed", "claims_mark",
           "prepare_report_dir", "release_claims"]

#: Files whose presence means "this folder holds a run's reports".
REPORT_FILES = ("summary.json", "junit.xml", "report.html", "report.md", "coupons.csv", "index.html")
LOCK_FILE = ".coupon-harness.lock"  # held by a run on its report folder while it writes there


class ReportDirError(ConfigError):
    """The reports cannot go to that folder (exit 2): no setup-error report can go there either."""


@dataclass(slots=True)
class Claim:
    """A report folder this process writes alone, and what its setup-error report would say about the run."""

    folder: Path
    lock: FileLock
    target: str = ""  # as reports may show it (redacted), once the command knows it
    since: float = 0.0  # when the claim was taken: files changed since are this run's


#: The claims of this process, newest last (`run` claims one folder; a test may run several commands in-process).
_claims: list[Claim] = []


def claims_mark() -> int:
    """Where this process's claims stand: a command's own are those after the mark it took when it started."""
    return len(_claims)


def claimed(since: int = 0) -> Claim | None:
    """The folder this process's current run claimed (after `since`), if any."""
    return _claims[-1] if len(_claims) > since else None


def release_claims(since: int = 0) -> None:
    """Drop the claims of this process made after `since` (their locks go with them)."""
    while len(_claims) > since:
        _claims.pop().lock.release()


def _lock(folder: Path, flag: str) -> FileLock:
    """The folder's lock, taken; ReportDirError naming `flag` when another run holds it."""
    lock = FileLock(folder / LOCK_FILE)
    try:
        taken = lock.acquire()
    except OSError as exc:
        raise ReportDirError(f"{flag}: cannot write there ({exc.strerror}); choose a writable folder") from None
    if not taken:
        raise ReportDirError(_in_use(flag, holder_of(folder / LOCK_FILE) or ""))
    return lock


def _fresh(kind: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    parent = Path("reports")
    for _ in range(100):
        name = f"{kind}-{stamp}-{secrets.token_hex(3)}" if kind else f"{stamp}-{secrets.token_hex(3)}"
        folder = parent / name
        try:
            parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir()  # atomic: exactly one run creates it
        except FileExistsError:
            continue
        except OSError as exc:
            raise ReportDirError(f"cannot create a report folder under {parent.resolve()} ({exc.strerror}): "
                                 "pass --report-dir DIR in a writable place") from None
        return folder
    raise ReportDirError(f"cannot find a free report folder name under {parent.resolve()}: pass --report-dir DIR")


def _refuse_reports(folder: Path, flag: str, overwrite: bool) -> None:
    """ReportDirError when the folder (or a `run`'s stage folder) holds reports and --overwrite is not given."""
    places = (folder, folder / "contract", folder / "load")
    if not overwrite and any((place / name).exists() for place in places for name in REPORT_FILES):
        raise ReportDirError(f"{flag}: already holds a run's reports; choose another folder or pass --overwrite")


def _in_use(flag: str, holder: str) -> str:
    who = f" (pid {holder})" if holder.isdigit() else ""
    return (f"{flag}: another coupon-harness run is writing there{who}; give each run its own --report-dir (or "
            "leave it out: every run then gets a new folder)")


def _keep_earlier_coupons(folder: Path) -> None:
    """--overwrite replaces reports, never an earlier run's list of coupons: each coupons.csv is renamed
    `coupons.<its time>.csv`."""
    for earlier in sorted(folder.rglob("coupons.csv")):
        try:
            moment = datetime.fromtimestamp(earlier.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
            target = earlier.with_name(f"coupons.{moment}.csv")
            number = 2
            while target.exists():
                target = earlier.with_name(f"coupons.{moment}-{number}.csv")
                number += 1
            earlier.rename(target)
        except OSError as exc:
            raise ReportDirError(f"--report-dir {folder}: cannot keep the earlier run's {earlier} aside "
                                 f"({exc.strerror}); choose another folder") from None


def check_report_dir(given: str | Path | None, *, overwrite: bool = False) -> None:
    """ConfigError (exit 2) naming --report-dir when the reports could not go there; creates nothing."""
    folder = Path("reports") if given is None or str(given) == "" else Path(given)
    flag = "the default report folder reports/" if given is None or str(given) == "" else f"--report-dir {folder}"
    if folder.exists() and not folder.is_dir():
        raise ReportDirError(f"{flag}: is a file, not a folder; choose a folder")
    if given and folder.is_dir():
        holder = holder_of(folder / LOCK_FILE)
        if holder is not None:  # another run holds the folder's lock
            raise ReportDirError(_in_use(flag, holder))
        _refuse_reports(folder, flag, overwrite)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ReportDirError(f"{flag}: {existing} is not a writable folder; choose a writable place")


def prepare_report_dir(given: str | Path | None, kind: str, *, overwrite: bool = False,
                       flag: str = "--report-dir") -> Path:
    """The run's report folder, created, locked for this run and proven writable; ReportDirError (exit 2) naming
    `flag` if not (another run writing there included)."""
    check_report_dir(given, overwrite=overwrite)
    fresh = given is None or str(given) == ""
    if fresh:
        folder = _fresh(kind)
    else:
        folder = Path(given)  # type: ignore[arg-type]
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportDirError(f"{flag} {folder}: cannot create it ({exc.strerror}); choose a writable "
                                 "folder") from None
    lock = _lock(folder, f"{flag} {folder}")
    claim = Claim(folder, lock, since=time.time())
    try:
        # Checked again under the lock: a run that finished there since the first check left its reports.
        if not fresh:
            _refuse_reports(folder, f"{flag} {folder}", overwrite)
        probe = folder / f".coupon-harness-write-test-{os.getpid()}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ReportDirError(f"{flag} {folder}: cannot write there ({exc.strerror}); choose a writable "
                                 "folder") from None
        if overwrite:
            _keep_earlier_coupons(folder)
    except BaseException:
        lock.release()
        raise
    _claims.append(claim)
    return folder
