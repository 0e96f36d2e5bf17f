"""The results' one codec (`results/codec.py`): every result type round-trips through `to_json`/`from_json`
(Hypothesis draws them from the dataclasses' own type hints), keys of a newer version are kept and written back,
and a wrong version or a garbage value is a one-line CodecError naming where."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import types
import typing
from collections.abc import Callable
from typing import Any, get_args, get_origin, get_type_hints, is_typeddict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.reporting.load_builders import ramp_compared_result
from tests.reporting.reporting_builders import faulted

from coupon_harness.contract.catalog import Rule
from coupon_harness.results.capacity import CapacityResult
from coupon_harness.results.codec import CodecError, JsonRecord, decode, encode
from coupon_harness.results.contract import ContractRunResult
from coupon_harness.results.diff import DiffRunResult
from coupon_harness.results.load import LoadRunResult
from coupon_harness.results.setup import SetupFailure

RESULTS: tuple[type[JsonRecord], ...] = (ContractRunResult, LoadRunResult, CapacityResult, DiffRunResult, SetupFailure)


# Complexity allowed: one return per type a field may have.
def _strategy(tp: Any) -> st.SearchStrategy[Any]:  # noqa: PLR0911
    """Values of `tp` as the results hold them (finite floats: NaN is not equal to itself; see the test below)."""
    origin, args = get_origin(tp), get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*map(_strategy, args))
    if origin is list:
        return st.lists(_strategy(args[0]), max_size=2)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(_strategy(args[0]), max_size=2).map(tuple)
        return st.tuples(*map(_strategy, args))
    if origin is dict:
        return st.dictionaries(_strategy(args[0]), _strategy(args[1]), max_size=2)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        int: st.integers(), float: st.floats(allow_nan=False), str: st.text(max_size=8), bool: st.booleans(),
        type(None): st.none(), Any: st.none()}
    if tp in simple:
        return simple[tp]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if is_typeddict(tp):
        return st.fixed_dictionaries({name: _strategy(hint) for name, hint in get_type_hints(tp).items()})
    assert dataclasses.is_dataclass(tp), tp
    return _record(tp)


def _record(cls: Any) -> st.SearchStrategy[Any]:
    hints = get_type_hints(cls)
    fields = {f.name: st.deferred(lambda hint=hints[f.name]: _strategy(hint))
              for f in dataclasses.fields(cls) if f.name != "unknown_keys"}
    return st.builds(cls, **fields)


def _records(cls: Any, seen: set[Any] | None = None) -> set[Any]:
    """Every dataclass `cls` holds, itself included."""
    seen = set() if seen is None else seen
    if cls in seen:
        return seen
    seen.add(cls)
    pending = list(get_type_hints(cls).values())
    while pending:
        tp = pending.pop()
        pending.extend(get_args(tp))
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            _records(tp, seen)
    return seen


@pytest.mark.parametrize("cls", RESULTS, ids=lambda cls: cls.__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_every_result_round_trips(cls: type[JsonRecord], data: st.DataObject) -> None:
    result = data.draw(_record(cls))
    text = json.dumps(result.to_json(), allow_nan=False)  # standard JSON, whatever the floats
    back = cls.from_json(json.loads(text))
    assert back == result
    assert back.to_json() == result.to_json()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_standard_json_and_come_back(value: float) -> None:
    result = ramp_compared_result()
    result.latency_ms["p99"] = value
    text = json.dumps(result.to_json(), allow_nan=False)
    back = LoadRunResult.from_json(json.loads(text)).latency_ms["p99"]
    assert (math.isnan(back) if math.isnan(value) else back == value)


def test_an_integer_where_a_float_goes_reads_as_a_float() -> None:
    """JSON writes 5.0 as 5 in other tools: a float field reads it back a float (`f"{x:.1f}"`, `x.is_integer()`)."""
    assert type(decode(float, 5)) is float and decode(float | None, 5) == 5.0


def test_the_formats_are_distinct_and_first() -> None:
    formats = [cls.JSON_FORMAT for cls in RESULTS]
    assert len(set(formats)) == len(formats)
    assert list(faulted().to_json())[:2] == ["format", "version"]


@pytest.mark.parametrize("cls", RESULTS, ids=lambda cls: cls.__name__)
def test_every_record_keeps_unknown_keys(cls: type[JsonRecord]) -> None:
    """A record without an `unknown_keys` field would lose a newer harness's keys."""
    for record in _records(cls):
        field = {f.name: f for f in dataclasses.fields(record)}.get("unknown_keys")
        assert field is not None and not field.compare, record


