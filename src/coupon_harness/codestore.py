"""Every (series, code) seen, with a fingerprint of who holds it, in about 9-11 bytes a code: exact.

Shared by the contract's `Ledger` and the sandbox's issued set; standard library only; not locked (each
user holds its own lock).

Codes of ASCII letters and digits of one case pack, exactly, into 64-bit slots, one `_CodeTable` per (series,
prefix, length, case): a hit is an equal stored code, never a hash collision. Longer codes pack their last 12
characters under their prefix (up to `_MAX_PREFIXES` a series). Any other code goes to its series' `_Fallback`
(its bytes, confirmed on every hash hit); a code that is not a str, to a dict.

The holder is a fingerprint of `customer_hash(customer)` in a slot's spare bits (`_layout`: 17 to 32; 64 in
the fallback). A duplicate is reported only when the fingerprints differ, which proves the customers differ:
no false duplicate. The one error left: a code repeated to a customer of the same fingerprint goes unseen
(1 in 2**20 for a 10-character code).
"""

from __future__ import annotations

import contextlib
import mmap
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Union, cast, overload

__all__ = ["NEW", "OTHER", "SAME", "CodeStore"]

#: What `_CodeTable.put` finds: the code is new (now stored), or held by the same customer, or by another one.
NEW, SAME, OTHER = 0, 1, 2

#: Codes of up to this many characters (the tail of longer ones) pack into one int, base 36, when they are
#: ASCII letters and digits of one case: 36**12 < 2**63.
_PACKED_CHARS = 12
#: A slot's fingerprint bits: 64 less the code's bits plus `_ROW_BITS`, within these bounds.
_WHO_MIN, _WHO_MAX = 17, 32
#: Top bits of a 10-character code kept out of its slot (in the bucket number once a table has 2**8 buckets),
#: so that the slot's 64 bits hold the rest and a 20-bit fingerprint.
_ROW_BITS = 8
#: A table starts as one bucket of this many slots (~0.9 KB in all): a series of a few codes costs little.
_INITIAL_CAPACITY = 8
#: Slots a bucket may reach before its table doubles its buckets instead of widening them.
_REGION_MAX = 512
#: A widening adds 1/2**_WIDEN_SHIFT of the slots (half of them in a table of one bucket).
_WIDEN_SHIFT = 4
#: The spill (codes whose bucket was full) may hold 1/2**_SPILL_SHIFT of the slots before the table grows.
_SPILL_SHIFT = 9
#: At most 2**_MAX_DEPTH buckets (their counts: 4 bytes each).
_MAX_DEPTH = 24
#: A buffer of this many bytes (a page) or more moves to an anonymous mmap, grown in place (no heap fragments).
_MMAP_FROM = 1 << 12
#: Codes a fallback bucket holds on average before the buckets double (up to 2**16 of them).
_SPLIT_AT = 1024
#: Distinct prefixes (before a long code's packed tail) a series may use before the rest go to the fallback.
_MAX_PREFIXES = 16
#: Fibonacci hashing: odd, so multiplying by it mod 2**k is a bijection that spreads consecutive codes.
_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1
_UPPER, _LOWER = 1, 2
_FALLBACK_LEVELS = 16

#: Zeros to extend an array with, by typecode: no temporary is allocated and freed as an array grows.
_ZERO_BLOCKS = {code: array(code, bytes(array(code).itemsize << 12)) for code in "BHIQ"}

_Owner = Union["array[int]", mmap.mmap]
_Typecode = Literal["B", "H", "I", "Q"]


class _View(Protocol):
    """What a table reads and writes its slots and middles through: the array itself (no memoryview's 200
    bytes for a small table), or a memoryview of the mmap."""

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> Any: ...
    def __setitem__(self, index: Any, value: Any, /) -> None: ...


def _zeros(items: array[int], count: int) -> None:
    """Append `count` zeros to `items`, 4,096 at a time."""
    block = _ZERO_BLOCKS[items.typecode]
    while count >= 1 << 12:
        items.extend(block)
        count -= 1 << 12
    if count > 0:
        items.extend(block[:count])


def _buffer(typecode: _Typecode, count: int) -> array[int]:
    """`count` zeroed items of `typecode`, in an array (which is its own view: no memoryview's 200 bytes)."""
    owner: array[int] = array(typecode)
    _zeros(owner, count)
    return owner


