"""coupons.csv: every coupon a run made the target issue, appended as the answers arrive, from every command.

Against a shared staging cluster a coupon nobody listed can never be revoked, so whatever sends a request that
issues coupons (the contract passes, the preflight, diff on both targets, replay, the load users) appends them
here: one row per coupon with its series, code, customer, the time its answer arrived and what sent it (the
pass, stage or command). Rows are written and flushed with each answer (the load runner's aggregate: with each
delta, a few times a second), so a process killed outright loses at most what it had not yet handed over; the
file is fsynced at least once a second while rows come (a timer thread) and at close, so a machine that goes
down loses at most the last second too.

A write that fails (a full disk, a quota) stops the log: `CouponLogError` (a HarnessError, exit 2) says how many
codes are recorded, where, and that the ones after may not be; every later `record` raises it again, so the run
that owns the log stops instead of issuing coupons it cannot list.

Standard library only: the load process imports it before Locust has monkey-patched anything it could care about.
"""

from __future__ import annotations

import csv
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from coupon_harness.errors import HarnessError

__all__ = ["FILE_NAME", "HEADER", "SYNC_EVERY_S", "CouponLog", "CouponLogError", "CouponRows", "CouponSink", "Row",
           "coupons_of", "read_rows", "stamp"]

FILE_NAME = "coupons.csv"
#: The columns: what revoking a coupon needs first (series, code, customer), then when and by what it was issued.
HEADER = ("series_id", "code", "customer_id", "issued_at", "source")
#: At most this long between an appended row and its fsync.
SYNC_EVERY_S = 1.0

#: One coupon: (series id, code, customer id, issued at (ISO 8601 UTC), source).
Row = tuple[object, str, str, str, str]


class CouponSink(Protocol):
    """Where a run's coupons go as they arrive: a `CouponLog` (coupons.csv), or `CouponRows` (kept in memory to be
    handed on: a worker's preflight, whose coupons travel to the master's coupons.csv)."""

    count: int

    def record(self, rows: Iterable[Row]) -> int: ...


class CouponRows:
    """Coupons kept in memory, in order (`rows`), to be written by whoever owns the run's coupons.csv."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.count = 0

    def record(self, rows: Iterable[Row]) -> int:
        added = list(rows)
        self.rows.extend(added)
        self.count += len(added)
        return len(added)


class CouponLogError(HarnessError):
    """coupons.csv could not be written: the run stops (exit 2) rather than issue coupons nobody can revoke."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        #: Why the file could not be written ("No space left on device").
        self.reason = reason


#: The last whole second `stamp` formatted, and its text (one tuple: replaced whole, so threads never mix them).
_last_second: tuple[int, str] = (-1, "")


