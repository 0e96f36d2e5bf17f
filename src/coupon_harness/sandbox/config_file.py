"""Reading a sandbox config file (YAML, or JSON by its .json suffix) into a SandboxConfig.

Every key is optional; keys are the dataclass field names. Without `series` the default catalog is
served. Example::

    users: {sandbox: sandbox}               # Basic user -> password (md5 hex of it is accepted too)
    oauth_clients: {sandbox-key: sandbox-secret}
    token_ttl_s: 300
    unknown_series_ids: [999999]
    coupon_ids: increment                   # or zero
    seed: 42
    max_batch: 1000                         # most seriesIds per request (more: 400)
    header_timeout_s: 15                    # a request head must arrive within this
    keepalive_timeout_s: 75                 # idle keep-alive connections are closed after this
    series:
      - {id: 101, description: Festival coupon, discount_code: FEST500, discount_type: ABS,
         discount_value: 500, valid_till: 2099-12-31T00:00:00Z}
      - {id: 102, discount_type: PERC, discount_value: 10, discount_upto: 200, valid_days: 30,
         max_coupons_per_customer: 1, code_alphabet: numeric, code_length: 8, code_prefix: P}
      - {id: 104, generic_code: SUMMER2099, valid_days: 30}
      - {id: 201, expired: true}
    faults: {latency_ms: [5, 20], error_rate: 0.01, error_statuses: [500, 503]}
                                            # concurrency: 4 with latency_ms: 20 -> serves 200 req/s at most
    variations: {numbers_as_floats: true, valid_till_offset: "+05:30", extra_fields: true,
                 failed_result_null: true, code_alphabet: "chars:ABCDEFGHJKMNPQRSTUVWXYZ23456789"}
"""

from __future__ import annotations

import contextlib
import difflib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import yaml

from coupon_harness.input_files import CONFIG_LIMIT, NESTED_TOO_DEEPLY, UnreadableFile, read_text
from coupon_harness.sandbox.config import Faults, SandboxConfig, SandboxConfigError, SeriesConfig, Variations

__all__ = ["config_from_mapping", "load_config"]

Check = Callable[[Any, str], Any]


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _wrong(where: str, value: Any, wanted: str, fix: str) -> SandboxConfigError:
    kind = "null" if value is None else type(value).__name__
    return SandboxConfigError(f"{where}: expected {wanted}, got {value!r} ({kind}); {fix}")


def _scalar(accepts: Callable[[Any], bool], wanted: str, fix: str) -> Check:
    """The reader of one scalar type; `fix` may show the value as {value}."""
    def check(value: Any, where: str) -> Any:
        if not accepts(value):
            raise _wrong(where, value, wanted, fix.format(value=value))
        return value
    return check


_string = _scalar(lambda value: isinstance(value, str), "a string", 'write it in quotes, e.g. "{value}"')
_integer = _scalar(lambda value: isinstance(value, int) and not isinstance(value, bool), "an integer",
                   "write a whole number without quotes")
_number = _scalar(lambda value: isinstance(value, int | float) and not isinstance(value, bool), "a number",
                  "write a number without quotes")
_boolean = _scalar(lambda value: isinstance(value, bool), "true or false", "write true or false without quotes")


def _datetime(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value)
    raise _wrong(where, value, "an ISO 8601 date-time", "write e.g. 2099-12-31T00:00:00Z")


