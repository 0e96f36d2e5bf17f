"""The harness's passes draw no constant from the process's local modules (runners/contract/hypothesis_constants.py):
the one reach into Hypothesis internals, pinned here to the version it was written for."""

from __future__ import annotations

import hypothesis
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants

from coupon_harness.runners.contract.hypothesis_constants import without_local_constants

#: A constant no module of the package holds, planted as if a local module did.
PLANTED = 48_813_627


def _draws() -> list[int]:
    drawn: list[int] = []

    @seed(7)
    @settings(max_examples=400, database=None, derandomize=False)
    @given(st.integers(0, 2**40))
    def collect(value: int) -> None:
        drawn.append(value)

    collect()
    return drawn


def test_pinned_to_the_hypothesis_it_was_written_for() -> None:
    # Written against 6.170: `_get_local_constants` and `CONSTANTS_CACHE` in conjecture/providers.py. A new minor
    # version may move them: check the module, then move this pin.
    assert hypothesis.__version__.startswith("6.170."), hypothesis.__version__
    assert callable(providers._get_local_constants) and hasattr(providers.CONSTANTS_CACHE, "cache")


def test_a_local_constant_is_drawn_outside_and_never_inside() -> None:
    saved = providers._get_local_constants
    planted = Constants(integers={PLANTED})
    providers._get_local_constants = lambda: planted  # what a local module holding PLANTED would give
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        assert PLANTED in _draws()  # Hypothesis does draw it (5% of draws): the pool matters
        with without_local_constants():
            inside = _draws()
        assert PLANTED not in inside
        assert PLANTED in _draws()  # and the process's own setting is back after the block
    finally:
        providers._get_local_constants = saved
        providers.CONSTANTS_CACHE.cache.clear()


def test_the_same_seed_draws_the_same_whatever_the_pool() -> None:
    with without_local_constants():
        first = _draws()
    saved = providers._get_local_constants
    providers._get_local_constants = lambda: Constants(integers={PLANTED, 5, 77})
    try:
        with without_local_constants():
            second = _draws()
    finally:
        providers._get_local_constants = saved
        providers.CONSTANTS_CACHE.cache.clear()
    assert first == second


def test_blocks_of_two_threads_overlapping_leave_the_process_setting_back() -> None:
    # Thread A enters, thread B enters, A leaves while B is inside, then B leaves. A plain save-and-restore would
    # put the process's pool back under B (B then draws local constants), and B would then restore the patch for
    # good; the shared count keeps the pool empty until the last block ends, then puts back the first saved.
    import threading

    saved = providers._get_local_constants
    planted = Constants(integers={PLANTED})
    original = lambda: planted  # noqa: E731
    providers._get_local_constants = original
    b_inside, a_left, b_drawn = threading.Event(), threading.Event(), []

    def thread_b() -> None:
        with without_local_constants():
            b_inside.set()
            a_left.wait(10)
            b_drawn.extend(_draws())

    try:
        other = threading.Thread(target=thread_b)
        with without_local_constants():
            other.start()
            assert b_inside.wait(10)
        a_left.set()
        other.join(30)
        assert PLANTED not in b_drawn  # B's block stayed without local constants after A's ended
        assert providers._get_local_constants is original  # and the process's own is back after both
    finally:
        providers._get_local_constants = saved
        providers.CONSTANTS_CACHE.cache.clear()
