"""Rules that span responses: no code handed out twice, one series answers with the same attributes.

One `Ledger` serves both runners. The contract runner's Judge feeds it whole answers (`observe`); the load
runner's `Aggregate` (one per run, on the master) feeds it what every generator's `Recorder` shipped:
coupons as (series, code, customer) (`issue_codes`) and, per series, how many answers carried which
attribute set (`attribute_answers`), each set named by `AttributeDigests` (process-independent digests,
computed once per distinct set in a generator, so the hot path pays one tuple and one dict look-up a coupon).

Memory: codes live in a `coupon_harness.codestore.CodeStore`, exact (a repeat is confirmed against the
stored code, never decided by a hash), ~9 bytes a coupon (~11 for series of 10^3), however many series a run
spreads over (`scripts/bench_soak.py`, BENCHMARKS.md). A series holds one reference attribute set.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from coupon_harness.codestore import CodeStore
from coupon_harness.contract.catalog import RuleId
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.violations import Violation, shown

__all__ = ["SERIES_ATTRIBUTES", "AttributeDigests", "Ledger", "attribute_digests", "series_attributes",
           "shown_attributes"]

SERIES_ATTRIBUTES = ("description", "discountCode", "discountType", "discountValue", "discountUpto", "discountOn")
#: Width of one attribute as a finding shows it.
_SHOWN_WIDTH = 80

_UNIQUE_EXPECTED = "a code no other customer holds for this series"
_STABLE_EXPECTED = "the attributes of earlier calls"


def series_attributes(result: dict[str, Any]) -> tuple[Any, ...]:
    """The attributes a series must answer alike, in SERIES_ATTRIBUTES order (hot path: no loop)."""
    get = result.get
    return (get("description"), get("discountCode"), get("discountType"), get("discountValue"),
            get("discountUpto"), get("discountOn"))


def shown_attributes(values: Sequence[Any]) -> tuple[str, ...]:
    return tuple(shown(value, _SHOWN_WIDTH) for value in values)


def _token(value: Any) -> str | None:
    """A scalar's canonical text: values Python holds equal (500, 500.0, True and 1) get the same text."""
    kind = type(value)
    if value is None:
        return "n"
    if kind is bool or kind is int:
        return "i" + hex(int(value))  # hex: no digit limit (str() refuses ints past 4300 digits)
    if kind is float:
        number = float(value)
        if number.is_integer():  # False for NaN and the infinities
            return "i" + hex(int(number))
        return "f" + number.hex()
    if kind is str:
        return "s" + str(value)
    return None


def _digest(value: Any) -> str:
    """A digest of one JSON value that does not depend on the process (str hashes are salted per process),
    walked without recursion (orjson reads 1024 levels)."""
    hasher = hashlib.blake2b(digest_size=8)
    stack = [value]
    while stack:
        item = stack.pop()
        token = _token(item)
        if token is not None:
            hasher.update(token.encode("utf-8", "surrogatepass"))
            hasher.update(b"\x00")
        elif isinstance(item, list | tuple):
            hasher.update(b"[%d\x00" % len(item))
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            hasher.update(b"{%d\x00" % len(item))
            for key in sorted(item, key=str, reverse=True):
                stack.append(item[key])
                stack.append(str(key))
        else:
            hasher.update(("?" + type(item).__name__).encode())
    return hasher.hexdigest()


def attribute_digests(values: Sequence[Any]) -> tuple[str, ...]:
    """One digest per attribute: two answers carry the same attributes when their digests are equal."""
    return tuple(_digest(value) for value in values)


class AttributeDigests:
    """attribute set -> its digests, cached (a series answers the same set to many calls); one per process.

    Bounded: the cache starts afresh past `limit` sets (a drifting target makes a new set every answer).
    """

    def __init__(self, limit: int = 4096) -> None:
        self._cache: dict[tuple[Any, ...], tuple[str, ...]] = {}
        self._limit = limit

    def __call__(self, values: tuple[Any, ...]) -> tuple[str, ...]:
        try:
            digests = self._cache.get(values)
        except TypeError:  # a list or object among the attributes: no hash, digest it every time
            return attribute_digests(values)
        if digests is None:
            if len(self._cache) >= self._limit:
                self._cache.clear()
            digests = self._cache[values] = attribute_digests(values)
        return digests


@dataclass(slots=True)
class _Reference:
    """The first attribute set a series answered: what every later answer must match."""

    digests: tuple[str, ...]
    shown: tuple[str, ...] | None


