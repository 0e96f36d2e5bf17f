"""coupons.csv as a log: one header, rows appended by every writer in turn, written through at once, fsynced within
a second, redacted, and on a write the disk cannot take: cut after the last whole row, and an error that counts
what is recorded and what is not."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import pytest

from coupon_harness.coupon_log import HEADER, CouponLog, CouponLogError, coupons_of, read_rows, stamp


def _row(n: int, source: str = "test") -> tuple[object, str, str, str, str]:
    return (101, f"CODE{n:06d}", f"c-{n}", stamp(1_700_000_000 + n / 1000), source)


def test_two_writers_in_turn_share_one_header_and_keep_every_row(tmp_path: Path) -> None:
    path = tmp_path / "coupons.csv"
    with CouponLog(path) as first:
        first.record([_row(1), _row(2)])
    with CouponLog(path) as second:
        assert second.before == 2
        second.record([_row(3)])
        assert second.recorded == 3
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(HEADER) and len(lines) == 4
    assert [row[1] for row in read_rows(path)] == ["CODE000001", "CODE000002", "CODE000003"]


def test_rows_are_on_disk_before_record_returns(tmp_path: Path) -> None:
    path = tmp_path / "coupons.csv"
    log = CouponLog(path)
    try:
        log.record([_row(1)])
        assert len(read_rows(path)) == 1  # another process (a reader after a SIGKILL) sees it now
    finally:
        log.close()


def test_an_fsync_follows_within_a_second(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced = threading.Event()
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.set()
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    log = CouponLog(tmp_path / "coupons.csv", sync_every_s=0.05)
    try:
        log.record([_row(1)])
        assert synced.wait(10)  # the timer thread's; within sync_every_s on a quiet machine
    finally:
        log.close()


def test_codes_and_customers_are_redacted(tmp_path: Path) -> None:
    path = tmp_path / "coupons.csv"
    with CouponLog(path, redact=lambda text: text.replace("hunter2", "<redacted>")) as log:
        log.record([(101, "X-hunter2-Y", "cust-hunter2", stamp(), "classics")])
    assert "hunter2" not in path.read_text() and "X-<redacted>-Y" in path.read_text()


def test_a_full_disk_cuts_after_the_last_whole_row_and_counts(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "coupons.csv"
    log = CouponLog(path)
    log.record([_row(n) for n in range(3)])
    real_write = os.write
    room = [60]  # bytes the "disk" still takes: one whole row and part of the next

    def write(fd: int, data: bytes) -> int:
        if room[0] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        taken = real_write(fd, data[: room[0]])
        room[0] -= taken
        return taken

    monkeypatch.setattr(os, "write", write)
    with pytest.raises(CouponLogError) as caught:
        log.record([_row(n) for n in range(3, 8)])
    monkeypatch.setattr(os, "write", real_write)
    rows = read_rows(path)
    assert all(len(row) == 5 for row in rows) and path.read_bytes().endswith(b"\r\n")  # never half a line
    assert len(rows) == log.recorded == 4
    message = str(caught.value)
    assert "No space left on device" in message and "4 codes are recorded there; 4 issued after them are not" in \
        message
    with pytest.raises(CouponLogError) as again:  # every later record raises and counts what it could not take
        log.record([_row(9), _row(10)])
    assert "6 issued after them are not" in str(again.value)
    log.close()
    assert log.error is not None and "6 issued after them are not" in str(log.error)


def test_dev_full_is_refused_at_once(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with pytest.raises(CouponLogError, match="No space left on device"):
        CouponLog(Path("/dev/full"))


def test_coupons_of_a_body() -> None:
    body = {"response": [{"entityId": 101, "result": {"code": "A1"}}, {"entityId": 102, "errors": [{}]},
                         {"entityId": 103, "result": {"code": "C3"}, "errors": [{"code": 1}]}, "junk"]}
    assert coupons_of(body, [5, 6, 7]) == [(5, "A1"), (7, "C3")]  # beside errors too: it may have been issued
    assert coupons_of(body) == [(101, "A1"), (103, "C3")]
    assert coupons_of({"response": "x"}) == [] and coupons_of([1]) == []


def test_stamp_is_iso_utc_with_milliseconds() -> None:
    assert stamp(0.5) == "1970-01-01T00:00:00.500Z"
    assert stamp(1_700_000_000.0789) == "2023-11-14T22:13:20.078Z"
    assert abs(time.time() - time.mktime(time.strptime(stamp()[:19], "%Y-%m-%dT%H:%M:%S")) + time.timezone) < 5
