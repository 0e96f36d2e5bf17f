"""Report folders: one per run, never shared, never overwritten by surprise, writable before any request.

A default folder is `reports/<kind>-<time>-<6 hex>`, created atomically (two runs started in the same
second get two folders). A folder given with --report-dir that already holds reports is refused unless
--overwrite is given. `check_report_dir` runs with the flag checks, before any request and without
creating anything; `prepare_report_dir` creates the folder and writes a probe file just before the run
starts, so an unwritable place fails in a second, not after the whole run.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path

from coupon_harness.errors import ConfigError

__all__ = ["REPORT_FILES", "check_report_dir", "prepare_report_dir"]

#: Files whose presence means "this folder holds a run's reports".
REPORT_FILES = ("summary.json", "junit.xml", "report.html", "report.md", "coupons.csv", "index.html")


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
            raise ConfigError(f"cannot create a report folder under {parent.resolve()} ({exc.strerror}): "
                              "pass --report-dir DIR in a writable place") from None
        return folder
    raise ConfigError(f"cannot find a free report folder name under {parent.resolve()}: pass --report-dir DIR")


def _holds_reports(folder: Path) -> bool:
    return any((folder / name).exists() for name in REPORT_FILES) or any(
        (folder / sub / name).exists() for sub in ("contract", "load") for name in REPORT_FILES)


def check_report_dir(given: str | Path | None, *, overwrite: bool = False) -> None:
    """ConfigError (exit 2) naming --report-dir when the reports could not go there; creates nothing."""
    folder = Path("reports") if given is None or str(given) == "" else Path(given)
    flag = "the default report folder reports/" if given is None or str(given) == "" else f"--report-dir {folder}"
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{flag}: is a file, not a folder; choose a folder")
    if given and folder.is_dir() and _holds_reports(folder) and not overwrite:
        raise ConfigError(f"{flag}: already holds a run's reports; choose another folder or pass --overwrite")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag}: {existing} is not a writable folder; choose a writable place")


def prepare_report_dir(given: str | Path | None, kind: str, *, overwrite: bool = False) -> Path:
    """The run's report folder, created and proven writable; ConfigError (exit 2) naming --report-dir if not."""
    check_report_dir(given, overwrite=overwrite)
    if given is None or str(given) == "":
        folder = _fresh(kind)
    else:
        folder = Path(given)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--report-dir {folder}: cannot create it ({exc.strerror}); choose a writable "
                              "folder") from None
    probe = folder / f".coupon-harness-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"--report-dir {folder}: cannot write there ({exc.strerror}); choose a writable "
                          "folder") from None
    return folder