def _with_newer_keys(data: Any, depth: int = 0) -> Any:
    """`data` with a key of a newer version added to every record object (objects that have a "format" or whose
    keys are all field names: here, those that are not a dict field's value)."""
    if isinstance(data, list):
        return [_with_newer_keys(item, depth + 1) for item in data]
    if isinstance(data, dict):
        return {**{key: _with_newer_keys(value, depth + 1) if key not in _DICT_FIELDS else value
                   for key, value in data.items()}, f"newer_{depth}": {"kept": [depth, None]}}
    return data


#: The fields whose value is a dict of data, not a record: a key added there is a value, not an unknown key.
_DICT_FIELDS = {"status_counts", "violation_counts", "violation_examples", "latency_ms", "entity_error_codes",
                "files", "violation_samples", "error_codes", "series_map", "customer_map"}


@pytest.mark.parametrize("build", [faulted, ramp_compared_result], ids=["contract", "load"])
def test_keys_of_a_newer_version_are_kept_and_written_back(build: Callable[[], JsonRecord]) -> None:
    result = build()
    newer = _with_newer_keys(result.to_json())
    back = type(result).from_json(newer)
    assert back == result  # the known fields read as they were
    assert back.to_json() == newer  # and nothing is lost on the way back
    assert back.unknown_keys == {"newer_0": {"kept": [0, None]}}  # type: ignore[attr-defined]


def test_a_rule_keeps_unknown_keys_too() -> None:
    rule = decode(Rule, {"id": "x", "group": "g", "severity": "error", "title": "t", "statement": "s",
                         "weight": 3})
    assert rule.unknown_keys == {"weight": 3} and encode(rule)["weight"] == 3


GOOD = faulted().to_json()


def _broken(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


@pytest.mark.parametrize(("data", "message"), [
    (None, "not a coupon-harness/contract-result record (a JSON null, not an object)"),
    ([GOOD], "not a coupon-harness/contract-result record (a JSON array, not an object)"),
    ("garbage", "(a JSON string, not an object)"),
    ({}, "not a coupon-harness/contract-result record (no format)"),
    (_broken(format="coupon-harness/load-result"), "(its format is 'coupon-harness/load-result')"),
    (_broken(version=2), "version 2, this coupon-harness reads version 1: written by a newer coupon-harness"),
    (_broken(version="1"), "version '1', this coupon-harness reads version 1: not a version this coupon-harness"),
    (_broken(version=True), "not a version this coupon-harness reads"),
    ({k: v for k, v in GOOD.items() if k != "seed"}, "contract-result: no 'seed'"),
    (_broken(seed=True), "contract-result.seed: expected an integer, got True"),
    (_broken(seed="7"), "contract-result.seed: expected an integer, got '7'"),
    (_broken(duration_s="fast"), "contract-result.duration_s: expected a number, got 'fast'"),
    (_broken(duration_s=[1]), "contract-result.duration_s: expected a number, got [1]"),
    (_broken(duration_s={"nan": 1}), "contract-result.duration_s: expected a number, got {'nan': 1}"),
    (_broken(passes=[["classics"]]), "contract-result.passes[0]: expected a list of 2, got ['classics']"),
    (_broken(rules={}), "contract-result.rules: expected a list, got {}"),
    (_broken(rules=[{**GOOD["rules"][0], "outcome": "maybe"}]),
     "contract-result.rules[0].outcome: expected one of 'passed', 'failed'"),
    (_broken(passes=[["a\nb", "x"]]), "contract-result.passes[0][1]: expected an integer, got 'x'"),
    (_broken(rules=[{**GOOD["rules"][0], "rule": "x" * 100}]),
     "contract-result.rules[0].rule: expected an object, got 'xxx"),
])
def test_a_bad_record_is_one_line_naming_where(data: Any, message: str) -> None:
    with pytest.raises(CodecError) as caught:
        ContractRunResult.from_json(data)
    text = str(caught.value)
    assert message in text and "\n" not in text and len(text) < 200, text


def test_a_dict_entry_is_named_on_one_line() -> None:
    data = ramp_compared_result().to_json()
    data["status_counts"] = {"2\n00": "many"}
    with pytest.raises(CodecError) as caught:
        LoadRunResult.from_json(data)
    assert str(caught.value) == "load-result.status_counts['2\\n00']: expected an integer, got 'many'"


def test_dict_keys_typed_int_come_back_as_ints() -> None:
    from tests.diff.test_diff_reports import _result

    result = _result()
    assert result.series_map and DiffRunResult.from_json(json.loads(json.dumps(result.to_json()))) == result
    data = result.to_json()
    data["series_map"] = {"one": 5001}
    with pytest.raises(CodecError, match=r"diff-result.series_map key: expected an integer, got 'one'"):
        DiffRunResult.from_json(data)