class Ledger:
    """Remembers every code issued in a run and each series' first attribute set.

    The same customer may be answered the same coupon again (a target may return the coupon a customer
    already holds); the same code for another customer of the same series is a duplicate (unique-codes),
    unless the series is GENERIC (`Expectations.generic_series`, unless `unique_generic`). An answer whose
    attributes differ from the series' first answer breaks series-attributes-stable. Safe to share between
    threads.
    """

    def __init__(self, expectations: Expectations, customer_hash: Callable[[Any], int] = hash,
                 code_hash: Callable[[str], int] = hash) -> None:
        self._exempt = frozenset() if expectations.unique_generic else expectations.generic_series
        #: Every (series, code) issued and a fingerprint of its first holder: ~9 bytes a coupon, exact.
        self._codes = CodeStore(customer_hash, code_hash)
        self._references: dict[Any, _Reference] = {}
        self._digests = AttributeDigests()
        self._lock = threading.Lock()
        #: Coupons counted, and those that repeated a code another customer holds.
        self.coupons = 0
        self.duplicates = 0

    # --- unique-codes ---------------------------------------------------------------------------------

    def issue_codes(self, coupons: Iterable[Sequence[Any]]) -> tuple[int, Violation | None]:
        """Coupons issued, as (series, code, customer): how many repeat a code another customer holds, and
        the first of those as a violation (the load aggregate's path: one call per delta)."""
        with self._lock:
            count, duplicates, repeated = self._codes.add_all(coupons, self._exempt)
            self.coupons += count
            self.duplicates += duplicates
        return duplicates, (_duplicate(*repeated) if repeated is not None else None)

    # --- series-attributes-stable ----------------------------------------------------------------------

    def attribute_answers(self, series: Any, digests: Sequence[str], count: int = 1,
                          shown_values: Sequence[str] | None = None) -> tuple[int, Violation | None]:
        """`count` answers of `series` carried the attribute set `digests` (shown as `shown_values`, when
        known): how many of them break series-attributes-stable, and the violation they break it with."""
        digests = tuple(digests)
        with self._lock:
            reference = self._references.get(series)
            if reference is None:
                self._references[series] = _Reference(digests, tuple(shown_values) if shown_values else None)
                return 0, None
            if reference.shown is None and shown_values and reference.digests == digests:
                reference.shown = tuple(shown_values)
            if reference.digests == digests:
                return 0, None
        return count, _changed(series, reference, digests, shown_values)

    # --- the contract runner: a whole answer -------------------------------------------------------------

    def observe(self, series_ids: Sequence[int], customer_id: str | None, body: Any) -> list[Violation]:
        entities = body.get("response") if isinstance(body, dict) else None
        if not isinstance(entities, list):
            return []
        found: list[Violation] = []
        for index, entity in enumerate(entities):
            if not isinstance(entity, dict):
                continue
            result = entity.get("result")
            errors = entity.get("errors")
            if not isinstance(result, dict) or (isinstance(errors, list) and errors):
                continue
            if index >= len(series_ids):
                break  # entities beyond the request are a total-count violation; they name no series asked for
            series = series_ids[index]
            code = result.get("code")
            if isinstance(code, str) and code:
                _, violation = self.issue_codes(((series, code, customer_id),))
                if violation is not None:
                    found.append(violation)
            values = series_attributes(result)
            digests = self._digests(values)
            reference = self._references.get(series)
            if reference is None or reference.digests != digests:
                _, violation = self.attribute_answers(series, digests, 1, shown_attributes(values))
                if violation is not None:
                    found.append(violation)
        return found


def _duplicate(series: Any, code: str, customer: Any) -> Violation:
    return Violation(RuleId.UNIQUE_CODES, "across-customers", _UNIQUE_EXPECTED,
                     f"series {series} code {code!r} issued to customer {customer!r}, "
                     "already issued to another customer")


def _changed(series: Any, reference: _Reference, digests: tuple[str, ...],
             shown_values: Sequence[str] | None) -> Violation:
    changed = []
    for position, name in enumerate(SERIES_ATTRIBUTES):
        if position >= len(digests) or reference.digests[position] != digests[position]:
            old = reference.shown[position] if reference.shown else "?"
            new = shown_values[position] if shown_values and position < len(shown_values) else "?"
            changed.append(f"{name} {old} -> {new}")
    return Violation(RuleId.SERIES_ATTRIBUTES_STABLE, "changed", _STABLE_EXPECTED,
                     f"series {series}: " + "; ".join(changed))