def _extended(owner: _Owner, view: _View, count: int) -> tuple[_Owner, _View]:
    """`owner` grown to `count` zeroed items, and its new view (the old one released): past `_MMAP_FROM` bytes an
    anonymous mmap, resized in place; an array where no map can be made or resized."""
    if isinstance(owner, mmap.mmap):
        assert isinstance(view, memoryview)
        typecode = cast(_Typecode, view.format)
        view.release()
        try:
            owner.resize(count * array(typecode).itemsize)
            return owner, memoryview(owner).cast(typecode)
        except (OSError, SystemError):
            items: array[int] = array(typecode)
            items.frombytes(owner[:])
            owner.close()
            _zeros(items, count - len(items))
            return items, items
    if count * owner.itemsize >= _MMAP_FROM:
        with contextlib.suppress(OSError):
            mapped = _anonymous(count * owner.itemsize)
            mapped[:len(owner) * owner.itemsize] = owner.tobytes()
            return mapped, memoryview(mapped).cast(cast(_Typecode, owner.typecode))
    _zeros(owner, count - len(owner))
    return owner, owner


def _anonymous(size: int) -> mmap.mmap:
    """A private anonymous map (a shared one's pages added by a resize fault: SIGBUS)."""
    return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)


def _layout(length: int) -> tuple[int, int, int]:
    """(bits of a product, of the product's low part a slot keeps, of the fingerprint) for codes of `length`
    base-36 digits. The product's other (top) bits, its row, are the bucket number and the middles."""
    bits = (36 ** length - 1).bit_length()
    who = min(max(64 - bits + _ROW_BITS, _WHO_MIN), _WHO_MAX)
    return bits, min(bits, 64 - who), who


