"""The sandbox's issued codes live in the compact exact store (issue 9): never a code twice, across series
and GENERIC codes too, at ~9-12 bytes a code instead of ~100."""

from __future__ import annotations

import random

import pytest

from coupon_harness.codestore import CodeStore
from coupon_harness.sandbox.codes import ALPHABETS, CodeGenerator, CodeSpaceExhausted


def test_a_small_code_space_is_used_up_without_a_repeat() -> None:
    """Two generators of one shape share the store: together they hand out each of the 1000 codes once."""
    store = CodeStore()
    rng = random.Random(3)
    first, second = (CodeGenerator(ALPHABETS["numeric"], 3, "", store, rng) for _ in range(2))
    handed: list[str] = []
    with pytest.raises(CodeSpaceExhausted):
        for turn in range(2000):
            handed.append((first if turn % 2 else second).next_code())
    assert len(handed) == len(set(handed)) and len(handed) > 900
    assert all(store.add(None, code) is not None for code in handed)


def test_reserved_codes_and_every_shape_stay_unique() -> None:
    """A reserved (GENERIC) code is never generated; prefixed, lower-case and mixed-case codes (the arena)
    never repeat either."""
    store = CodeStore()
    store.add(None, "5")
    rng = random.Random(4)
    digits = CodeGenerator(ALPHABETS["numeric"], 1, "", store, rng)
    assert sorted(digits.next_code() for _ in range(9)) == [str(n) for n in range(10) if n != 5]
    with pytest.raises(CodeSpaceExhausted):
        digits.next_code()
    for alphabet, prefix in (("lower-alnum", ""), ("upper-alnum", "FEST-"), ("alnum", ""), ("hex", "ZZ")):
        generator = CodeGenerator(ALPHABETS[alphabet], 2, prefix, store, rng)
        drawn = []
        try:
            for _ in range(5000):
                drawn.append(generator.next_code())
        except CodeSpaceExhausted:
            pass
        assert len(drawn) == len(set(drawn)) and len(drawn) > 200, alphabet


def test_the_issuer_never_repeats_a_code() -> None:
    from coupon_harness.sandbox.config import SandboxConfig, SeriesConfig
    from coupon_harness.sandbox.issuer import Issuer

    series = (SeriesConfig(id=101, code_length=2, code_alphabet="numeric", valid_days=30),
              SeriesConfig(id=102, code_length=2, code_alphabet="numeric", valid_days=30))
    issuer = Issuer(SandboxConfig(series=series, seed=5))
    codes = []
    for number in range(60):
        entities, _ = issuer.issue([101, 102], f"c{number}")
        codes += [entity["result"]["code"] for entity in entities if not entity["errors"]]
    assert len(codes) == 100 and len(set(codes)) == 100 and issuer.codes_issued == 100


def test_a_code_costs_under_9_5_bytes() -> None:
    """10^5 sandbox codes in the one store: under 9.5 bytes a code (~8.7; ~100 in a set before issue 9)."""
    store = CodeStore()
    generator = CodeGenerator(ALPHABETS["upper-alnum"], 10, "", store, random.Random(6))
    for _ in range(100_000):
        generator.next_code()
    assert len(store) == 100_000
    assert store.nbytes() / 100_000 < 9.5, store.nbytes() / 100_000
