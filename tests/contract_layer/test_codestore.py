"""The exact store of codes (`coupon_harness.codestore`), shared by the Ledger and the sandbox: its tables double
their buckets as they grow (issue 9, soak over many series) and move to an anonymous mmap past 64 KB (issue 17),
so a series of a few thousand codes costs about what a big one does a code, however many series there are; and
no growth (`_widen`, `_deepen`, the move to an mmap) loses a code or invents a duplicate: repeats across every
one of them are judged exactly."""

from __future__ import annotations

import mmap
import random
import tracemalloc

import pytest

from coupon_harness import codestore
from coupon_harness.codestore import NEW, OTHER, SAME, CodeStore
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.ledger import Ledger

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_MULTIPLIER = 0x9E3779B97F4A7C15 & ((1 << 40) - 1) | 1


def code_of(number: int) -> str:
    """Distinct 10-character codes, random-looking (as `scripts/bench_soak.py` makes them)."""
    return f"{(number * _MULTIPLIER) & ((1 << 40) - 1):010X}"


def round_robin(store: CodeStore, series_count: int, each: int) -> None:
    """`series_count` series x `each` coupons, round robin in deltas of 2,000 as a load run ships them."""
    total = series_count * each
    for first in range(0, total, 2000):
        store.add_all([(101 + number % series_count, code_of(number), f"c{number >> 1}")
                       for number in range(first, min(first + 2000, total))])


def test_a_table_is_typed_and_answers_by_name() -> None:
    """`_CodeTable.put` answers NEW, SAME or OTHER; a 10-character code keeps 20 fingerprint bits and 8 row bits."""
    table = codestore._CodeTable.of_length(10)
    assert (table.bits, table.low, table.who_bits, table.row_bits) == (52, 44, 20, 8)
    value = int("AB12CD34EF", 36)
    assert [table.put(value, 5), table.put(value, 5), table.put(value, 6), table.put(value + 1, 6)] == [
        NEW, SAME, OTHER, NEW]
    assert table.put(value, 5 + (1 << 20)) == SAME  # only the fingerprint's bits are kept
    assert codestore._layout(12) == (63, 47, 17)  # the longest packed tail: 17 bits, the floor
    assert codestore._layout(1)[2] == 32  # short codes: 32, the ceiling


def test_small_series_cost_under_12_bytes_a_coupon() -> None:
    """300 series x 1,000 coupons: the store holds under 12 bytes a coupon (~10.9: 9 a slot below 2**8 buckets,
    the headroom, the tables); a dict of products per series held ~100 before issue 9."""
    store = CodeStore()
    round_robin(store, 300, 1000)
    assert len(store) == 300_000 and len(store._tables) == 300
    assert store.nbytes() / len(store) < 12, store.nbytes() / len(store)


def test_memory_does_not_depend_on_the_number_of_series() -> None:
    """The same 200,000 coupons over 2 series or 200: within 3 bytes a coupon of each other (~8.7 and ~10.9; a
    series of 1,000 codes still has its row in 1-byte middles, 9 bytes a slot)."""
    few, many = CodeStore(), CodeStore()
    round_robin(few, 2, 100_000)
    round_robin(many, 200, 1000)
    assert len(few) == len(many) == 200_000
    assert abs(few.nbytes() - many.nbytes()) / 200_000 < 3, (few.nbytes(), many.nbytes())


def test_the_accounting_agrees_with_tracemalloc(monkeypatch: pytest.MonkeyPatch) -> None:
    """`nbytes` counts what the store allocates (20 series x 1,000 coupons, kept in arrays: tracemalloc does not
    see maps): within 15% of tracemalloc."""
    monkeypatch.setattr(codestore, "_MMAP_FROM", 1 << 20)
    store = CodeStore()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        round_robin(store, 20, 1000)
        used = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert 0.85 < store.nbytes() / used < 1.15, (store.nbytes(), used)


def test_a_big_table_lives_in_an_mmap() -> None:
    """Past a page a table's slots move to an anonymous map (the heap left behind by a thousand arrays growing
    in step cost ~8 bytes a coupon of RSS); the codes stored before the move are still found."""
    store = CodeStore()
    round_robin(store, 1, 20_000)
    (table,) = store._tables.values()
    assert isinstance(table._slot_owner, mmap.mmap) and table.slots.nbytes >= 1 << 16
    again = [(101, code_of(number), "someone else") for number in range(0, 20_000, 10)]
    assert store.add_all(again)[1] == len(again)


def test_a_table_stays_an_array_when_no_map_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    """mmap refused (vm.max_map_count reached): the table grows as an array, and stays exact."""
    def refuse(size: int) -> mmap.mmap:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(codestore, "_anonymous", refuse)
    store = CodeStore()
    round_robin(store, 1, 20_000)
    (table,) = store._tables.values()
    assert not isinstance(table._slot_owner, mmap.mmap) and len(table.slots) * 8 >= 1 << 16
    again = [(101, code_of(number), "someone else") for number in range(0, 20_000, 10)]
    assert store.add_all(again)[1] == len(again)


def test_a_map_that_cannot_grow_becomes_an_array(monkeypatch: pytest.MonkeyPatch) -> None:
    """mremap refused (out of maps, or not Linux): the table's items are copied back into an array (and moved to
    a new map at a later growth), exactly."""
    refused: list[int] = []

    class Unresizable(mmap.mmap):
        def resize(self, newsize: int) -> None:
            refused.append(newsize)
            raise SystemError("mmap: resizing not available--no mremap()")

    monkeypatch.setattr(codestore, "_anonymous", lambda size: Unresizable(
        -1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS))
    store = CodeStore()
    round_robin(store, 1, 20_000)
    assert len(refused) > 3
    again = [(101, code_of(number), "someone else") for number in range(0, 20_000, 10)]
    assert store.add_all(again)[1] == len(again)
    assert store.add_all([(101, code_of(number), f"c{number >> 1}") for number in range(20_000)])[1] == 0


