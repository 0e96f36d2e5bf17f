"""The Ledger's compact exact store of codes (`coupon_harness.codestore`; issue 9, soak at scale): every duplicate
found, none invented (not by a hash collision of codes, not by a fingerprint collision of customers), ~8.7 bytes
a coupon."""

from __future__ import annotations

import random
import zlib

import pytest

from coupon_harness import codestore
from coupon_harness.codestore import _SPLIT_AT, CodeStore
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.ledger import Ledger

UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def codes(count: int, seed: int = 1, length: int = 10, alphabet: bytes = UPPER) -> list[str]:
    """`count` distinct random codes."""
    rng = random.Random(seed)
    table = bytes(alphabet[i % len(alphabet)] for i in range(256))
    found: dict[str, None] = {}
    while len(found) < count:
        found[rng.getrandbits(8 * length).to_bytes(length, "little").translate(table).decode()] = None
    return list(found)


def test_repeats_are_judged_as_before() -> None:
    """Another customer: a duplicate; the same customer: not one; another series: not one; a generic series
    is exempt."""
    ledger = Ledger(Expectations(generic_series=frozenset({104})))
    assert ledger.issue_codes([(101, "AB12CD34EF", "c1"), (101, "AB12CD34EF", "c1"), (102, "AB12CD34EF", "c2"),
                               (104, "SUMMER", "c1"), (104, "SUMMER", "c2")]) == (0, None)
    count, violation = ledger.issue_codes([(101, "AB12CD34EF", "c3"), (101, "AB12CD34EF", "c1")])
    assert count == 1 and violation is not None
    assert "series 101 code 'AB12CD34EF' issued to customer 'c3'" in violation.received
    assert ledger.coupons == 7 and ledger.duplicates == 1


@pytest.mark.parametrize("variants", [
    ["A", "0A", "00A", "A0", "a", "0a"],                     # leading zeros, case: packed, all distinct
    ["ab12", "AB12", "aB12", "Ab12", "ab-12", "AB_12"],       # one case packs, mixed case and punctuation do not
    ["12", "012", "+12", " 12", "1_2", "١٢"],                 # what int(x, 36) would read alike
    ["X" * 12, "X" * 13, "Y" + "X" * 12, "X" * 40, "x" * 13],  # long codes: prefix plus a packed tail
])
def test_codes_that_pack_alike_stay_apart(variants: list[str]) -> None:
    store = CodeStore()
    assert [store.add(101, code, "c1") for code in variants] == [None] * len(variants)
    assert [store.add(101, code, "c2") for code in variants] == [False] * len(variants)
    assert [store.add(101, code, "c1") for code in variants] == [True] * len(variants)
    assert len(store) == len(variants)


def test_codes_that_are_not_str_are_kept_exactly() -> None:
    store = CodeStore()
    assert [store.add(101, code, "c1") for code in (5, "5", 5.5, None)] == [None] * 4
    assert store.add(101, 5, "c2") is False and store.add(101, "5", "c1") is True


def test_planted_duplicates_are_all_found_across_every_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Packed codes (the big table past its row bits: the store scaled down to buckets of 32 slots), prefixed
    ones (below them), and the fallback (split as it grows)."""
    monkeypatch.setattr(codestore, "_REGION_MAX", 32)
    packed = codes(40_000)
    prefixed = [f"FEST{code}XY" for code in codes(3000, seed=2)]
    arena = [f"{code}-{n}" for n, code in enumerate(codes(4 * _SPLIT_AT, seed=3, alphabet=b"abcXYZ12"))]
    # A fixed holder hash: with Python's (seeded per process) a planted duplicate's two holders share a
    # fingerprint in about 1 run in 250 (2**-17 a 12-character tail, 500 planted), a miss the store allows.
    ledger = Ledger(Expectations(), customer_hash=lambda customer: zlib.crc32(customer.encode()) * 0x9E3779B97F4A7C15)
    every = packed + prefixed + arena
    assert ledger.issue_codes([(101, code, f"c{n}") for n, code in enumerate(every)]) == (0, None)
    rng = random.Random(4)
    planted = rng.sample(range(len(every)), 500)
    again = [(101, every[n], f"c{n}") for n in range(0, len(every), 7)]  # same customer: no duplicate
    again += [(102, every[n], "other") for n in range(0, len(every), 11)]  # other series: no duplicate
    again += [(101, every[n], f"other-{n}") for n in planted]
    rng.shuffle(again)
    found, violation = ledger.issue_codes(again)
    assert found == 500 and violation is not None
    assert ledger.duplicates == 500
    tables = ledger._codes._tables.values()
    assert max(table.depth - table.row_bits for table in tables) > 0  # the packed table past its row bits
    assert min(table.depth - table.row_bits for table in tables) < 0  # the prefixed ones below them


def test_colliding_code_hashes_make_no_false_duplicate() -> None:
    """Every code that does not pack hashes alike: each hit is confirmed against the stored code."""
    ledger = Ledger(Expectations(), code_hash=lambda code: 7)
    unpackable = [f"code-{n}" for n in range(_SPLIT_AT + 200)]  # past a split, all in one bucket anyway
    assert ledger.issue_codes([(101, code, f"c{n}") for n, code in enumerate(unpackable)]) == (0, None)
    assert ledger.issue_codes([(101, code, f"c{n}") for n, code in enumerate(unpackable)]) == (0, None)
    found, _ = ledger.issue_codes([(101, code, "someone else") for code in unpackable[::100]])
    assert found == len(unpackable[::100])


def test_colliding_customer_fingerprints_hide_but_never_invent_a_duplicate() -> None:
    """The holder is a fingerprint: two customers that share it look alike (a missed duplicate), but one
    customer always has one fingerprint, so a repeat to the same customer is never a duplicate."""
    everyone_alike = Ledger(Expectations(), customer_hash=lambda customer: 0)
    pairs = [(101, code, f"c{n}") for n, code in enumerate([*codes(2000), "odd-one"])]
    everyone_alike.issue_codes(pairs)
    assert everyone_alike.issue_codes([(series, code, "another") for series, code, _ in pairs]) == (0, None)
    exact = Ledger(Expectations())
    exact.issue_codes(pairs)
    assert exact.issue_codes(pairs) == (0, None)
    assert exact.issue_codes([(series, code, "another") for series, code, _ in pairs])[0] == len(pairs)


def test_a_coupon_costs_under_9_5_bytes_at_scale() -> None:
    """10^5 packed coupons in one series: under 9.5 bytes a coupon (~8.7: 8 a slot, ~92% of the slots used),
    against 113 before issue 9. (Many small series: `test_codestore.py`.)"""
    every = codes(100_000)
    ledger = Ledger(Expectations())
    for index in range(0, 100_000, 2000):
        ledger.issue_codes([(101, code, "c") for code in every[index:index + 2000]])
    assert ledger.coupons == 100_000 and ledger.duplicates == 0
    assert ledger._codes.nbytes() / 100_000 < 9.5, ledger._codes.nbytes() / 100_000
