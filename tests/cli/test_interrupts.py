"""A request in flight and the listing of its coupons are not cut by Ctrl-C: `interrupts.deferred` notes a signal
that lands inside it and raises it on leaving."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from coupon_harness.interrupts import Terminated, armed, deferred, handled, received


def test_a_signal_inside_deferred_is_raised_on_leaving() -> None:
    done = []
    with handled():
        armed()
        with pytest.raises(Terminated), deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            done.append("the request finished")  # not cut short
            done.append("its coupons listed")
        assert received() == signal.SIGTERM
    assert done == ["the request finished", "its coupons listed"]


def test_without_a_signal_deferred_changes_nothing() -> None:
    with handled():
        armed()
        with deferred():
            pass
        assert received() is None
        with pytest.raises(KeyboardInterrupt):  # and afterwards a signal raises at once again
            os.kill(os.getpid(), signal.SIGINT)
            threading.Event().wait(5)


def test_off_the_main_thread_deferred_does_nothing() -> None:
    seen: list[BaseException] = []

    def work() -> None:
        try:
            with deferred():
                pass
        except BaseException as exc:  # pragma: no cover - the test fails on it
            seen.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == []


def test_a_signal_while_the_folder_is_claimed_leaves_a_claimed_folder_to_report_into(
        tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window between creating the report folder and the run's own signal handling: the folder is claimed and
    the caller is told, so it writes an interrupted run's report there (it did not, now and then, before)."""
    from pathlib import Path

    from coupon_harness.cli import lifecycle
    from coupon_harness.cli.option_table import Resolved
    from coupon_harness.cli.report_dir import release_claims

    real = lifecycle.prepare_report_dir

    def claim_then_signal(given: Path, kind: str, *, overwrite: bool) -> Path:
        folder = real(given, kind, overwrite=overwrite)
        os.kill(os.getpid(), signal.SIGINT)  # lands just after the claim
        return folder

    monkeypatch.setattr(lifecycle, "prepare_report_dir", claim_then_signal)
    folder = Path(str(tmp_path)) / "reports"
    try:
        with handled():
            armed()
            options = Resolved(scope="load", values={"report-dir": folder}, where={})
            claimed = lifecycle.claim_folder(options, "load", "http://127.0.0.1:1")  # the signal only noted
            assert received() == signal.SIGINT
            with pytest.raises(KeyboardInterrupt):  # raised where the run re-arms, inside its own `try`
                armed()
    finally:
        release_claims()
    assert claimed == folder and folder.is_dir()
