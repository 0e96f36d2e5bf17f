"""The classics: a deterministic pass of the values behind real-world server bugs, run on every contract run.

The probes are derived from the request schema (so they follow it): per field, type confusion, number boundaries
(int32, 2^53, int64, 10^30, -0, 1e400), string lengths at the usual column and buffer limits, string encodings,
array sizes; then body shapes (duplicate keys, key case, BOM, trailing content, NaN, deep nesting, 10 MB) and
header variants (string values are the strings pass's). Each probe is otherwise well-formed and classified before
it is sent (`Expect`), judged by the same Judge as every pass.

Where the contract is silent the choice is documented in contracts/rules.yaml and the README ("The classics pass"):
leniency that changes meaning must be refused (400 only); harmless leniency (content after the JSON, NaN, invalid
UTF-8) should be (a 200 is a warning); a BOM, duplicate keys or trailing whitespace may be accepted (RFC 8259);
odd but well-formed values may get 200 or 400 and resource limits 200, 400 or 413: then only a 5xx, a hang or a
dropped connection is a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import reduce
from operator import getitem
from typing import Any

from coupon_harness.contract.http_rules import (
    INTEGRAL_FLOATS,
    LENIENT,
    MALFORMED,
    RESOURCE_LIMIT,
    STRICT_JSON,
    TOLERATED,
    WELL_FORMED,
    Expect,
)
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.contract.schemas import load_schema
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.encoding import dump_json
from coupon_harness.runners.contract.exchange import Exchange
from coupon_harness.runners.contract.fanout import Lane
from coupon_harness.runners.contract.schema_fields import Path, series_choice
from coupon_harness.runners.contract.schema_fields import fields as _fields
from coupon_harness.runners.contract.schema_fields import show as _show
from coupon_harness.runners.contract.schema_fields import with_value as _with

__all__ = ["Probe", "classic_probes", "run_classics", "send_classics"]

_SLOT = "__coupon_harness_probe_slot__"
_SLOT_BYTES = b'"' + _SLOT.encode() + b'"'

INT32 = (-(2**31), 2**31 - 1)
#: String lengths at the usual column and buffer limits (VARCHAR(32), UUID 36, 50, 64, 100, 128, 255, ...).
LENGTHS = (1, 32, 33, 36, 37, 50, 51, 64, 65, 100, 101, 128, 129, 255, 256, 257, 1024, 1025, 4096, 4097, 65536)
#: Past this a string is a resource-limit probe (413 is honest too).
_LONG = 4097
_NESTING = 1000
_HUGE_BODY = 10 * 1024 * 1024
_HUGE_ARRAY = 1000
#: Probe families that try one bug at several sizes.
_SIZED = frozenset({"string length", "number boundary", "array size"})


@dataclass(frozen=True, slots=True)
class Probe:
    """One classic: its bug class, the bytes sent, what the contract allows, and how to read a 200."""

    #: "type confusion: numeric string in seriesIds[0]"
    name: str
    body: bytes
    expect: Expect
    #: The request side of a 200 answer (None: a 200 is not a bulk-issue answer for this probe).
    call: Callable[[], IssueCall] | None = None
    #: Header changes; a value of None removes that header.
    headers: dict[str, str | None] | None = None

    @property
    def group(self) -> str:
        """Probes that try one bug at several sizes share a finding (the smallest failing one is kept):
        "string length: 65 characters in customer.id" -> "string length in customer.id"."""
        family, _, rest = self.name.partition(": ")
        if family in _SIZED:
            return f"{family} in {rest.rsplit(' in ', 1)[-1]}"
        return self.name


# --- the body and its fields ----------------------------------------------------------------------------

def _raw(body: Any, path: Path, literal: bytes) -> bytes:
    """The body's JSON text with `literal` written as is at `path` (-0, 1e400, NaN, invalid UTF-8, ...)."""
    return dump_json(_with(body, path, _SLOT)).replace(_SLOT_BYTES, literal, 1)


