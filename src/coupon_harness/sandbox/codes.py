"""Coupon code alphabets and the generators that hand out codes never handed out before.

Per code shape (alphabet, length, prefix) one `CodeSpace` counts 0, 1, 2, ... through a seeded bijection
of every code of that shape: unique by construction, nothing stored. A shape whose codes could equal another
shape's (same total length, every position's characters intersecting) takes the exact path instead: random
codes checked against one shared `codestore.CodeStore` (`CodeGenerator`). `IssuedCodes` picks per shape.
"""

from __future__ import annotations

import functools
import itertools
import random
import string
from collections.abc import Callable, Iterable, Sequence

from coupon_harness.codestore import CodeStore

__all__ = ["ALPHABETS", "CodeGenerator", "CodeSpace", "CodeSpaceExhausted", "IssuedCodes", "Shape",
           "overlapping", "resolve_alphabet"]

#: Named alphabets a series may use; any other set of characters is written "chars:<characters>".
ALPHABETS: dict[str, str] = {
    "upper-alnum": string.ascii_uppercase + string.digits,
    "numeric": string.digits,
    "upper": string.ascii_uppercase,
    "lower-alnum": string.ascii_lowercase + string.digits,
    "alnum": string.ascii_letters + string.digits,
    "hex": "0123456789ABCDEF",
}
_LITERAL = "chars:"
_PRINTABLE = frozenset(string.ascii_letters + string.digits + string.punctuation)
# How many random draws to try before declaring a (nearly full) code space exhausted (the store path).
_ATTEMPTS = 64
# The most strings a chunk table holds (shared per alphabet: upper-alnum's 36^3 triples take ~3 MB).
_CHUNK_TABLE_MAX = 50_000

#: A code shape: (alphabet, length, prefix).
Shape = tuple[str, int, str]


class CodeSpaceExhausted(Exception):
    """No unused code is left (or none was found quickly) for this length and alphabet."""


def resolve_alphabet(spec: str) -> str:
    """The characters of a named alphabet or of a "chars:..." literal; ValueError names the fix."""
    if spec in ALPHABETS:
        return ALPHABETS[spec]
    if spec.startswith(_LITERAL):
        chars = "".join(dict.fromkeys(spec[len(_LITERAL):]))
        if len(chars) < 2:
            raise ValueError(f"alphabet {spec!r} has fewer than 2 distinct characters; list at least 2")
        if not all(char in _PRINTABLE for char in chars):
            raise ValueError(f"alphabet {spec!r} has characters other than printable ASCII; use only those")
        return chars
    names = ", ".join(ALPHABETS)
    raise ValueError(f"unknown alphabet {spec!r}; use one of {names}, or chars:<characters>")


def _exhausted(alphabet: str, length: int) -> CodeSpaceExhausted:
    return CodeSpaceExhausted(f"no unused code of {length} characters from {len(alphabet)} "
                              f"({len(alphabet) ** length} in all) was found")


def _positions(shape: Shape) -> list[frozenset[str]]:
    alphabet, length, prefix = shape
    return [frozenset(char) for char in prefix] + [frozenset(alphabet)] * length


def overlapping(shapes: Iterable[Shape]) -> set[Shape]:
    """The shapes one of whose codes could equal a code of another shape: same total length and every
    position's characters intersecting (numeric/10 and upper-alnum/10; prefix "A" + 9 and "" + 10)."""
    distinct = list(dict.fromkeys(shapes))
    positions = [_positions(shape) for shape in distinct]
    found: set[Shape] = set()
    for a, first in enumerate(positions):
        for b in range(a + 1, len(distinct)):
            second = positions[b]
            if len(first) == len(second) and all(x & y for x, y in zip(first, second, strict=True)):
                found.update((distinct[a], distinct[b]))
    return found


@functools.cache
def _chunks(alphabet: str, size: int) -> tuple[str, ...]:
    """Every string of `size` characters of `alphabet`, in the order of the numbers they write."""
    return tuple("".join(chars) for chars in itertools.product(alphabet, repeat=size))


