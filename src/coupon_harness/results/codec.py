"""The one JSON codec of the typed results: `JsonRecord.to_json` / `from_json`, driven by the dataclasses' type
hints, so a new field is one line in its class.

The form is `{"format": "coupon-harness/<kind>", "version": N, <field>: ...}`, nested records as objects. Reading
is strict about what it knows and keeps what it does not: a wrong type, a missing required field, another format
or version is a one-line `CodecError` (a ValueError) naming where; an unknown key is kept in `unknown_keys` and
written back, so an older harness rewriting a newer file loses nothing; a missing field with a default takes it.
Adding a field with a default keeps the version; renaming, removing or changing the meaning of one bumps it.

Non-finite floats are written "nan", "inf", "-inf"; `int` dict keys as strings. Standard library only: the load
process imports it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from typing import Any, ClassVar, Self, TypeVar, get_args, get_origin, get_type_hints, is_typeddict

__all__ = ["FORMAT_PREFIX", "CodecError", "FrozenRecord", "JsonRecord", "Record", "RunResult", "decode",
           "encode"]

#: `format` is this prefix and the record's `JSON_FORMAT`.
FORMAT_PREFIX = "coupon-harness/"
#: The field every record keeps the keys it does not know in (`Record`, `FrozenRecord`).
_UNKNOWN = "unknown_keys"
_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}

T = TypeVar("T")


@dataclasses.dataclass(slots=True)
class Record:
    """A record of the codec: the keys of its JSON form this version does not know are kept in `unknown_keys` and
    written back as they were (keyword-only: it never shifts a subclass's positional fields)."""

    unknown_keys: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False, kw_only=True)


@dataclasses.dataclass(frozen=True, slots=True)
class FrozenRecord:
    """`Record` for a frozen dataclass (which cannot inherit a mutable one)."""

    unknown_keys: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False, kw_only=True)


class CodecError(ValueError):
    """A JSON value that is not the record it is read as; the message is one line, naming where."""


def encode(value: Any) -> Any:
    """`value` as plain JSON data (see the module's docstring)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != _UNKNOWN}
        return {**getattr(value, _UNKNOWN, {}), **data}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    return value


def _fail(where: str, expected: str, data: Any) -> CodecError:
    shown = repr(data)
    return CodecError(f"{where}: expected {expected}, got {shown[:60] + '…' if len(shown) > 60 else shown}")


#: A plain type -> the JSON types that read as it (by exact type: a bool is no integer) and its name in a message.
_PLAIN: dict[Any, tuple[tuple[type, ...], str]] = {
    type(None): ((type(None),), "null"), bool: ((bool,), "true or false"), int: ((int,), "an integer"),
    float: ((int, float), "a number"), str: ((str,), "a string")}


def _scalar(tp: Any, data: Any, where: str) -> Any:
    if tp is Any:
        return data
    if tp in _PLAIN:
        types_, expected = _PLAIN[tp]
        if type(data) in types_:
            return float(data) if tp is float else data
        if tp is float and isinstance(data, str) and data in _FLOATS:
            return _FLOATS[data]
        raise _fail(where, expected, data)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError:
            raise _fail(where, f"one of {', '.join(repr(m.value) for m in tp)}", data) from None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _record(tp, data, where)
    if is_typeddict(tp):
        if not isinstance(data, dict):
            raise _fail(where, "an object", data)
        hints = get_type_hints(tp)
        missing = [name for name in tp.__required_keys__ if name not in data]
        if missing:
            raise CodecError(f"{where}: no {missing[0]!r}")
        return {**data, **{name: decode(hints[name], data[name], f"{where}.{name}") for name in hints if name in data}}
    raise TypeError(f"{where}: the codec does not know the type {tp!r}")  # a programming error, not a bad file


def decode(tp: Any, data: Any, where: str = "$") -> Any:
    """`data` (plain JSON) read as type `tp`; CodecError naming `where` when it is not one."""
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        others = [arg for arg in args if arg is not type(None)]
        if len(others) == 1:
            return decode(others[0], data, where)
        raise TypeError(f"{where}: the codec reads no union of several types ({tp!r})")
    if origin is list or origin is tuple:
        if not isinstance(data, list):
            raise _fail(where, "a list", data)
        if origin is list or (len(args) == 2 and args[1] is Ellipsis):
            items = [decode(args[0], item, f"{where}[{i}]") for i, item in enumerate(data)]
        elif len(data) != len(args):
            raise _fail(where, f"a list of {len(args)}", data)
        else:
            items = [decode(arg, item, f"{where}[{i}]") for i, (arg, item) in enumerate(zip(args, data, strict=True))]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(data, dict):
            raise _fail(where, "an object", data)
        key_type, value_type = args
        out = {}
        for key, value in data.items():
            typed_key: Any = key
            if key_type is int:
                try:
                    typed_key = int(key)
                except ValueError:
                    raise _fail(f"{where} key", "an integer", key) from None
            out[typed_key] = decode(value_type, value, f"{where}[{key!r}]"[:200])  # repr: one line, whatever the key
        return out
    return _scalar(tp, data, where)


_HINTS: dict[type, dict[str, Any]] = {}


def _record(cls: type[T], data: Any, where: str) -> T:
    if not isinstance(data, dict):
        raise _fail(where, "an object", data)
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name == _UNKNOWN:
            continue
        if f.name in data:
            values[f.name] = decode(hints[f.name], data[f.name], f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise CodecError(f"{where}: no {f.name!r}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = {key: value for key, value in data.items() if key not in names}
    if _UNKNOWN in names:
        values[_UNKNOWN] = unknown
    return cls(**values)


class JsonRecord:
    """A top-level result with a versioned JSON form; subclasses (dataclasses, and `Record`s or `FrozenRecord`s
    like every record they hold) set `JSON_FORMAT` and `JSON_VERSION`."""

    __slots__ = ()
    JSON_FORMAT: ClassVar[str]
    JSON_VERSION: ClassVar[int] = 1

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON data, with its format and version first."""
        body = encode(self)
        body.pop("format", None)
        body.pop("version", None)
        return {"format": FORMAT_PREFIX + self.JSON_FORMAT, "version": self.JSON_VERSION, **body}

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """The record read back from `to_json`'s form; CodecError (one line) on anything else."""
        name = FORMAT_PREFIX + cls.JSON_FORMAT
        if not isinstance(data, dict):
            raise CodecError(f"not a {name} record (a JSON {_json_type(data)}, not an object)")
        if data.get("format") != name:
            given = data.get("format")
            raise CodecError(f"not a {name} record (its format is {str(given)[:60]!r})" if given is not None
                             else f"not a {name} record (no format)")
        version = data.get("version")
        if type(version) is not int or version != cls.JSON_VERSION:  # True == 1, but it is no version
            newer = type(version) is int and version > cls.JSON_VERSION
            how = ("written by a newer coupon-harness: upgrade it to read this file" if newer
                   else "not a version this coupon-harness reads")
            raise CodecError(f"{name} version {repr(version)[:20]}, this coupon-harness reads version "
                             f"{cls.JSON_VERSION}: {how}")
        body = {key: value for key, value in data.items() if key not in ("format", "version")}
        return _record(cls, body, cls.JSON_FORMAT)


def _json_type(data: Any) -> str:
    names: dict[type, str] = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if data is None else names.get(type(data), type(data).__name__)


@dataclasses.dataclass(slots=True)
class RunResult(Record, JsonRecord):
    """What every run's result starts with: its target, when it started (ISO 8601) and how long it took."""

    target: str
    started_at: str
    duration_s: float