@dataclass(slots=True, eq=False)
class _CodeTable:
    """The codes of one (series, prefix, length, case), exactly, in 64-bit slots.

    A code's product is its base-36 value times an odd constant mod 2**bits (a bijection that spreads codes). A
    slot holds the product's `low` bits above the holder's fingerprint (`who_bits`); its top bits are its row.
    The slots live in `2**depth` buckets (the product's top bits): sorted regions of `capacity` slots in one
    flat buffer, their fill in `counts`. While `depth` is below the row's bits, `middles` keeps each slot's row
    (a bucket sorted by (row, slot)); from there on the bucket number holds the row.

    A code whose bucket is full goes to `spill`; past 1/512 of the slots the table grows (its regions widen,
    or at `_REGION_MAX` slots its buckets double) and puts the spill back.
    """

    bits: int
    low: int
    who_bits: int
    mask: int = field(init=False)
    low_mask: int = field(init=False)
    who_mask: int = field(init=False)
    row_bits: int = field(init=False)
    depth: int = field(init=False)
    capacity: int = field(init=False)
    counts: array[int] = field(init=False)
    spill: dict[int, int] = field(init=False)
    slots: _View = field(init=False)
    middles: _View | None = field(init=False)
    _slot_owner: _Owner = field(init=False)
    _middle_owner: _Owner | None = field(init=False)

    def __post_init__(self) -> None:
        self.mask = (1 << self.bits) - 1
        self.low_mask = (1 << self.low) - 1
        self.who_mask = (1 << self.who_bits) - 1
        self.row_bits = self.bits - self.low
        self.depth, self.capacity = 0, _INITIAL_CAPACITY
        self.counts = array("I", (0,))
        self.spill = {}
        self._slot_owner = self.slots = _buffer("Q", self.capacity)
        self._middle_owner = self.middles = None
        if self.row_bits:
            self._middle_owner = self.middles = _buffer("B" if self.row_bits <= 8 else "H", self.capacity)

    @classmethod
    def of_length(cls, length: int) -> _CodeTable:
        return cls(*_layout(length))

    def put(self, value: int, who: int) -> int:
        """Store the code of base-36 value `value` for holder hash `who`: NEW, else SAME or OTHER (whether the
        stored holder has `who`'s fingerprint)."""
        product = (value * _GOLDEN) & self.mask
        bucket = product >> (self.bits - self.depth)
        counts = self.counts
        filled = counts[bucket]
        base = bucket * self.capacity
        end = base + filled
        slots = self.slots
        middles = self.middles
        who_bits = self.who_bits
        remainder = product & self.low_mask
        probe = remainder << who_bits
        if middles is None:
            at = bisect_left(slots, probe, base, end)
            high = end
        else:
            row = product >> self.low
            start = bisect_left(middles, row, base, end)
            high = bisect_right(middles, row, start, end)
            at = bisect_left(slots, probe, start, high)
        if at < high and slots[at] >> who_bits == remainder:
            return OTHER if (slots[at] ^ who) & self.who_mask else SAME
        if filled == self.capacity:
            return self._spill(product, who)
        if at < end:
            slots[at + 1:end + 1] = slots[at:end]
            if middles is not None:
                middles[at + 1:end + 1] = middles[at:end]
        slots[at] = probe | (who & self.who_mask)
        if middles is not None:
            middles[at] = row
        counts[bucket] = filled + 1
        return NEW

    def _spill(self, product: int, who: int) -> int:
        """A code whose bucket is full: what the spill holds of it, or NEW (now stored there)."""
        held = self.spill.get(product)
        if held is not None:
            return OTHER if (held ^ who) & self.who_mask else SAME
        self.spill[product] = who & self.who_mask
        if len(self.spill) > (self.capacity << self.depth) >> _SPILL_SHIFT:
            self._grow()
        return NEW

    def _grow(self) -> None:
        """Widen every bucket, or double the buckets at `_REGION_MAX` slots; then put the spill back."""
        spill, self.spill = self.spill, {}
        if self.capacity >= _REGION_MAX and self.depth < min(_MAX_DEPTH, self.bits):
            self._deepen()
        else:
            self._widen()
        inverse = pow(_GOLDEN, -1, self.mask + 1)
        for product, who in spill.items():
            self.put((product * inverse) & self.mask, who)

    def _resize(self, count: int) -> None:
        self._slot_owner, self.slots = _extended(self._slot_owner, self.slots, count)
        if self._middle_owner is not None and self.middles is not None:
            self._middle_owner, self.middles = _extended(self._middle_owner, self.middles, count)

    def _widen(self) -> None:
        """Every bucket's region grows (by half with one bucket, else 1/16), moved in place, last bucket first."""
        old = self.capacity
        new = old + max(old >> (1 if self.depth == 0 else _WIDEN_SHIFT), 2)
        new += new & 1  # even: `_deepen` halves it
        buckets = 1 << self.depth
        self._resize(new * buckets)
        slots, middles, counts = self.slots, self.middles, self.counts
        for bucket in range(buckets - 1, 0, -1):
            filled = counts[bucket]
            if filled:
                slots[bucket * new:bucket * new + filled] = slots[bucket * old:bucket * old + filled]
                if middles is not None:
                    middles[bucket * new:bucket * new + filled] = middles[bucket * old:bucket * old + filled]
        self.capacity = new

    def _deepen(self) -> None:
        """Double the buckets, in place: bucket i's region is cut where the product's next bit turns to 1; the
        first part stays, the second moves to the region's second half, and the halves are buckets 2i and
        2i + 1 (the same slots; only the counts grow). What does not fit its half goes to the spill."""
        old, depth, counts = self.capacity, self.depth, self.counts
        half = old >> 1
        split = self.bits - depth - 1  # the product bit that splits a bucket
        slots, middles = self.slots, self.middles
        _zeros(counts, 1 << depth)  # doubled in place: bucket i's count moves to 2i and 2i + 1, last first
        for bucket in range((1 << depth) - 1, -1, -1):
            filled = counts[bucket]
            counts[bucket << 1] = counts[(bucket << 1) | 1] = 0
            if not filled:
                continue
            base = bucket * old
            end = base + filled
            second = ((bucket << 1) | 1) << split  # the first product of the second half
            if middles is None:
                cut = bisect_left(slots, (second & self.low_mask) << self.who_bits, base, end)
            else:
                cut = bisect_left(middles, second >> self.low, base, end)
            for start, stop in ((base + half, cut), (cut + half, end)):  # over a half: to the spill
                for at in range(start, stop):
                    self.spill[self._product(bucket, at)] = slots[at] & self.who_mask
            moved = min(end - cut, half)
            if moved:
                slots[base + half:base + half + moved] = slots[cut:cut + moved]
                if middles is not None:
                    middles[base + half:base + half + moved] = middles[cut:cut + moved]
            counts[bucket << 1] = min(cut - base, half)
            counts[(bucket << 1) | 1] = moved
        self.depth, self.capacity = depth + 1, half
        if self.depth >= self.row_bits and self.middles is not None:  # the bucket number is the row now
            if isinstance(self.middles, memoryview):
                self.middles.release()
            self.middles = self._middle_owner = None

    def _product(self, bucket: int, at: int) -> int:
        """The product of the code in slot `at` of `bucket` (at the current depth)."""
        middles = self.middles
        row = middles[at] if middles is not None else bucket >> (self.depth - self.row_bits)
        return (row << self.low) | (self.slots[at] >> self.who_bits)

    def nbytes(self) -> int:
        """The bytes this table holds: its buffers as allocated, its counts and spill (~100 bytes an entry)."""
        total = sys.getsizeof(self.counts) + sys.getsizeof(self.spill) + 100 * len(self.spill)
        for view in (self.slots, self.middles):
            if isinstance(view, memoryview):
                total += view.nbytes + sys.getsizeof(view)
            elif view is not None:
                total += sys.getsizeof(view)
        return total + 360  # the object, its key and dict entry