class CodeSpace:
    """Every code of one shape, each handed out once: a counter through a seeded bijection of [0, N), N =
    len(alphabet) ** length (add, odd-multiply and xor-shift rounds on the power of two above, cycle walking),
    written a chunk of characters at a time. `reserved` codes are skipped. Not locked: the issuer holds its lock.
    """

    __slots__ = ("_add", "_alphabet", "_chunk", "_chunks", "_head", "_length", "_mask", "_mul1", "_mul2", "_n",
                 "_next", "_reserved", "_shift", "_steps", "skipped")

    def __init__(self, alphabet: str, length: int, prefix: str, rng: random.Random,
                 reserved: Iterable[str] = ()) -> None:
        base = len(alphabet)
        self._alphabet, self._length = alphabet, length
        self._n: int = base ** length
        bits = max(2, (self._n - 1).bit_length())
        self._mask = (1 << bits) - 1
        self._shift = (bits + 1) // 2
        self._add = rng.getrandbits(bits)
        self._mul1 = rng.getrandbits(bits) | 1
        self._mul2 = rng.getrandbits(bits) | 1
        size = 1
        while size < length and base ** (size + 1) <= _CHUNK_TABLE_MAX:
            size += 1
        self._chunk: int = base ** size
        self._chunks = _chunks(alphabet, size)
        self._steps = (None,) * (length // size)
        # What is left after the full chunks: the prefix and the first length % size characters.
        self._head = tuple(prefix + chars for chars in _chunks(alphabet, length % size))
        self._reserved = frozenset(code for code in reserved
                                   if len(code) == len(prefix) + length and code.startswith(prefix)
                                   and set(code[len(prefix):]) <= set(alphabet))
        self._next = 0
        #: Reserved codes the counter stepped over (not handed out).
        self.skipped = 0

    @property
    def issued(self) -> int:
        """Codes handed out so far."""
        return self._next - self.skipped

    def next_code(self) -> str:
        index = self._next
        if index >= self._n:
            raise _exhausted(self._alphabet, self._length)
        self._next = index + 1
        n, mask, shift, add, mul1, mul2 = self._n, self._mask, self._shift, self._add, self._mul1, self._mul2
        value = index
        while True:
            value = ((value + add) * mul1) & mask
            value ^= value >> shift
            value = (value * mul2) & mask
            value ^= value >> shift
            if value < n:
                break
        chunks, chunk = self._chunks, self._chunk
        chars = ""
        for _ in self._steps:
            value, digit = divmod(value, chunk)
            chars += chunks[digit]
        code: str = self._head[value] + chars
        if self._reserved and code in self._reserved:
            self.skipped += 1
            return self.next_code()
        return code


class CodeGenerator:
    """Random codes of one shape, unique against a `CodeStore` shared by the overlapping shapes (series key
    None). Not locked: the issuer holds its lock.

    Random bytes map through a 256-entry table: five times faster than random.choices, slightly biased
    towards the alphabet's first characters, which no rule cares about.
    """

    __slots__ = ("_alphabet", "_bits", "_getrandbits", "_issued", "_length", "_prefix", "_table")

    def __init__(self, alphabet: str, length: int, prefix: str, issued: CodeStore, rng: random.Random) -> None:
        encoded = alphabet.encode("ascii")
        self._alphabet = alphabet
        self._table = bytes(encoded[i % len(encoded)] for i in range(256))
        self._length = length
        self._bits = 8 * length
        self._prefix = prefix
        self._issued = issued
        self._getrandbits = rng.getrandbits

    def next_code(self) -> str:
        getrandbits, bits, length, table, prefix, add = (
            self._getrandbits, self._bits, self._length, self._table, self._prefix, self._issued.add)
        for _ in range(_ATTEMPTS):
            code = prefix + getrandbits(bits).to_bytes(length, "little").translate(table).decode("ascii")
            if add(None, code) is None:  # None: not handed out before, and now recorded
                return code
        raise _exhausted(self._alphabet, length)


class IssuedCodes:
    """One code generator per shape (a `CodeSpace`, or for overlapping shapes a `CodeGenerator` on one shared
    store holding the reserved codes too), and how many codes they handed out."""

    def __init__(self, shapes: Sequence[Shape], reserved: Iterable[str], rng: random.Random) -> None:
        reserved = frozenset(reserved)
        self._store = CodeStore()
        for code in sorted(reserved):
            self._store.add(None, code)
        self._reserved = len(reserved)
        exact = overlapping(shapes)
        self._spaces: list[CodeSpace] = []
        self._generators: dict[Shape, Callable[[], str]] = {}
        for shape in dict.fromkeys(shapes):
            alphabet, length, prefix = shape
            if shape in exact:
                self._generators[shape] = CodeGenerator(alphabet, length, prefix, self._store, rng).next_code
            else:
                space = CodeSpace(alphabet, length, prefix, rng, reserved)
                self._spaces.append(space)
                self._generators[shape] = space.next_code

    def generator(self, shape: Shape) -> Callable[[], str]:
        """The `next_code` of `shape` (one of the shapes given), shared by every series of that shape."""
        return self._generators[shape]

    def __len__(self) -> int:
        return sum(space.issued for space in self._spaces) + len(self._store) - self._reserved
