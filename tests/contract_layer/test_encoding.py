"""dump_json: every value reaches the target as written; ordinary bodies are exactly orjson's bytes."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coupon_harness.contract.schemas import request_validator
from coupon_harness.runners.contract.encoding import dump_json
from coupon_harness.runners.contract.scenarios import EXTRA_FIELDS, JSON_INTEGERS

BIG_INTS = [2**64, 2**64 + 1, 2**100, 10**300, -(2**63) - 1, -(2**64), -(10**300)]


@pytest.mark.parametrize("number", BIG_INTS)
def test_an_integer_beyond_64_bits_is_sent_in_full(number: int) -> None:
    with pytest.raises(TypeError):
        orjson.dumps(number)  # the reason dump_json exists
    body = {"seriesIds": [101], "customer": {"id": "c1"}, "unknownKey": number}
    encoded = dump_json(body)
    assert f'"unknownKey":{number}'.encode() in encoded
    assert json.loads(encoded) == body


@pytest.mark.parametrize("number", [2**64 - 1, -(2**63), 2**63, 0, -1])
def test_the_64_bit_edges_stay_on_the_fast_path(number: int) -> None:
    assert dump_json({"n": number}) == orjson.dumps({"n": number})


def test_big_integers_nested_deep_in_lists_and_objects() -> None:
    body = {"a": [1, {"b": [2**70, {"c": -(2**90)}]}], "d": (3, 2**65)}
    encoded = dump_json(body)
    assert encoded == b'{"a":[1,{"b":[1180591620717411303424,{"c":-1237940039285380274899124224}]}],' \
                      b'"d":[3,36893488147419103232]}'
    assert json.loads(encoded) == {**body, "d": [3, 2**65]}


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\udcff", "x\ud83d"])
def test_a_lone_surrogate_is_sent_as_an_escape(text: str) -> None:
    encoded = dump_json({"notes": text})
    assert encoded.isascii()
    assert json.loads(encoded) == {"notes": text}
    for unit in (c for c in text if 0xD800 <= ord(c) <= 0xDFFF):
        assert f"\\u{ord(unit):04x}".encode() in encoded


def test_a_surrogate_pair_written_as_a_character_is_ordinary_utf8() -> None:
    assert dump_json({"e": "\U0001f600"}) == orjson.dumps({"e": "\U0001f600"})


@pytest.mark.parametrize(("number", "token"), [(math.nan, b"NaN"), (math.inf, b"Infinity"),
                                               (-math.inf, b"-Infinity")])
def test_non_finite_floats_are_sent_as_tokens_never_as_null(number: float, token: bytes) -> None:
    assert orjson.dumps(number) == b"null"  # what dump_json must not send
    assert dump_json(number) == token
    assert dump_json({"a": [1.5, {"b": number}], "c": None}) == b'{"a":[1.5,{"b":' + token + b'}],"c":null}'


def test_a_null_without_a_non_finite_float_stays_on_the_fast_path() -> None:
    body: dict[str, Any] = {"a": None, "b": "null", "c": [None, 1.5, -0.0, 1e308]}
    assert dump_json(body) == orjson.dumps(body)


_SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text())
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                          max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_ordinary_bodies_are_byte_equal_to_orjson(value: object) -> None:
    assert dump_json(value) == orjson.dumps(value)


def test_an_unserialisable_value_still_raises_type_error() -> None:
    with pytest.raises(TypeError):
        dump_json({"x": object()})


@settings(max_examples=500, deadline=None)
@given(extra=EXTRA_FIELDS)
def test_every_extra_fields_draw_is_a_well_formed_request_a_strict_parser_reads(extra: dict[str, Any]) -> None:
    """The extra-fields scenario expects 200 from a correct target: what it sends must parse (orjson, as the
    sandbox does) and validate against the request schema, and keep the two fields the contract names."""
    body = {"seriesIds": [101], "customer": {"id": "c1"}, **extra}
    parsed = orjson.loads(dump_json(body))
    assert request_validator().is_valid(parsed)
    assert parsed["seriesIds"] == [101]
    assert parsed["customer"] == {"id": "c1"}


def test_the_extra_values_reach_past_64_bits() -> None:
    seen: list[int] = []

    @settings(max_examples=200, deadline=None, database=None)
    @given(JSON_INTEGERS)
    def draw(number: int) -> None:
        seen.append(number)

    draw()
    assert any(abs(n) >= 2**64 for n in seen)
    assert all(abs(n) < 1.7e308 for n in seen)