def _int_list(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise _wrong(where, value, "a list of integers", "write e.g. [999999]")
    return tuple(_integer(item, f"{where}[{i}]") for i, item in enumerate(value))


def _latency(value: Any, where: str) -> float | tuple[float, float]:
    if isinstance(value, list) and len(value) == 2:
        return (_number(value[0], f"{where}[0]"), _number(value[1], f"{where}[1]"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise _wrong(where, value, "milliseconds or [low, high]", "write e.g. 20 or [10, 50]")


def _secrets(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _wrong(where, value, "a mapping of name to secret", "write e.g. {sandbox: sandbox}")
    return {_string(k, f"{where} key"): _string(v, f"{where}.{k}") for k, v in value.items()}


def _fields(raw: Any, where: str, known: Mapping[str, Check]) -> dict[str, Any]:
    """Check a mapping's keys and value types; return the typed values."""
    if not isinstance(raw, dict):
        raise _wrong(where or "top level", raw, "a mapping of keys to values", "write key: value lines")
    typed: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
            raise SandboxConfigError(
                f"{where or 'top level'}: unknown key {key!r}; remove it or fix its name ({hint})")
        typed[key] = known[key](value, f"{where}.{key}" if where else key)
    return typed


def _keys(record: type) -> dict[str, Check]:
    """The file's keys of `record` (its fields, in their order), each with the reader of its type."""
    return {name: _check(hint) for name, hint in get_type_hints(record).items()}


def _section(record: type) -> Check:
    """The reader of a section (faults, variations): a mapping of `record`'s keys."""
    known = _keys(record)
    return lambda raw, where: record(**_fields(raw, where, known))


def _series(raw: Any, where: str) -> tuple[SeriesConfig, ...]:
    if not isinstance(raw, list) or not raw:
        raise _wrong(where, raw, "a non-empty list of series", "write one '- id: ...' entry per series")
    built = []
    for index, entry in enumerate(raw):
        typed = _fields(entry, f"{where}[{index}]", _SERIES_KEYS)
        if "id" not in typed:
            raise SandboxConfigError(f"{where}[{index}]: no id; give every series an integer id")
        built.append(SeriesConfig(**typed))
    return tuple(built)


def _check(hint: Any) -> Check:
    args = get_args(hint)
    if type(None) in args:
        (inner,) = (arg for arg in args if arg is not type(None))
        check = _check(inner)
        return lambda value, where: None if value is None else check(value, where)
    return _string if get_origin(hint) is Literal else _BY_TYPE[hint]


#: The reader of each field type of the records; a Literal is read as a string, `X | None` as X or null.
_BY_TYPE: dict[Any, Check] = {
    str: _string,
    int: _integer,
    float: _number,
    int | float: _number,
    bool: _boolean,
    datetime: _datetime,
    tuple[int, ...]: _int_list,
    float | tuple[float, float]: _latency,
    Mapping[str, str]: _secrets,
    tuple[SeriesConfig, ...]: _series,
}
_BY_TYPE |= {Faults: _section(Faults), Variations: _section(Variations)}
_SERIES_KEYS = _keys(SeriesConfig)
_TOP_KEYS = _keys(SandboxConfig)


def config_from_mapping(raw: Any) -> SandboxConfig:
    """A SandboxConfig from parsed YAML/JSON (None or {} gives the default config)."""
    return SandboxConfig(**_fields({} if raw is None else raw, "", _TOP_KEYS))


def _syntax_detail(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"line {mark.line + 1}, column {mark.column + 1}: {_one_line(problem)}"
    return _one_line(exc)


def load_config(path: str | Path) -> SandboxConfig:
    """Read a YAML or JSON config file; SandboxConfigError when it is wrong."""
    path = Path(path)
    kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
    try:
        text = read_text(path, limit=CONFIG_LIMIT)
    except OSError as exc:
        raise SandboxConfigError(f"{path}: cannot read it ({exc.strerror or exc}); check the path") from None
    except UnreadableFile as exc:
        raise SandboxConfigError(f"{exc}: give a sandbox config file ({kind}, see README 'The sandbox')") from None
    try:
        return config_from_mapping(json.loads(text) if kind == "JSON" else yaml.safe_load(text))
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SandboxConfigError(f"{path}: not valid {kind} ({_syntax_detail(exc)}); fix the syntax") from None
    except SandboxConfigError as exc:
        raise SandboxConfigError(f"{path}: {exc}") from None
    except RecursionError:  # nested a few hundred levels: too deep to parse, or for its message to be written
        raise SandboxConfigError(f"{path} {NESTED_TOO_DEEPLY}: give a sandbox config file ({kind}, see README "
                                 "'The sandbox')") from None
