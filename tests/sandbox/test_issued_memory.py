"""The sandbox's codes are unique for its life in bounded memory (issue 9, issue 17): a shape that overlaps
no other counts through a seeded bijection of its codes (`CodeSpace`, nothing stored); overlapping shapes keep
every code in the compact exact store (`CodeGenerator` into one `CodeStore`, ~9 bytes a code)."""

from __future__ import annotations

import itertools
import random
import tracemalloc

import pytest

from coupon_harness.codestore import CodeStore
from coupon_harness.sandbox.codes import (
    ALPHABETS,
    CodeGenerator,
    CodeSpace,
    CodeSpaceExhausted,
    IssuedCodes,
    Shape,
    overlapping,
)

NUMERIC, UPPER, ALNUM36 = ALPHABETS["numeric"], ALPHABETS["upper"], ALPHABETS["upper-alnum"]


def _drain(next_code: object, limit: int) -> list[str]:
    drawn: list[str] = []
    with pytest.raises(CodeSpaceExhausted, match=r"\(\d+ in all\)"):
        for _ in range(limit):
            drawn.append(next_code())  # type: ignore[operator]
    return drawn


def test_a_small_code_space_is_used_up_exactly() -> None:
    """Every one of the 1000 codes once, then CodeSpaceExhausted (and again on the next call)."""
    space = CodeSpace(NUMERIC, 3, "", random.Random(3))
    drawn = _drain(space.next_code, 2000)
    assert sorted(drawn) == [f"{n:03d}" for n in range(1000)]
    assert space.issued == 1000
    with pytest.raises(CodeSpaceExhausted):
        space.next_code()


@pytest.mark.parametrize(("alphabet", "length", "prefix"), [
    ("lower-alnum", 2, ""), ("upper-alnum", 3, "FEST-"), ("alnum", 2, ""), ("hex", 3, "ZZ"), ("numeric", 1, ""),
    ("chars:AB", 5, "X"), ("chars:!#", 1, "")])
def test_every_shape_is_a_bijection_of_its_codes(alphabet: str, length: int, prefix: str) -> None:
    chars = ALPHABETS.get(alphabet) or alphabet.removeprefix("chars:")
    space = CodeSpace(chars, length, prefix, random.Random(length))
    drawn = _drain(space.next_code, len(chars) ** length + 1)
    assert len(drawn) == len(set(drawn)) == len(chars) ** length
    assert all(code.startswith(prefix) and len(code) == len(prefix) + length
               and set(code[len(prefix):]) <= set(chars) for code in drawn)


def test_two_series_of_one_shape_share_its_space() -> None:
    """Two generators of one shape draw from one space: together they hand out each code once."""
    shape: Shape = (NUMERIC, 2, "")
    issued = IssuedCodes([shape, shape], [], random.Random(3))
    first, second = issued.generator(shape), issued.generator(shape)
    turns = itertools.cycle((first, second))

    def alternate() -> str:
        return next(turns)()

    drawn = _drain(alternate, 300)
    assert sorted(drawn) == [f"{n:02d}" for n in range(100)] and len(issued) == 100


def test_reserved_codes_are_skipped_and_not_counted() -> None:
    space = CodeSpace(NUMERIC, 1, "", random.Random(4), reserved=["5", "SUMMER2099", "55"])
    drawn = _drain(space.next_code, 20)
    assert sorted(drawn) == [str(n) for n in range(10) if n != 5]
    assert space.issued == 9 and space.skipped == 1
    issued = IssuedCodes([(NUMERIC, 1, "")], ["5"], random.Random(4))
    assert "5" not in _drain(issued.generator((NUMERIC, 1, "")), 20) and len(issued) == 9


def test_overlapping_shapes_are_found() -> None:
    assert overlapping([(NUMERIC, 10, ""), (ALNUM36, 10, "")]) == {(NUMERIC, 10, ""), (ALNUM36, 10, "")}
    assert overlapping([(UPPER, 9, "A"), (UPPER, 10, "")]) == {(UPPER, 9, "A"), (UPPER, 10, "")}
    assert overlapping([(NUMERIC, 12, "CH"), (ALNUM36, 14, ""), (UPPER, 9, "")]) == {
        (NUMERIC, 12, "CH"), (ALNUM36, 14, "")}
    apart: list[Shape] = [(NUMERIC, 10, ""), (UPPER, 10, ""), (ALNUM36, 9, ""), (UPPER, 9, "7"), (NUMERIC, 10, "")]
    assert overlapping(apart) == set()


