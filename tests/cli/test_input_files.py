"""input_files.read_text, the one way the harness reads a file a user names, and errors.one_line, the one way an
error reaches a terminal: bounded, never blocking, one line."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from coupon_harness.errors import one_line
from coupon_harness.input_files import (
    BAD_PATH,
    NOT_A_FILE,
    NOT_TEXT,
    TOO_LARGE,
    UnreadableFile,
    read_text,
    size_text,
)


def test_a_regular_file_up_to_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text("é" * 50, encoding="utf-8")  # 100 bytes
    assert read_text(path, limit=100) == "é" * 50
    link = tmp_path / "link.toml"
    link.symlink_to(path)
    assert read_text(link, limit=100) == "é" * 50  # a symbolic link to a file is that file


def _refusal(path: str | Path, limit: int = 1024) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as caught:
        read_text(path, limit=limit)
    return caught.value


def test_one_byte_past_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"x" * 101)
    refusal = _refusal(path, limit=100)
    assert refusal.kind == TOO_LARGE and refusal.reason == "is larger than 100 bytes (101 bytes)"
    assert str(refusal) == f"{path} is larger than 100 bytes (101 bytes)"
    assert size_text(1024 * 1024) == "1 MiB" and size_text(16 * 1024 * 1024) == "16 MiB"


@pytest.mark.parametrize(("path", "kind"), [("/dev/zero", "a character device"), ("/dev/null", "a character device")])
def test_a_device_is_never_read(path: str, kind: str) -> None:
    refusal = _refusal(path)
    assert refusal.kind == NOT_A_FILE and refusal.reason == f"is not a regular file ({kind})"


def test_a_pipe_without_a_writer_and_a_folder_are_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    outcome: list[UnreadableFile] = []
    reader = threading.Thread(target=lambda: outcome.append(_refusal(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=10)  # a blocking open would wait for a writer forever
    assert not reader.is_alive() and outcome[0].reason == "is not a regular file (a pipe)"
    assert _refusal(tmp_path).reason == "is not a regular file (a folder)"


def test_text_that_is_not_utf8_and_paths_the_system_cannot_take(tmp_path: Path) -> None:
    path = tmp_path / "latin1"
    path.write_bytes("café".encode("latin-1"))
    refusal = _refusal(path)
    assert refusal.kind == NOT_TEXT and refusal.reason == "is not UTF-8 text (byte 3)"
    assert _refusal("a\x00b").kind == BAD_PATH
    with pytest.raises(FileNotFoundError):
        read_text(tmp_path / "missing", limit=10)


def test_a_file_being_written_is_refused_past_the_limit(tmp_path: Path) -> None:
    """A log someone points --config at, still growing: refused by its size, or by the read (which stops one byte
    past the limit, whatever stat said), never read on and on."""
    path = tmp_path / "growing"
    path.write_bytes(b"")
    done = threading.Event()

    def grow() -> None:
        with path.open("ab") as out:
            while not done.is_set():
                out.write(b"x" * 65536)
                out.flush()

    writer = threading.Thread(target=grow, daemon=True)
    writer.start()
    try:
        deadline = time.monotonic() + 10
        while path.stat().st_size < 1024 * 1024 and time.monotonic() < deadline:
            time.sleep(0.005)
        with pytest.raises(UnreadableFile) as caught:
            read_text(path, limit=512 * 1024)
        assert caught.value.kind == TOO_LARGE
    finally:
        done.set()
        writer.join()


def test_one_line_escapes_what_would_break_or_paint_the_line() -> None:
    assert one_line("config file a\nb does not exist") == "config file a\\nb does not exist"
    assert one_line("x\r\x1b[2J\x1e\x85\u2028\u2029\x00y") == "x\\r\\x1b[2J\\x1e\\x85\\u2028\\u2029\\x00y"
    assert one_line("café ü 😀 \u202e") == "café ü 😀 \u202e"  # printable text (and format characters) as it is
    assert len(one_line("a\x1eb\x1cc").splitlines()) == 1