@dataclass(slots=True, eq=False)
class _Fallback:
    """A series' str codes that do not pack: an arena of records (holder hash, 8 bytes; length, 4; the code in
    UTF-8) and 2**level buckets of sorted code hashes with their records' offsets. A hash hit is confirmed
    against the stored bytes. The buckets double as the codes grow, up to 2**16."""

    arena: bytearray = field(default_factory=bytearray)
    level: int = 0
    hashes: list[array[int]] = field(default_factory=lambda: [array("Q")])
    offsets: list[array[int]] = field(default_factory=lambda: [array("Q")])
    count: int = 0

    def put(self, code: str, digest: int, who: int) -> int | None:
        """None if `code` is new (now stored), else the holder hash stored with it."""
        arena = self.arena
        data = code.encode("utf-8", "surrogatepass")
        bucket = digest >> (64 - self.level) if self.level else 0
        hashes = self.hashes[bucket]
        offsets = self.offsets[bucket]
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
        self.count += 1
        if self.count > _SPLIT_AT << self.level and self.level < _FALLBACK_LEVELS:
            self._split()
        return None

    def _split(self) -> None:
        """Double the buckets: bucket i's hashes below its midpoint go to 2i, the others to 2i + 1."""
        level = self.level
        hashes: list[array[int]] = []
        offsets: list[array[int]] = []
        half = 1 << (63 - level)
        for index, (bucket, places) in enumerate(zip(self.hashes, self.offsets, strict=True)):
            middle = bisect_left(bucket, (index << (64 - level) if level else 0) + half)
            hashes += (bucket[:middle], bucket[middle:])
            offsets += (places[:middle], places[middle:])
        self.level, self.hashes, self.offsets = level + 1, hashes, offsets

    def nbytes(self) -> int:
        return (sys.getsizeof(self.arena) + sum(map(sys.getsizeof, self.hashes))
                + sum(map(sys.getsizeof, self.offsets)))


class CodeStore:
    """Every (series, code) seen with a fingerprint of its first holder (the module's docstring): exact."""

    __slots__ = ("_code_hash", "_customer_hash", "_objects", "_others", "_prefixes", "_tables", "codes")

    def __init__(self, customer_hash: Callable[[Any], int] = hash, code_hash: Callable[[str], int] = hash) -> None:
        """`customer_hash` and `code_hash` (the fallback's bucket key) are Python's hash; tests pass tiny ones."""
        self._customer_hash = customer_hash
        self._code_hash = code_hash
        self._tables: dict[tuple[Any, str, int, int], _CodeTable] = {}
        self._prefixes: dict[Any, set[str]] = {}
        self._others: dict[Any, _Fallback] = {}
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
        how many repeat a code another customer holds, and the first of those."""
        tables = self._tables
        customer_hash = self._customer_hash
        packed_chars = _PACKED_CHARS
        count = duplicates = added = 0
        first: Sequence[Any] | None = None
        for coupon in coupons:
            series, code, customer = coupon
            count += 1
            if series in exempt:
                continue
            who = customer_hash(customer) & _MASK64
            found = None
            if type(code) is str and code.isascii() and code.isalnum():
                if len(code) > packed_chars:
                    prefix, tail = code[:-packed_chars], code[-packed_chars:]
                else:
                    prefix, tail = "", code
                case = _UPPER if tail.isupper() or tail.isdigit() else _LOWER if tail.islower() else 0
                if case:
                    table = tables.get((series, prefix, len(tail), case)) or self._table(series, prefix, len(tail),
                                                                                        case)
                    if table is not None:
                        found = table.put(int(tail, 36), who)
            if found is None:
                found = self._other(series, code, who)
            if found == NEW:
                added += 1
            elif found == OTHER:
                duplicates += 1
                if first is None:
                    first = coupon
        self.codes += added
        return count, duplicates, first

    def nbytes(self) -> int:
        """The bytes the store holds (tracemalloc does not see its mmap'd buffers)."""
        return (sum(table.nbytes() for table in self._tables.values())
                + sum(fallback.nbytes() for fallback in self._others.values()) + 100 * len(self._objects))

    def _table(self, series: Any, prefix: str, length: int, case: int) -> _CodeTable | None:
        if prefix:
            prefixes = self._prefixes.setdefault(series, set())
            if prefix not in prefixes:
                if len(prefixes) >= _MAX_PREFIXES:
                    return None
                prefixes.add(prefix)
        table = self._tables[(series, prefix, length, case)] = _CodeTable.of_length(length)
        return table

    def _other(self, series: Any, code: Any, who: int) -> int:
        """A code that does not pack: NEW, SAME or OTHER."""
        if type(code) is not str:
            key = (series, code)
            held = self._objects.get(key)
            if held is None:
                self._objects[key] = who
        else:
            fallback = self._others.get(series)
            if fallback is None:
                fallback = self._others[series] = _Fallback()
            held = fallback.put(code, self._code_hash(code) & _MASK64, who)
        return NEW if held is None else SAME if held == who else OTHER
