"""coupons.csv: every coupon a run made the target issue, appended as the answers arrive, from every command.

A coupon nobody listed can never be revoked, so whatever issues coupons appends them here, one row each,
written with each answer (or load delta) and fsynced at least once a second. A write that fails (a full disk)
stops the log: `CouponLogError` (exit 2) says how many codes are recorded, and every later `record` raises it
again, so the run stops instead of issuing coupons it cannot list. Standard library only.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from coupon_harness.errors import HarnessError

__all__ = ["FILE_NAME", "HEADER", "SYNC_EVERY_S", "CouponLog", "CouponLogError", "CouponRows", "CouponSink", "Row",
           "count_rows", "coupons_of", "read_rows", "stamp"]

FILE_NAME = "coupons.csv"
#: The columns: what revoking a coupon needs first (series, code, customer), then when and by what it was issued.
HEADER = ("series_id", "code", "customer_id", "issued_at", "source")
#: At most this long between an appended row and its fsync.
SYNC_EVERY_S = 1.0

#: One coupon: (series id, code, customer id, issued at (ISO 8601 UTC), source).
Row = tuple[object, str, str, str, str]


class CouponSink(Protocol):
    """Where a run's coupons go as they arrive: a `CouponLog`, or `CouponRows` (kept to be handed on)."""

    count: int

    def record(self, rows: Iterable[Row]) -> int: ...


class CouponRows:
    """Coupons kept in memory (`rows`) for whoever owns the run's coupons.csv; with a `log`, written there too."""

    def __init__(self, log: CouponLog | None = None) -> None:
        self.rows: list[Row] = []
        self.count = 0
        self.log = log

    def record(self, rows: Iterable[Row]) -> int:
        added = list(rows)
        if self.log is not None:
            self.log.record(added)
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
    """An answer's arrival time (epoch seconds; now when None) as ISO 8601 UTC with milliseconds (the second's
    text is formatted once: once a coupon on the load master)."""
    global _last_second
    if at is None:
        at = time.time()
    second = int(at // 1)
    known = _last_second
    if known[0] != second:
        known = _last_second = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{known[1]}.{int((at - second) * 1000):03d}Z"


class _Lines(list[str]):
    """What `csv.writer` writes to: each row's line kept apart (the writer calls `write` once per row)."""

    write = list.append


class CouponLog:
    """An append-only coupons.csv, thread-safe, one unbuffered write per `record` (a failed one leaves the file
    cut after its last whole row); `redact` is applied to each code and customer before it is written."""

    def __init__(self, path: Path, *, redact: Callable[[str], str] | None = None,
                 sync_every_s: float = SYNC_EVERY_S) -> None:
        self.path = path
        self._redact = redact
        self._sync_every_s = sync_every_s
        self._lock = threading.Lock()
        self._lines = _Lines()
        self._csv: Any = csv.writer(self._lines)
        #: Why writing failed (None while it works), and the coupons that could not be written since.
        self._reason: str | None = None
        self.unrecorded = 0
        #: Rows this log wrote (not those an earlier writer of the same file left: `before`).
        self.count = 0
        self._dirty = False
        self._closed = threading.Event()
        self._fd: int | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._size = os.fstat(self._fd).st_size
            self.before = count_rows(path) if self._size else 0
            if not self._size:
                self._write([HEADER])
        except OSError as exc:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            reason = exc.strerror or type(exc).__name__
            raise CouponLogError(f"cannot write {path} ({reason}): the coupons a run issues must be listed to be "
                                 "revoked; choose a writable --report-dir", reason) from None
        threading.Thread(target=self._sync_loop, name="coupon-log-sync", daemon=True).start()

    def _write(self, rows: list[Any]) -> int:
        """Write `rows` whole or cut after the last whole one (OSError then, after the cut); the rows written."""
        assert self._fd is not None
        lines = self._lines
        lines.clear()
        self._csv.writerows(rows)
        data = "".join(lines).encode("utf-8", "backslashreplace")
        written = 0
        try:
            while written < len(data):
                written += os.write(self._fd, data[written:])
        except OSError:
            # Where each row's line ends in `data`; those within what was written are whole.
            ends = itertools.accumulate(len(line.encode("utf-8", "backslashreplace")) for line in lines)
            whole_ends = list(itertools.takewhile(lambda end: end <= written, ends))
            whole, kept = len(whole_ends), whole_ends[-1] if whole_ends else 0
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size + kept)  # never half a line: the next reader parses every row
            self._size += kept
            self.count += whole
            raise
        self._size += written
        return len(rows)

    def record(self, rows: Iterable[Row]) -> int:
        """Append `rows` (written through before it returns); the number written. Raises CouponLogError once a
        write has failed (the rows it could not take are counted in `unrecorded`)."""
        redact = self._redact
        if redact is not None:
            rows = [(series, redact(code), redact(customer), at, source)
                    for series, code, customer, at, source in rows]
        elif not isinstance(rows, list):
            rows = list(rows)
        with self._lock:
            if self._reason is not None or self._fd is None:
                self.unrecorded += len(rows)
                raise self._failure(self._reason or "closed")
            if not rows:
                return 0
            before = self.count
            try:
                self._write(rows)
            except OSError as exc:
                self._reason = exc.strerror or type(exc).__name__
                self.unrecorded += len(rows) - (self.count - before)
                raise self._failure(self._reason) from None
            self.count += len(rows)
            self._dirty = True
        return len(rows)

    @property
    def recorded(self) -> int:
        """The coupons the file lists: an earlier writer's and this log's."""
        return self.before + self.count

    @property
    def error(self) -> CouponLogError | None:
        """Why the log stopped taking rows (a full disk), with the counts as they are now; None while it works."""
        return None if self._reason is None else self._failure(self._reason)

    def _failure(self, reason: str) -> CouponLogError:
        return CouponLogError(
            f"cannot write {self.path} ({reason}): {self.recorded} codes are recorded there; {self.unrecorded} "
            "issued after them are not (the run stopped): free space, and revoke those from the target's records",
            reason)

    def _sync_loop(self) -> None:
        while not self._closed.wait(self._sync_every_s):
            self.sync()

    def sync(self) -> None:
        """fsync what was written since the last sync (a failure stops the log, as a failed write does)."""
        with self._lock:
            if self._fd is None or not self._dirty or self._reason is not None:
                return
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self._reason = exc.strerror or type(exc).__name__
                return
            self._dirty = False

    def close(self) -> None:
        """fsync and close (idempotent). A failure here is kept in `error`, never raised."""
        self.sync()
        self._closed.set()
        with self._lock:
            if self._fd is None:
                return
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def __enter__(self) -> CouponLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def count_rows(path: Path) -> int:
    """The data rows of an existing coupons.csv, read as CSV (a quoted customer id may hold a line break)."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def read_rows(path: Path) -> list[list[str]]:
    """The data rows of a coupons.csv (no header); [] when there is none."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        rows = list(csv.reader(handle))
    return rows[1:] if rows and tuple(rows[0][:3]) == HEADER[:3] else rows


def coupons_of(body: Any, series_ids: Sequence[object] = ()) -> list[tuple[object, str]]:
    """(series, code) of every coupon a body's entities carry, the series as requested there, else `entityId`.
    Inclusive on purpose (any status, beside errors): a code missing from the list is a live coupon."""
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
