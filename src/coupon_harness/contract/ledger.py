"""Rules that span responses: no code handed out twice, one series answers with the same attributes.

One `Ledger` serves both runners. The contract runner's Judge feeds it whole answers (`observe`); the load
runner's `Aggregate` (one per run, on the master) feeds it what every generator's `Recorder` shipped:
coupons as (series, code, customer) (`issue_codes`) and, per series, how many answers carried which
attribute set (`attribute_answers`), each set named by `AttributeDigests` (process-independent digests,
computed once per distinct set in a generator, so the hot path pays one tuple and one dict look-up a coupon).

Memory: codes live in a `CodeStore`, exact (a repeat is confirmed against the stored code, never decided by
a hash): a code of ASCII letters and digits of one case (the sandbox's and Capillary's shape) packs into a
64-bit slot with a fingerprint of its holder, ~8.7 bytes a coupon at scale (10^8 coupons: ~0.9 GB peak
RSS for the whole aggregate, `scripts/bench_soak.py`, BENCHMARKS.md), against ~113 bytes for the
dict of hashes before; a table's buckets double as its codes grow, so a series of a few thousand codes costs
~10-12 bytes a code too (~17 of RSS with a thousand series), however many series a run spreads over. Other
codes cost ~29 bytes plus their length. A series holds one reference attribute set.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from coupon_harness.contract.catalog import RuleId
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.violations import Violation, shown

__all__ = ["SERIES_ATTRIBUTES", "AttributeDigests", "CodeStore", "Ledger", "attribute_digests", "series_attributes",
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
            return self._cache[values]
        except KeyError:
            pass
        except TypeError:  # a list or object among the attributes: no hash, digest it every time
            return attribute_digests(values)
        digests = attribute_digests(values)
        if len(self._cache) >= self._limit:
            self._cache.clear()
        self._cache[values] = digests
        return digests


# --- the compact exact store of codes --------------------------------------------------------------------

#: Codes of up to this many characters (the tail of longer ones) pack into one int, base 36, when they are
#: ASCII letters and digits of one case: 36**12 < 2**63.
_PACKED_CHARS = 12
#: Bits of a packed code that choose its bucket once a table is at full depth (the rest is stored in the
#: bucket's 64-bit slots).
_BUCKET_BITS = 16
#: A table starts with one bucket of this many slots (~0.5 KB with its lists): a series of a few codes costs little.
_INITIAL_CAPACITY = 8
#: Slots a bucket may reach before a table below full depth doubles its buckets instead of growing them.
_REGION_MAX = 256
#: Codes a fallback bucket holds on average before the buckets double (up to 2**16 of them).
_SPLIT_AT = 1024
#: Distinct prefixes (a code's characters before its packed tail) a series may spread its codes over
#: before the rest of its long codes go to the fallback.
_MAX_PREFIXES = 16
#: Fibonacci hashing: odd, so multiplying by it mod 2**k is a bijection that spreads consecutive codes.
_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1
_UPPER, _LOWER = 1, 2
#: The low byte of each item of an array('H')'s bytes.
_LOW_BYTES = slice(0, None, 2) if sys.byteorder == "little" else slice(1, None, 2)
# A packed table, a list: its fields by position (the hot path reads them by number: 0 mask, 4 customer
# mask, 9 middles, 1:9 the rest).
(_MASK, _SHIFT, _REMAINDER, _BITS, _CUSTOMER, _FLAT, _COUNTS, _CAPACITY, _SPILL, _MIDDLES, _DEPTH,
 _MIDDLE_MASK) = range(12)
# A series' fallback, a list: arena, level (buckets = 2**level), hash buckets, offset buckets, codes.
_ARENA, _LEVEL, _HASHES, _OFFSETS, _COUNT = range(5)


def _new_table(length: int) -> list[Any]:
    """The empty table of codes of `length` base-36 digits.

    A code is its base-36 value x (< 36**length <= 2**k) multiplied by an odd constant mod 2**k, a bijection.
    Its top `_BUCKET_BITS` are its "row" r, the other k - 16 bits its remainder. Slot: (remainder << customer
    bits) | customer fingerprint, 8 bytes; (row, slot) is the code and its holder, nothing lost, so equal
    (row, remainder) mean equal codes.

    The slots live in buckets: fixed regions of `capacity` slots in one flat array('Q'), each kept sorted
    (bisect within the region, insert by a slice move), with its fill in `counts`: one allocation, grown in
    place, so the heap does not fragment as it did with an array per bucket. A code whose bucket is full
    goes to `spill` (a dict); when the spill passes 1/512 of the capacity, every region grows by 1/32 (moved
    in place, last bucket first; by 1/8 below full depth) and the spill is put back: ~90% of the slots are used.

    A table has 2**depth buckets, the top `depth` bits of the row; it starts at depth 0 (one bucket of
    `_INITIAL_CAPACITY` slots). Below full depth (`_BUCKET_BITS`) the rest of the row, its "middle", is
    kept in `middles`, an array parallel to the slots (the row's low 8 bits, 'B', from depth 8 on; the whole
    row, 'H', before), and a bucket is sorted by (middle, slot). When a region below full depth would grow
    past `_REGION_MAX` slots, the buckets double instead (`_deepen`: each splits at its middle's top bit).
    At full depth the middles go: the bucket is the row, 8 bytes a slot, the layout of the hot path. So a
    table's memory follows its codes (~9-12 bytes a code whatever its size), however many tables there are.
    """
    bits = max((36 ** length - 1).bit_length(), _BUCKET_BITS + 1)
    shift = bits - _BUCKET_BITS
    customer_bits = min(64 - shift, 32)
    flat: array[int] = array("Q")
    _zeros(flat, _INITIAL_CAPACITY)
    middle_code, middle_mask = _middles_of(0)
    middles: array[int] = array(middle_code)
    _zeros(middles, _INITIAL_CAPACITY)
    # mask, shift, remainder mask, customer bits, customer mask, flat, counts, capacity, spill, middles,
    # depth, middle mask
    return [(1 << bits) - 1, shift, (1 << shift) - 1, customer_bits, (1 << customer_bits) - 1,
            flat, array("I", (0,)), _INITIAL_CAPACITY, {}, middles, 0, middle_mask]


def _middles_of(depth: int) -> tuple[str, int]:
    """The typecode of a table's middles at `depth` (below full depth), and the mask of the row kept."""
    return ("B", 0xFF) if _BUCKET_BITS - depth <= 8 else ("H", 0xFFFF)


#: Zeros to extend an array with, by typecode: no temporary is allocated and freed as an array grows (a
#: freed block of 128 KB or more raises glibc's threshold for mmap, and arrays below it then fragment the heap).
_ZERO_BLOCKS = {code: array(code, bytes(array(code).itemsize << 12)) for code in "BHIQ"}


def _zeros(flat: array[int], slots: int) -> None:
    """Append `slots` zeros to `flat`, 4,096 at a time."""
    block = _ZERO_BLOCKS[flat.typecode]
    while slots >= 1 << 12:
        flat.extend(block)
        slots -= 1 << 12
    if slots > 0:
        flat.extend(block[:slots])


def _store(table: list[Any], product: int, who: int) -> int:
    return _put(table, product, who) if table[_MIDDLES] is None else _put_middle(table, product, who)


def _put(table: list[Any], product: int, who: int) -> int:
    """Store a code (by its product) in a table at full depth: -1 if new, else the fingerprint stored with it."""
    shift, remainder_mask, bits, customer_mask, flat, counts, capacity, _ = table[1:9]
    bucket = product >> shift
    filled = counts[bucket]
    base = bucket * capacity
    end = base + filled
    remainder = product & remainder_mask
    probe = remainder << bits
    at = bisect_left(flat, probe, base, end)
    if at < end and flat[at] >> bits == remainder:
        return int(flat[at] & customer_mask)
    if filled == capacity:
        return _spill(table, product, who)
    if at < end:
        flat[at + 1:end + 1] = flat[at:end]
    flat[at] = probe | (who & customer_mask)
    counts[bucket] = filled + 1
    return -1


def _spill(table: list[Any], product: int, who: int) -> int:
    """A code whose bucket is full: the fingerprint stored with it in the spill, or -1 (now stored there)."""
    spill: dict[int, int] = table[_SPILL]
    held: int | None = spill.get(product)
    if held is not None:
        return int(held & table[_CUSTOMER])
    spill[product] = who
    if len(spill) > (table[_CAPACITY] << table[_DEPTH]) >> 9:
        _grow(table)
    return -1


def _put_middle(table: list[Any], product: int, who: int) -> int:
    """`_put` for a table below full depth: the bucket is sorted by (middle, slot)."""
    shift, remainder_mask, bits, customer_mask, flat, counts, capacity, _, middles, depth, middle_mask = table[1:12]
    row = product >> shift
    bucket = row >> (_BUCKET_BITS - depth)
    middle = row & middle_mask
    filled = counts[bucket]
    base = bucket * capacity
    end = base + filled
    low = bisect_left(middles, middle, base, end)
    high = bisect_right(middles, middle, low, end)
    remainder = product & remainder_mask
    probe = remainder << bits
    at = bisect_left(flat, probe, low, high)
    if at < high and flat[at] >> bits == remainder:
        return int(flat[at] & customer_mask)
    if filled == capacity:
        return _spill(table, product, who)
    if at < end:
        flat[at + 1:end + 1] = flat[at:end]
        middles[at + 1:end + 1] = middles[at:end]
    flat[at] = probe | (who & customer_mask)
    middles[at] = middle
    counts[bucket] = filled + 1
    return -1


def _grow(table: list[Any]) -> None:
    """Every bucket's region grows by 1/32, moved in place from the last bucket down (or, below full depth at
    `_REGION_MAX` slots, the buckets double); the spill is put back."""
    flat: array[int] = table[_FLAT]
    counts: array[int] = table[_COUNTS]
    middles: array[int] | None = table[_MIDDLES]
    old: int = table[_CAPACITY]
    depth: int = table[_DEPTH]
    spill: dict[int, int] = table[_SPILL]
    if middles is not None and old >= _REGION_MAX:
        _deepen(table)
    else:
        # by 1/32 at full depth; by 1/8 below it (fewer moves), by half in a table of one bucket (a few KB)
        new = old + max(old >> (5 if middles is None else 3 if depth else 1), 2)
        if middles is not None:
            new += new & 1  # even: `_deepen` halves it
        _zeros(flat, (new - old) << depth)
        if middles is not None:
            _zeros(middles, (new - old) << depth)
        for bucket in range((1 << depth) - 1, 0, -1):
            filled = counts[bucket]
            if filled:
                flat[bucket * new:bucket * new + filled] = flat[bucket * old:bucket * old + filled]
                if middles is not None:
                    middles[bucket * new:bucket * new + filled] = middles[bucket * old:bucket * old + filled]
        table[_CAPACITY], table[_SPILL] = new, {}
    for product, who in spill.items():
        _store(table, product, who)


def _deepen(table: list[Any]) -> None:
    """Double a table's buckets, in place: bucket i's region (sorted by middle) is cut where its middle's top
    bit turns to 1; the first part stays, the second moves to the region's second half, and the two halves
    are buckets 2i and 2i + 1 (the same slots: nothing is allocated but the counts). What does not fit its
    half goes to the spill. Empties the spill: the caller puts the old one back."""
    shift, _, bits, customer_mask, flat, counts, old, _, middles, depth, middle_mask = table[1:12]
    new_depth = depth + 1
    gap = _BUCKET_BITS - depth  # bits of the row below the bucket: the middle's
    low = (1 << gap) - 1
    half = old >> 1  # `_grow` keeps the capacity even below full depth
    spill: dict[int, int] = {}
    _zeros(counts, 1 << depth)  # doubled in place: bucket i's count moves to 2i and 2i + 1, last first
    for bucket in range((1 << depth) - 1, -1, -1):
        filled = counts[bucket]
        counts[bucket << 1] = counts[(bucket << 1) | 1] = 0
        if not filled:
            continue
        base = bucket * old
        end = base + filled
        cut = bisect_left(middles, (((bucket << 1) | 1) << (gap - 1)) & middle_mask, base, end)
        for start, stop in ((base + half, cut), (cut + half, end)):  # over a half: to the spill, as products
            for at in range(start, stop):
                row = (bucket << gap) | (middles[at] & low)
                spill[(row << shift) | (flat[at] >> bits)] = flat[at] & customer_mask
        second = min(end - cut, half)
        if second:
            flat[base + half:base + half + second] = flat[cut:cut + second]
            middles[base + half:base + half + second] = middles[cut:cut + second]
        counts[bucket << 1] = min(cut - base, half)
        counts[(bucket << 1) | 1] = second
    new_middles: array[int] | None = None
    new_mask = 0
    if new_depth < _BUCKET_BITS:  # at full depth the bucket is the row: no middles
        code, new_mask = _middles_of(new_depth)
        new_middles = middles if code == middles.typecode else array(code, middles.tobytes()[_LOW_BYTES])
    table[_CAPACITY], table[_SPILL] = half, spill
    table[_MIDDLES], table[_DEPTH], table[_MIDDLE_MASK] = new_middles, new_depth, new_mask


class CodeStore:
    """Every (series, code) seen, with a fingerprint of who holds it, in about 8.7-12 bytes a code; exact.

    Codes that are ASCII letters and digits of one case (the sandbox's and Capillary's usual shape) are
    packed, exactly, into 64-bit slots (`_new_table`), one table per (series, prefix, length, case): a hit is
    an equal stored code, never a hash collision. A table starts at a few hundred bytes and doubles its
    buckets as it grows (`_deepen`), so its memory follows its codes whatever the number of tables. Longer
    codes pack their last 12 characters under their prefix (a series may use `_MAX_PREFIXES` of them). Any
    other code (mixed case, punctuation, non-ASCII, too many prefixes) goes to its series' arena
    (`_add_other`: the code's bytes, confirmed on every hash hit; ~29 bytes a code plus its length); a code
    that is not a str, to a dict.

    The holder is kept as a fingerprint of `customer_hash(customer)` (Python's hash: stable within the one
    process that holds the store) in the slot's spare bits (28 for 10 characters, at least 17; 64 in the
    arena). The same customer always has the same fingerprint, so a repeat to the same customer is never
    taken for a duplicate, and a duplicate is reported only when the fingerprints differ, which proves the
    customers differ: no false duplicate. The one error left is the other way round: a code repeated to a
    second customer whose fingerprint equals the first one's goes unseen (1 in 2**28 for a repeated
    10-character code).

    Not locked: the Ledger holds its lock, the sandbox's issuer its own.
    """

    __slots__ = ("_code_hash", "_customer_hash", "_objects", "_others", "_prefixes", "_tables", "codes")

    def __init__(self, customer_hash: Callable[[Any], int] = hash, code_hash: Callable[[str], int] = hash) -> None:
        """`customer_hash` and `code_hash` (the arena's bucket key) are Python's hash; tests pass tiny ones."""
        self._customer_hash = customer_hash
        self._code_hash = code_hash
        self._tables: dict[tuple[Any, str, int, int], list[Any]] = {}
        self._prefixes: dict[Any, set[str]] = {}
        #: series -> its fallback (`_ARENA`, ...) for str codes that do not pack.
        self._others: dict[Any, list[Any]] = {}
        #: Codes that are not a str, exactly.
        self._objects: dict[tuple[Any, Any], int] = {}
        #: Distinct (series, code) pairs stored.
        self.codes = 0

    def __len__(self) -> int:
        return self.codes

    def add(self, series: Any, code: Any, customer: Any = None) -> bool | None:
        """Remember `code` of `series` for `customer`: None if it is new (now stored), True if the same
        customer (by fingerprint) holds it already, False if another customer does (a duplicate)."""
        before = self.codes
        _, duplicates, _ = self.add_all(((series, code, customer),))
        if self.codes != before:
            return None
        return not duplicates

    def add_all(self, coupons: Iterable[Sequence[Any]], exempt: frozenset[Any] = frozenset()
                ) -> tuple[int, int, Sequence[Any] | None]:
        """Remember every (series, code, customer) but those of `exempt` series: how many coupons there were,
        how many repeat a code another customer holds, and the first of those (the load aggregate's hot
        path: one call per delta)."""
        tables = self._tables
        other = self._add_other
        customer_hash = self._customer_hash
        put_middle = _put_middle
        bucket_bits = _BUCKET_BITS
        mask64, golden, packed_chars, upper, lower = _MASK64, _GOLDEN, _PACKED_CHARS, _UPPER, _LOWER
        count = duplicates = added = 0
        first: Sequence[Any] | None = None
        for coupon in coupons:
            series, code, customer = coupon
            count += 1
            if series in exempt:
                continue
            who = customer_hash(customer) & mask64
            if type(code) is str and code.isascii() and code.isalnum():
                if len(code) > packed_chars:
                    prefix, tail = code[:-packed_chars], code[-packed_chars:]
                else:
                    prefix, tail = "", code
                case = upper if tail.isupper() or tail.isdigit() else lower if tail.islower() else 0
                if case:
                    table = tables.get((series, prefix, len(tail), case))
                    if table is None:
                        table = self._table(series, prefix, len(tail), case)
                    if table is not None:
                        product = (int(tail, 36) * golden) & table[0]
                        middles = table[9]
                        if middles is not None:
                            # `_put_middle`, inlined (below full depth). Change both together.
                            shift, remainder_mask, bits, customer_mask, flat, counts, capacity, _, _, depth, \
                                middle_mask = table[1:12]
                            row = product >> shift
                            bucket = row >> (bucket_bits - depth)
                            middle = row & middle_mask
                            filled = counts[bucket]
                            base = bucket * capacity
                            end = base + filled
                            low = bisect_left(middles, middle, base, end)
                            high = bisect_right(middles, middle, low, end)
                            remainder = product & remainder_mask
                            probe = remainder << bits
                            at = bisect_left(flat, probe, low, high)
                            if at < high and flat[at] >> bits == remainder:
                                if (flat[at] ^ who) & customer_mask:
                                    duplicates += 1
                                    if first is None:
                                        first = coupon
                                continue
                            if filled == capacity:
                                held = put_middle(table, product, who)
                                if held < 0:
                                    added += 1
                                elif held != who & customer_mask:
                                    duplicates += 1
                                    if first is None:
                                        first = coupon
                                continue
                            if at < end:
                                flat[at + 1:end + 1] = flat[at:end]
                                middles[at + 1:end + 1] = middles[at:end]
                            flat[at] = probe | (who & customer_mask)
                            middles[at] = middle
                            counts[bucket] = filled + 1
                            added += 1
                            continue
                        # `_put`, inlined: this loop runs once a coupon on the master, and the call costs more than the
                        # lookup. Change both together.
                        shift, remainder_mask, bits, customer_mask, flat, counts, capacity, _ = table[1:9]
                        bucket = product >> shift
                        filled = counts[bucket]
                        base = bucket * capacity
                        end = base + filled
                        remainder = product & remainder_mask
                        probe = remainder << bits
                        at = bisect_left(flat, probe, base, end)
                        if at < end and flat[at] >> bits == remainder:
                            if (flat[at] ^ who) & customer_mask:
                                duplicates += 1
                                if first is None:
                                    first = coupon
                            continue
                        if filled == capacity:  # a full bucket: its spill, or a new code
                            held = _put(table, product, who)
                            if held < 0:
                                added += 1
                            elif held != who & customer_mask:
                                duplicates += 1
                                if first is None:
                                    first = coupon
                            continue
                        if at < end:
                            flat[at + 1:end + 1] = flat[at:end]
                        flat[at] = probe | (who & customer_mask)
                        counts[bucket] = filled + 1
                        added += 1
                        continue
            stored = other(series, code, who)
            if stored is None:
                added += 1
            elif stored != who:
                duplicates += 1
                if first is None:
                    first = coupon
        self.codes += added
        return count, duplicates, first

    def _table(self, series: Any, prefix: str, length: int, case: int) -> list[Any] | None:
        if prefix:
            prefixes = self._prefixes.setdefault(series, set())
            if prefix not in prefixes:
                if len(prefixes) >= _MAX_PREFIXES:
                    return None
                prefixes.add(prefix)
        table = self._tables[(series, prefix, length, case)] = _new_table(length)
        return table

    def _add_other(self, series: Any, code: Any, who: int) -> int | None:
        """A code that does not pack: None if new (now stored), else the customer hash stored with it.

        A series' str codes go to one arena (a bytearray of records: customer hash, 8 bytes; length, 4; the
        code in UTF-8) and to 2**level buckets (by the top bits of the code's hash) of two parallel
        arrays('Q'): the code hashes, sorted, and the offsets of their records. A hash hit is confirmed
        against the stored bytes, so two codes that share a hash stay two codes. The buckets double (each
        splits where its next hash bit turns to 1) as the codes grow, up to 2**16 buckets.
        """
        if type(code) is not str:
            key = (series, code)
            stored = self._objects.get(key)
            if stored is None:
                self._objects[key] = who
            return stored
        fallback = self._others.get(series)
        if fallback is None:
            fallback = self._others[series] = [bytearray(), 0, [array("Q")], [array("Q")], 0]
        arena: bytearray = fallback[_ARENA]
        data = code.encode("utf-8", "surrogatepass")
        digest = self._code_hash(code) & _MASK64
        bucket = digest >> (64 - fallback[_LEVEL]) if fallback[_LEVEL] else 0
        hashes: array[int] = fallback[_HASHES][bucket]
        offsets: array[int] = fallback[_OFFSETS][bucket]
        at = bisect_left(hashes, digest)
        end = len(hashes)
        size = len(data)
        while at < end and hashes[at] == digest:
            offset = offsets[at]
            if (int.from_bytes(arena[offset + 8:offset + 12], "little") == size
                    and arena[offset + 12:offset + 12 + size] == data):
                return int.from_bytes(arena[offset:offset + 8], "little")
            at += 1
        hashes.insert(at, digest)
        offsets.insert(at, len(arena))
        arena += who.to_bytes(8, "little")
        arena += size.to_bytes(4, "little")
        arena += data
        fallback[_COUNT] += 1
        if fallback[_COUNT] > _SPLIT_AT << fallback[_LEVEL] and fallback[_LEVEL] < _BUCKET_BITS:
            _split(fallback)
        return None


def _split(fallback: list[Any]) -> None:
    """Double a fallback's buckets: bucket i's hashes below its midpoint go to 2i, the others to 2i + 1."""
    level = fallback[_LEVEL]
    hashes: list[array[int]] = []
    offsets: list[array[int]] = []
    half = 1 << (63 - level)
    for index, (bucket, places) in enumerate(zip(fallback[_HASHES], fallback[_OFFSETS], strict=True)):
        middle = bisect_left(bucket, (index << (64 - level) if level else 0) + half)
        hashes += (bucket[:middle], bucket[middle:])
        offsets += (places[:middle], places[middle:])
    fallback[_LEVEL], fallback[_HASHES], fallback[_OFFSETS] = level + 1, hashes, offsets


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
        self._expectations = expectations
        self._exempt = frozenset() if expectations.unique_generic else expectations.generic_series
        #: Every (series, code) issued and a fingerprint of its first holder: ~8.5 bytes a coupon, exact.
        self._codes = CodeStore(customer_hash, code_hash)
        self._references: dict[Any, _Reference] = {}
        self._digests = AttributeDigests()
        self._lock = threading.Lock()
        #: Coupons counted, and those that repeated a code another customer holds.
        self.coupons = 0
        self.duplicates = 0
        #: Answers (entities with a coupon) whose attributes differed from their series' first answer.
        self.attribute_changes = 0

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
            self.attribute_changes += count
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