class _ClassicsBuilder:
    """Builds the probes for one run: well-formed base bodies from the schema and what the run knows."""

    def __init__(self, client: Client) -> None:
        self.client = client
        #: A series to coerce to: a valid one, so a server that binds "101" to 101 answers with coupons.
        self.series, valid, invalid = series_choice(client.judge.expectations)
        self.valid = valid or [self.series]
        #: Filler for huge arrays: a series that issues nothing, where the run knows one.
        self.filler = invalid[0] if invalid else self.series
        self.schema = load_schema("request")

    def base(self, customer: str) -> dict[str, Any]:
        return {"seriesIds": [self.series], "customer": {"id": customer}}

    def call(self, series: list[int], customer: str) -> Callable[[], IssueCall]:
        return lambda: IssueCall(series, customer, datetime.now(UTC), fresh_customer=False)  # refusal proves nothing

    def probes(self) -> Iterator[Probe]:
        for path, schema in _fields(self.schema):
            kind = schema.get("type")
            if kind == "integer":
                yield from self._integer(path, schema)
            elif kind == "string":
                yield from self._string(path, schema)
            elif kind == "array":
                yield from self._array(path, schema)
            elif kind == "object":
                yield from self._object(path)
        yield from self._keys()
        yield from self._shapes()
        yield from self._headers()

    # -- integers (seriesIds[0]) --
    def _integer(self, path: Path, schema: dict[str, Any]) -> Iterator[Probe]:
        where = _show(path)
        low = schema.get("minimum", -(2**63))
        high = schema.get("maximum", 2**63 - 1)
        customer = self.client.customer()
        base = self.base(customer)
        s = self.series
        arabic = str(s).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
        confusions: list[tuple[str, Any]] = [
            ("numeric string", str(s)), ("numeric string with a space", f" {s}"),
            ("numeric string in exponent form", f"{s}e0"), ("numeric string in hex", hex(s)),
            ("numeric string in Arabic-Indic digits", arabic), ("empty string", ""),
            ("boolean true", True), ("boolean false", False), ("null element", None),
            ("fraction", s + 0.5), ("nested array", [s]), ("object", {"id": s}),
        ]
        for label, value in confusions:
            yield Probe(f"type confusion: {label} in {where}", dump_json(_with(base, path, value)), MALFORMED)
        yield Probe(f"type confusion: float without a fraction in {where}", dump_json(_with(base, path, float(s))),
                    INTEGRAL_FLOATS, self.call([s], customer))
        numbers = [("0", 0), ("-1", -1), ("int32 min", INT32[0]), ("int32 max", INT32[1]),
                   ("int32 min - 1", INT32[0] - 1), ("int32 max + 1", INT32[1] + 1), ("2^53", 2**53),
                   ("2^53 + 1", 2**53 + 1), ("int64 min", -(2**63)), ("int64 max", 2**63 - 1),
                   ("int64 min - 1", -(2**63) - 1), ("int64 max + 1", 2**63), ("10^30", 10**30)]
        for label, number in numbers:
            inside = low <= number <= high
            yield Probe(f"number boundary: {label} in {where}", dump_json(_with(base, path, number)),
                        WELL_FORMED if inside else MALFORMED, self.call([number], customer) if inside else None)
        yield Probe(f"number boundary: -0 in {where}", _raw(base, path, b"-0"), TOLERATED, self.call([0], customer))
        yield Probe(f"number boundary: 1e400 in {where}", _raw(base, path, b"1e400"), MALFORMED)

    # -- strings (customer.id) --
    def _string(self, path: Path, schema: dict[str, Any]) -> Iterator[Probe]:
        where = _show(path)
        base = self.base(self.client.customer())
        series = [self.series]
        for label, value in [("number", 101), ("boolean", True), ("array", ["x"]), ("object", {"id": "x"}),
                             ("null", None)]:
            yield Probe(f"type confusion: {label} in {where}", dump_json(_with(base, path, value)), MALFORMED)
        shortest = schema.get("minLength", 0)
        for length in LENGTHS:
            value = self._string_of(length)
            expect = MALFORMED if length < shortest else (TOLERATED if length <= _LONG else RESOURCE_LIMIT)
            unit = "characters" if length > 1 else "character"
            yield Probe(f"string length: {length} {unit} in {where}", dump_json(_with(base, path, value)), expect,
                        self.call(series, value) if expect is not MALFORMED else None)
        # Unicode values (accents, CJK, emoji, combining marks, right-to-left, zero width, NUL) are the strings
        # pass's (strings.py); what stays here is about the body's encoding, not a value a client sends.
        prefix = self.client.customer()
        surrogate = f"{prefix}-\ud800"
        yield Probe(f"unicode: escaped lone surrogate in {where}", dump_json(_with(base, path, surrogate)),
                    TOLERATED, self.call(series, surrogate))
        yield Probe(f"unicode: invalid UTF-8 bytes in {where}",
                    _raw(base, path, b'"' + prefix.encode() + b'-\xff\xfe"'), STRICT_JSON,
                    self.call(series, prefix + "-\ufffd\ufffd"))

    def _string_of(self, length: int) -> str:
        unique = self.client.customer()
        return (unique + "-" + "x" * length)[:length] if length > len(unique) + 1 else ("x" * length)

    # -- arrays (seriesIds) --
    def _array(self, path: Path, schema: dict[str, Any]) -> Iterator[Probe]:
        where = _show(path)
        customer = self.client.customer()
        base = self.base(customer)
        fewest = schema.get("minItems", 0)
        large = self.client.settings.large_batch
        sizes: list[tuple[str, list[int], Expect]] = [
            ("empty", [], MALFORMED if fewest > 0 else WELL_FORMED),
            ("one", [self.series], WELL_FORMED),
            (f"the large batch ({large})", [self.valid[i % len(self.valid)] for i in range(large)], WELL_FORMED),
            (f"the large batch + 1 ({large + 1})", [self.series] + [self.filler] * large, TOLERATED),
            (f"{_HUGE_ARRAY} elements", [self.series] + [self.filler] * (_HUGE_ARRAY - 1), RESOURCE_LIMIT),
            # Just past a common cap (1000, the sandbox's): a server's over-the-cap branch answers too.
            (f"{_HUGE_ARRAY + 1} elements", [self.series] + [self.filler] * _HUGE_ARRAY, RESOURCE_LIMIT),
            ("duplicates", [self.series, self.series], WELL_FORMED),
        ]
        for label, value, expect in sizes:
            yield Probe(f"array size: {label} in {where}", dump_json(_with(base, path, value)), expect,
                        self.call(value, customer) if expect is not MALFORMED else None)
        for label, other in [("string", str(self.series)), ("number", self.series), ("object", {}), ("null", None)]:
            yield Probe(f"type confusion: {label} for {where}", dump_json(_with(base, path, other)), MALFORMED)

    # -- objects (customer) --
    def _object(self, path: Path) -> Iterator[Probe]:
        where = _show(path)
        base = self.base(self.client.customer())
        for label, value in [("string", "x"), ("number", 1), ("array", []), ("null", None)]:
            yield Probe(f"type confusion: {label} for {where}", dump_json(_with(base, path, value)), MALFORMED)

    # -- required keys in other case --
    def _keys(self) -> Iterator[Probe]:
        base: Any = self.base(self.client.customer())
        objects = [(path, sub) for path, sub in _fields(self.schema) if sub.get("type") == "object"]
        for path, schema in [((), self.schema), *objects]:
            for key in schema.get("required", []):
                for variant in sorted({key[:1].upper() + key[1:], key.lower(), key.upper()} - {key}):
                    holder = reduce(getitem, path, base)
                    renamed = {variant if k == key else k: v for k, v in holder.items()}
                    body = _with(base, path, renamed) if path else renamed
                    yield Probe(f"key case: {variant} for {_show((*path, key))}", dump_json(body), MALFORMED)

    # -- body shapes --
    def _shapes(self) -> Iterator[Probe]:
        customer = self.client.customer()
        base = self.base(customer)
        text = dump_json(base)
        call = self.call([self.series], customer)
        series_json = dump_json([self.series])
        duplicate = text.replace(b"{", b'{"seriesIds":' + series_json + b",", 1)
        yield Probe("body shape: duplicate keys", duplicate, TOLERATED, call)
        yield Probe("body shape: UTF-8 byte order mark", b"\xef\xbb\xbf" + text, TOLERATED, call)
        yield Probe("body shape: trailing whitespace", text + b" \r\n\t", WELL_FORMED, call)
        yield Probe("body shape: trailing garbage after the JSON", text + b"garbage", STRICT_JSON, call)
        yield Probe("body shape: two JSON values", text + text, STRICT_JSON, call)
        for literal in (b"NaN", b"Infinity"):
            yield Probe(f"body shape: {literal.decode()} in an ignored extra field",
                        _raw({**base, "extra": None}, ("extra",), literal), STRICT_JSON, call)
        nested = b"[" * _NESTING + b"]" * _NESTING
        yield Probe(f"body shape: {_NESTING} levels of nesting in an extra field",
                    _raw({**base, "extra": None}, ("extra",), nested), RESOURCE_LIMIT, call)
        padding = _HUGE_BODY - len(text)
        yield Probe("body shape: a 10 MB body", dump_json({**base, "extra": "x" * padding}), RESOURCE_LIMIT, call)

    # -- headers --
    def _headers(self) -> Iterator[Probe]:
        variants: list[tuple[str, dict[str, str | None], Expect]] = [
            ("Content-Type with charset=utf-8", {"Content-Type": "application/json; charset=utf-8"}, WELL_FORMED),
            ("Content-Type with charset=UTF-8, no space", {"Content-Type": "application/json;charset=UTF-8"},
             WELL_FORMED),
            ("Content-Type absent", {"Content-Type": None}, LENIENT),
            ("Content-Type text/plain", {"Content-Type": "text/plain"}, LENIENT),
            ("Accept */*", {"Accept": "*/*"}, WELL_FORMED),
            ("Accept with a list", {"Accept": "application/json, text/plain, */*"}, WELL_FORMED),
            ("Accept absent", {"Accept": None}, WELL_FORMED),
        ]
        for label, headers, expect in variants:
            customer = self.client.customer()
            yield Probe(f"headers: {label}", dump_json(self.base(customer)), expect,
                        self.call([self.series], customer) if expect is not LENIENT else None, headers)