def test_overlapping_shapes_take_the_exact_store_and_stay_unique() -> None:
    """numeric/2 and hex/2 can produce the same string: both go through the one store, so all 256 hex codes
    (the 100 numeric ones among them) are handed out once between them; "xyz"/2 overlaps none: a counter."""
    shapes: list[Shape] = [(NUMERIC, 2, ""), (ALPHABETS["hex"], 2, ""), ("xyz", 2, "")]
    issued = IssuedCodes(shapes, ["AB", "07"], random.Random(5))
    numeric, hexa, upper = (issued.generator(shape) for shape in shapes)
    assert isinstance(numeric.__self__, CodeGenerator) and isinstance(hexa.__self__, CodeGenerator)  # type: ignore[attr-defined]
    assert isinstance(upper.__self__, CodeSpace)  # type: ignore[attr-defined]
    digits: list[str] = []
    with pytest.raises(CodeSpaceExhausted):  # the store path gives up after 64 draws that were all taken
        for _ in range(1000):
            digits.append(numeric())
    assert len(digits) > 80
    rest: list[str] = []
    with pytest.raises(CodeSpaceExhausted):
        for _ in range(1000):
            rest.append(hexa())
    together = digits + rest
    assert len(together) == len(set(together)) and not {"AB", "07"} & set(together)
    letters = _drain(upper, 1000)
    assert sorted(letters) == sorted(a + b for a in "xyz" for b in "xyz")
    assert len(issued) == len(together) + len(letters)


def _issue_all(series: tuple[object, ...], requests: int) -> tuple[list[str], int]:
    from coupon_harness.sandbox.config import SandboxConfig
    from coupon_harness.sandbox.issuer import Issuer

    issuer = Issuer(SandboxConfig(series=series, seed=5))  # type: ignore[arg-type]
    ids = [s.id for s in series]  # type: ignore[attr-defined]
    codes = []
    for number in range(requests):
        entities, _ = issuer.issue(ids, f"c{number}")
        codes += [entity["result"]["code"] for entity in entities if not entity["errors"]]
    return codes, issuer.codes_issued


def test_the_issuer_never_repeats_a_code_and_counts_exactly() -> None:
    from coupon_harness.sandbox.config import SeriesConfig

    numeric = (SeriesConfig(id=101, code_length=2, code_alphabet="numeric", valid_days=30),
               SeriesConfig(id=102, code_length=2, code_alphabet="numeric", valid_days=30))
    codes, issued = _issue_all(numeric, 60)  # one shape, one space: all 100 codes, then 722
    assert sorted(codes) == [f"{n:02d}" for n in range(100)] and issued == 100
    # numeric/2 and "9" + hex/1 overlap ("90".."99"): the exact path, where a few codes may be refused as not
    # found quickly; every code handed out is still distinct and counted
    hexa = SeriesConfig(id=103, code_length=1, code_alphabet="hex", code_prefix="9", valid_days=30)
    codes, issued = _issue_all((*numeric, hexa), 60)
    assert len(codes) == len(set(codes)) == issued > 80


def test_codes_look_random() -> None:
    """No constant step between consecutive codes; every position uses the whole alphabet."""
    space = CodeSpace(ALNUM36, 10, "", random.Random(7))
    drawn = [space.next_code() for _ in range(3000)]
    values = [int(code.translate(str.maketrans(ALNUM36, "0123456789abcdefghijklmnopqrstuvwxyz")), 36)
              for code in drawn]
    steps = {b - a for a, b in itertools.pairwise(values)}
    assert len(steps) > 2900
    assert all({code[i] for code in drawn} == set(ALNUM36) for i in range(10))
    assert sorted(values) != values
    small = CodeSpace(NUMERIC, 3, "", random.Random(7))
    numbers = [int(small.next_code()) for _ in range(1000)]
    assert len({b - a for a, b in itertools.pairwise(numbers)}) > 500
    assert all(len({f"{n:03d}"[i] for n in numbers[:200]}) == 10 for i in range(3))


def test_the_same_seed_gives_the_same_codes() -> None:
    def codes(seed: int) -> list[str]:
        space = CodeSpace(ALNUM36, 10, "", random.Random(seed))
        return [space.next_code() for _ in range(50)]

    assert codes(11) == codes(11) != codes(12)


def test_counter_codes_cost_nothing_in_memory() -> None:
    """10^5 codes on the counter path: the space holds no more than when it started (a few hundred bytes
    of Python's small-object pools at most)."""
    issued = IssuedCodes([(ALNUM36, 10, "")], ["SUMMER2099"], random.Random(6))
    next_code = issued.generator((ALNUM36, 10, ""))
    next_code()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(100_000):
            next_code()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(issued) == 100_001
    assert grown < 2_000, grown


def test_a_code_costs_under_9_5_bytes() -> None:
    """The exact path: 10^5 codes in the one store, under 9.5 bytes a code (~8.7; ~100 in a set before issue 9)."""
    store = CodeStore()
    generator = CodeGenerator(ALNUM36, 10, "", store, random.Random(6))
    for _ in range(100_000):
        generator.next_code()
    assert len(store) == 100_000
    assert store.nbytes() / 100_000 < 9.5, store.nbytes() / 100_000
