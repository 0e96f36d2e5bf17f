"""The CodeStore's tables double their buckets as they grow (issue 9, soak over many series): a series of a
few thousand codes costs about what a big one does a code, not ~100 bytes as a dict did, and the doubling
(`_deepen`, `_grow`) loses no code and invents no duplicate: repeats across every doubling are judged exactly."""

from __future__ import annotations

import random
import sys
import tracemalloc

import pytest

from coupon_harness.contract import Expectations, Ledger
from coupon_harness.contract import ledger as ledger_module
from coupon_harness.contract.ledger import CodeStore

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_MULTIPLIER = 0x9E3779B97F4A7C15 & ((1 << 40) - 1) | 1


def code_of(number: int) -> str:
    """Distinct 10-character codes, random-looking (as `scripts/bench_soak.py` makes them)."""
    return f"{(number * _MULTIPLIER) & ((1 << 40) - 1):010X}"


def store_bytes(store: CodeStore) -> int:
    """What a store's packed tables hold: their arrays as allocated, their lists, keys and spills."""
    total = sys.getsizeof(store._tables)
    for key, table in store._tables.items():
        total += sys.getsizeof(key) + sys.getsizeof(table) + sys.getsizeof(table[ledger_module._SPILL])
        total += 64 * len(table[ledger_module._SPILL])  # two ints an entry
        for field in (ledger_module._FLAT, ledger_module._COUNTS, ledger_module._MIDDLES):
            if table[field] is not None:
                total += sys.getsizeof(table[field])
    return total


def test_a_thousand_small_series_cost_under_16_bytes_a_coupon() -> None:
    """1,000 series x 1,000 coupons, round robin in deltas of 2,000 as a load run ships them: the store holds
    under 16 bytes a coupon (~12: 9-10 a slot, the headroom, the tables; a dict of products per series held
    ~100 before its series reached 65,536 codes, and no series here does). tracemalloc gives the same figure
    but takes minutes; the accounting is checked against it on a smaller store below."""
    series_count, each = 1000, 1000
    ledger = Ledger(Expectations())
    for first in range(0, series_count * each, 2000):
        ledger.issue_codes([(101 + number % series_count, code_of(number), f"c{number >> 1}")
                            for number in range(first, first + 2000)])
    assert ledger.coupons == series_count * each and ledger.duplicates == 0
    assert len(ledger._codes._tables) == series_count
    per_coupon = store_bytes(ledger._codes) / (series_count * each)
    assert per_coupon < 16, per_coupon


def test_the_accounting_agrees_with_tracemalloc() -> None:
    """`store_bytes` counts what the store allocates (20 series x 1,000 coupons): within 15% of tracemalloc."""
    store = CodeStore()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for first in range(0, 20_000, 2000):
            store.add_all([(101 + number % 20, code_of(number), "c") for number in range(first, first + 2000)])
        used = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert 0.85 < store_bytes(store) / used < 1.15, (store_bytes(store), used)


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


@pytest.mark.parametrize(("bucket_bits", "region_max", "initial"), [(8, 8, 2), (11, 4, 2), (12, 4, 8)])
def test_repeats_across_every_doubling_are_judged_exactly(
        monkeypatch: pytest.MonkeyPatch, bucket_bits: int, region_max: int, initial: int) -> None:
    """The store scaled down so tables go from one bucket to full depth (middles 'H', then 'B', then none) within a few
    thousand codes (the others stay below it); codes of 1-12 characters, both cases, prefixes, several series. Each
    coupon is judged against a plain dict: a repeat to another customer is a duplicate (also when the code went in
    before a doubling and comes back after it), a repeat to the same customer is not, a new code is new. Customers
    are small ints hashed to themselves, so no two share a fingerprint: the store must be exact."""
    monkeypatch.setattr(ledger_module, "_BUCKET_BITS", bucket_bits)
    monkeypatch.setattr(ledger_module, "_REGION_MAX", region_max)
    monkeypatch.setattr(ledger_module, "_INITIAL_CAPACITY", initial)
    store = CodeStore(customer_hash=lambda customer: customer)
    rng = random.Random(bucket_bits)
    reference: dict[tuple[int, str], int] = {}
    issued: list[tuple[int, str, int]] = []
    shapes = [(length, case, prefix) for length in (1, 3, 10, 12) for case in ("upper", "lower")
              for prefix in ("", "FEST")]
    judged = {"new": 0, "same": 0, "other": 0}
    for turn in range(30_000):
        if issued and rng.random() < 0.25:
            series, code, holder = issued[rng.randrange(len(issued))]
            customer = holder if rng.random() < 0.5 else rng.randrange(1 << 9)
        else:  # half the new codes to one table, which reaches full depth
            series = rng.randrange(3)
            length, case, prefix = shapes[rng.randrange(len(shapes))] if rng.random() < 0.5 else (10, "upper", "")
            code = "".join(rng.choice(UPPER) for _ in range(length))
            code = prefix + (code.lower() if case == "lower" else code)
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
    depths = [table[ledger_module._DEPTH] for table in store._tables.values()]
    assert max(depths) == bucket_bits and min(depths) < bucket_bits, depths
    for table in store._tables.values():  # middles go at full depth, and only there
        assert (table[ledger_module._MIDDLES] is None) == (table[ledger_module._DEPTH] == bucket_bits)
    again = [(series, code, (holder + 1) % (1 << 9)) for series, code, holder in issued]
    assert store.add_all(again)[1] == len(again)  # every code, to someone else: all found


def test_a_delta_of_repeats_spanning_a_doubling_is_counted_once_each() -> None:
    """One add_all call in which a table doubles several times, carrying repeats of codes stored before and
    within it: each repeat to another customer counted once, the first of them returned."""
    store = CodeStore()
    earlier = [(7, code_of(number), f"c{number}") for number in range(3000)]
    assert store.add_all(earlier) == (3000, 0, None)
    depth = store._tables[(7, "", 10, ledger_module._UPPER)][ledger_module._DEPTH]
    later = [(7, code_of(number), f"c{number}") for number in range(3000, 40_000)]
    planted = [(7, code_of(number), "someone else") for number in range(0, 40_000, 97)]
    same = [(7, code_of(number), f"c{number}") for number in range(0, 40_000, 89)]
    mixed = later[:20_000] + planted[:200] + same + later[20_000:] + planted[200:]
    count, duplicates, first = store.add_all(mixed)
    assert count == len(mixed) and duplicates == len(planted) and first == planted[0]
    assert len(store) == 40_000
    assert store._tables[(7, "", 10, ledger_module._UPPER)][ledger_module._DEPTH] > depth
