"""Coupon code alphabets and the generator that hands out codes never handed out before."""

from __future__ import annotations

import random
import string

from coupon_harness.codestore import CodeStore

__all__ = ["ALPHABETS", "CodeGenerator", "CodeSpaceExhausted", "resolve_alphabet"]

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
# How many random draws to try before declaring a (nearly full) code space exhausted.
_ATTEMPTS = 64


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


class CodeGenerator:
    """Random codes of one shape, unique against a set shared by every generator of a sandbox.

    The shared store (`codestore.CodeStore`, every code under the series key None: exact, ~8.7 bytes
    a code of letters and digits of one case) makes codes unique across series too, so one response never
    carries the same code twice whatever series it mixes. Not locked: the issuer holds its lock while it calls this.

    A code is random bytes mapped through a 256-entry table (byte modulo alphabet size): five times
    faster than random.choices, at the price of a slight bias towards the alphabet's first characters
    (8/256 against 7/256 for 36 characters), which no uniqueness or format rule cares about.
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
        raise CodeSpaceExhausted(f"no unused code of {length} characters from {len(self._alphabet)} "
                                 f"({len(self._alphabet) ** length} in all) was found")