def stamp(at: float | None = None) -> str:
    """An answer's arrival time (epoch seconds; now when None) as the log writes it: ISO 8601 UTC, milliseconds.

    Once a coupon on the load master: the second's text is formatted once and reused (~0.3 us a call)."""
    global _last_second
    if at is None:
        at = time.time()
    second = int(at // 1)
    known = _last_second
    if known[0] != second:
        known = _last_second = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{known[1]}.{int((at - second) * 1000):03d}Z"


class CouponLog:
    """An append-only coupons.csv. Thread-safe; `record` may be called from any thread (or greenlet).

    `redact` is applied to each code and customer before it is written: a target that echoes a credential as a
    code leaves none on disk.
    """

    def __init__(self, path: Path, *, redact: Callable[[str], str] | None = None,
                 sync_every_s: float = SYNC_EVERY_S) -> None:
        self.path = path
        self._redact = redact
        self._sync_every_s = sync_every_s
        self._lock = threading.Lock()
        self._error: CouponLogError | None = None
        #: Rows this log wrote (not those an earlier writer of the same file left).
        self.count = 0
        self._dirty = False
        self._closed = threading.Event()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            new = not path.exists() or path.stat().st_size == 0
            self._file: TextIO | None = path.open("a", newline="", encoding="utf-8")
            self._csv: Any = csv.writer(self._file)
            if new:
                self._csv.writerow(HEADER)
                self._file.flush()
        except OSError as exc:
            self._file = None
            reason = exc.strerror or type(exc).__name__
            raise CouponLogError(f"cannot write {path} ({reason}): the coupons a run issues must be listed to be "
                                 "revoked; choose a writable --report-dir", reason) from None
        self._syncer = threading.Thread(target=self._sync_loop, name="coupon-log-sync", daemon=True)
        self._syncer.start()

    def record(self, rows: Iterable[Row]) -> int:
        """Append `rows` and flush; the number written. Raises CouponLogError once a write has failed."""
        redact = self._redact
        if redact is not None:
            rows = [(series, redact(code), redact(customer), at, source)
                    for series, code, customer, at, source in rows]
        elif not isinstance(rows, list):
            rows = list(rows)
        if not rows:
            if self._error is not None:
                raise self._error
            return 0
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._file is None:
                raise CouponLogError(f"{self.path} is closed: {len(rows)} coupons issued after the run ended are "
                                     "not listed")
            try:
                self._csv.writerows(rows)
                self._file.flush()
            except OSError as exc:
                self._fail(exc, len(rows))
                raise self._error from None  # type: ignore[misc]
            self.count += len(rows)
            self._dirty = True
        return len(rows)

    @property
    def error(self) -> CouponLogError | None:
        return self._error

    def _fail(self, exc: OSError, pending: int) -> None:
        reason = exc.strerror or type(exc).__name__
        self._error = CouponLogError(
            f"cannot write {self.path} ({reason}): {self.count} codes are recorded there; {pending} or more issued "
            "after them may be unrecorded (the run stopped): free space, and revoke those from the target's records",
            reason)

    def _sync_loop(self) -> None:
        while not self._closed.wait(self._sync_every_s):
            self.sync()

    def sync(self) -> None:
        """fsync what was written since the last sync (a failure is kept for the next `record`)."""
        with self._lock:
            if self._file is None or not self._dirty or self._error is not None:
                return
            try:
                os.fsync(self._file.fileno())
            except OSError as exc:
                self._fail(exc, 0)
                return
            self._dirty = False

    def close(self) -> None:
        """Flush, fsync and close (idempotent). A failure here is kept in `error`, never raised."""
        self.sync()
        self._closed.set()
        with self._lock:
            if self._file is None:
                return
            try:
                self._file.close()
            except OSError as exc:
                if self._error is None:
                    self._fail(exc, 0)
            self._file = None

    def __enter__(self) -> CouponLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def read_rows(path: Path) -> list[list[str]]:
    """The data rows of a coupons.csv (no header); [] when there is none."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        rows = list(csv.reader(handle))
    return rows[1:] if rows and tuple(rows[0][:3]) == HEADER[:3] else rows


def coupons_of(body: Any, series_ids: Sequence[object] = ()) -> list[tuple[object, str]]:
    """(series, code) of every coupon a body's entities carry (`response[].result.code`), in order; [] for a body
    of another shape. The series is the one the request asked for at that position, else the entity's `entityId`.

    Inclusive on purpose: an entity with a code counts even beside errors, whatever the status, since the target
    may have issued it; a code listed that was never issued costs a failed revocation, one missing a live coupon."""
    entities = body.get("response") if isinstance(body, dict) else None
    if not isinstance(entities, list):
        return []
    found: list[tuple[object, str]] = []
    for index, entity in enumerate(entities):
        if not isinstance(entity, dict):
            continue
        result = entity.get("result")
        if isinstance(result, dict):
            code = result.get("code")
            if isinstance(code, str) and code:
                series = series_ids[index] if index < len(series_ids) else entity.get("entityId")
                found.append((series if isinstance(series, int | str) else "", code))
    return found