def classic_probes(client: Client) -> list[Probe]:
    """Every probe of the pass, in the order sent (the same on every run: no randomness but fresh ids)."""
    return list(_ClassicsBuilder(client).probes())


def run_classics(client: Client, progress: Callable[[str], None]) -> int:
    """Send every classic probe, judged by the Judge; returns the number of requests sent."""
    sent = _send(client, judged=True)
    progress(f"classics: {sent} requests")
    return sent


def send_classics(client: Client, progress: Callable[[str], None]) -> int:
    """Every classic probe sent as is, each under its own name (`classics/<probe>`), not judged: a differential
    run compares the two targets' answers instead. Returns the number of requests sent."""
    return _send(client, judged=False)


def _send(client: Client, *, judged: bool) -> int:
    """Through the client's lane (`--workers`): sent by its threads, judged here in the probes' order."""
    sent = 0
    with client.lane() as lane:
        for probe in classic_probes(client):
            if client.judge.collector.stopped:
                break
            if judged:
                _submit(lane, client, probe)
            else:
                client.raw("POST", probe.body, headers=probe.headers, source=f"classics/{probe.name}")
            sent += 1
    return sent


def _submit(lane: Lane, client: Client, probe: Probe) -> None:
    def send() -> tuple[Exchange, IssueCall | None]:
        call = probe.call() if probe.call is not None else None
        return client.raw("POST", probe.body, headers=probe.headers, source="classics"), call

    lane.submit(send, lambda answered: client.judge.judge(answered[0], probe.expect, answered[1], "classics",
                                                           probe=probe.name, group=probe.group))
