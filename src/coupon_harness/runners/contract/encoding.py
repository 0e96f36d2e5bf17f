"""JSON for the harness's own requests: every value a scenario or probe produces is sent as written.

orjson is the fast path, but it refuses integers beyond 64 bits and lone surrogates, and writes NaN and ±Infinity
as `null`. Those bodies go through the standard library, which writes them as they are (big integers in full,
`\\udXXX` escapes, the non-standard NaN/Infinity tokens a leniency probe needs).
"""

from __future__ import annotations

import json
import math

import orjson

__all__ = ["dump_json"]


def dump_json(value: object) -> bytes:
    """`value` as compact JSON bytes; byte-equal to `orjson.dumps(value)` whenever orjson writes it faithfully."""
    try:
        encoded = orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError: int beyond 64 bits, lone surrogate, ...
        return _stdlib(value)
    # orjson writes a non-finite float as null: only a body with a null in it can hide one.
    if b"null" in encoded and _has_non_finite(value):
        return _stdlib(value)
    return encoded


def _stdlib(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=True, allow_nan=True, separators=(",", ":")).encode("ascii")


def _has_non_finite(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False
