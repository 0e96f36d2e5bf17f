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