def test_a_series_of_one_code_costs_under_a_kilobyte() -> None:
    """Thousands of series that issue a coupon or two each: a table starts at one bucket of a few slots."""
    store = CodeStore()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for series in range(5000):
            store.add(series, code_of(series), "c")
        used = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert len(store) == 5000
    assert used / 5000 < 1024, used / 5000


@pytest.mark.parametrize(("region_max", "initial", "mmap_from"), [(8, 2, 512), (4, 2, 4096), (64, 8, 1 << 30)])
def test_repeats_across_every_doubling_are_judged_exactly(
        monkeypatch: pytest.MonkeyPatch, region_max: int, initial: int, mmap_from: int) -> None:
    """The store scaled down so tables go from one bucket past their row bits (middles 'B' or 'H', then none)
    and into an mmap within a few thousand codes; codes of 1-12 characters, both cases, prefixes, several
    series, and codes of other shapes (the fallback). Each coupon is judged against a plain dict: a repeat to
    another customer is a duplicate (also when the code went in before a doubling and comes back after it), a
    repeat to the same customer is not, a new code is new. Customers are small ints hashed to themselves, so no
    two share a fingerprint: the store must be exact."""
    monkeypatch.setattr(codestore, "_REGION_MAX", region_max)
    monkeypatch.setattr(codestore, "_INITIAL_CAPACITY", initial)
    monkeypatch.setattr(codestore, "_MMAP_FROM", mmap_from)
    store = CodeStore(customer_hash=lambda customer: customer)
    rng = random.Random(region_max)
    reference: dict[tuple[int, str], int] = {}
    issued: list[tuple[int, str, int]] = []
    shapes = [(length, case, prefix) for length in (1, 3, 10, 11, 12) for case in ("upper", "lower", "mixed")
              for prefix in ("", "FEST", "x-")]
    judged = {"new": 0, "same": 0, "other": 0}
    for turn in range(30_000):
        if issued and rng.random() < 0.25:
            series, code, holder = issued[rng.randrange(len(issued))]
            customer = holder if rng.random() < 0.5 else rng.randrange(1 << 9)
        else:  # half the new codes to one table, which goes past its row bits
            series = rng.randrange(3)
            length, case, prefix = shapes[rng.randrange(len(shapes))] if rng.random() < 0.5 else (10, "upper", "")
            code = "".join(rng.choice(UPPER) for _ in range(length))
            code = code.lower() if case == "lower" else code[0].lower() + code[1:] if case == "mixed" else code
            code = prefix + code
            customer = rng.randrange(1 << 9)
        holder_of = reference.get((series, code))
        expected = None if holder_of is None else holder_of == customer
        assert store.add(series, code, customer) is expected, (turn, series, code, customer, holder_of)
        judged["new" if expected is None else "same" if expected else "other"] += 1
        if holder_of is None:
            reference[(series, code)] = customer
            issued.append((series, code, customer))
    assert len(store) == len(reference)
    assert min(judged.values()) > 1000, judged
    tables = list(store._tables.values())
    assert any(table.depth > table.row_bits for table in tables)
    assert any(0 < table.depth < table.row_bits for table in tables)
    assert store._others  # mixed case and punctuation: the fallback
    for table in tables:  # middles while the bucket number does not hold the row, and only then
        assert (table.middles is None) == (table.depth >= table.row_bits)
    assert any(isinstance(table._slot_owner, mmap.mmap) for table in tables) == (mmap_from < 1 << 30)
    again = [(series, code, (holder + 1) % (1 << 9)) for series, code, holder in issued]
    assert store.add_all(again)[1] == len(again)  # every code, to someone else: all found


def test_a_delta_of_repeats_spanning_a_doubling_is_counted_once_each() -> None:
    """One add_all call in which a table doubles several times, carrying repeats of codes stored before and
    within it: each repeat to another customer counted once, the first of them returned."""
    store = CodeStore()
    earlier = [(7, code_of(number), f"c{number}") for number in range(3000)]
    assert store.add_all(earlier) == (3000, 0, None)
    table = store._tables[(7, "", 10, codestore._UPPER)]
    depth = table.depth
    later = [(7, code_of(number), f"c{number}") for number in range(3000, 40_000)]
    planted = [(7, code_of(number), "someone else") for number in range(0, 40_000, 97)]
    same = [(7, code_of(number), f"c{number}") for number in range(0, 40_000, 89)]
    mixed = later[:20_000] + planted[:200] + same + later[20_000:] + planted[200:]
    count, duplicates, first = store.add_all(mixed)
    assert count == len(mixed) and duplicates == len(planted) and first == planted[0]
    assert len(store) == 40_000
    assert table.depth > depth


def test_the_ledger_finds_duplicates_over_many_series() -> None:
    """2,000 series of 100 coupons each, then every 50th code again to another customer of its series (each a
    duplicate), to its own customer and under the next series (neither one)."""
    ledger = Ledger(Expectations())
    coupons = [(101 + number % 2000, code_of(number), f"c{number}") for number in range(200_000)]
    assert ledger.issue_codes(coupons) == (0, None)
    picked = coupons[::50]
    assert ledger.issue_codes([(series + 1, code, customer) for series, code, customer in picked]) == (0, None)
    assert ledger.issue_codes(picked) == (0, None)
    found, violation = ledger.issue_codes([(series, code, "other") for series, code, _ in picked])
    assert found == len(picked) and violation is not None
