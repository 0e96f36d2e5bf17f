"""Compares two targets' answers to one case, after the contract's own normalisation (README, `coupon-harness diff`).

- Status (a transport failure as its kind: "no answer (timeout)") and the Content-Type's media type.
- A 200's entities in order: outcome, the set of error codes of a refused one, every field of an issued coupon.
- An error answer's envelope: the set of `errors[].code`, and which keys it has.
- Values: numbers by value, objects whatever their key order, strings exactly, `entityId`/`seriesId` after the
  series map; an ISO 8601 instant by its offset from when the case was sent (within `TIME_SLACK_S`); the coupon's
  `id` by type only; `code` by shape over the whole run (`CodeShapes`), never by value.
- A field on one side only, or of another JSON type, is a response-shape difference; `"result": null` and no
  result on a failed entity are the same.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson

__all__ = ["TIME_SLACK_S", "CodeShapes", "Comparer", "Delta", "TargetAnswer", "kind_of"]

T = TypeVar("T")

#: Two relative instants closer than this are the same (clocks of two deployments, a second's rounding).
TIME_SLACK_S = 300.0
#: Codes per series on each side before the kinds of characters (5) and the common prefix (8) are compared:
#: fewer random codes can lack a digit, or share a first letter, by chance.
KINDS_AFTER = 5
PREFIX_AFTER = 8
_DAY_S = 86400.0
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_MISSING: Any = object()
#: Positions of a code whose kinds of characters are kept (a code is rarely longer).
_MAX_POSITIONS = 128


@dataclass(frozen=True, slots=True)
class TargetAnswer:
    """One target's answer to a case: status (None: no answer), transport error kind, headers, body, and the
    Unix time the request left."""

    status: int | None
    error: str | None
    content_type: str
    body: bytes
    sent_at: float


@dataclass(frozen=True, slots=True)
class Delta:
    category: str
    where: str
    base: str
    against: str


_KINDS: dict[type, str] = {bool: "boolean", int: "number", float: "number", str: "string", list: "array",
                           dict: "object"}


def kind_of(value: Any) -> str:
    """The JSON type of a parsed value (orjson gives exactly these types)."""
    return "null" if value is None else _KINDS.get(type(value), type(value).__name__)


def _show(value: Any, limit: int = 80) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _instant(value: str) -> float | None:
    if len(value) > 40 or not _INSTANT.match(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _relative(seconds: float) -> str:
    days = seconds / _DAY_S
    if abs(days - round(days)) * _DAY_S <= TIME_SLACK_S:
        whole = round(days)
        unit = "day" if abs(whole) == 1 else "days"
        return f"{whole} {unit} after issue" if whole >= 0 else f"{-whole} {unit} before issue"
    hours = seconds / 3600
    return f"{hours:.1f} hours after issue" if hours >= 0 else f"{-hours:.1f} hours before issue"


def _parse(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _MISSING


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower() or "none"


def _status(answer: TargetAnswer) -> str:
    return str(answer.status) if answer.status is not None else f"no answer ({answer.error or 'transport'})"


@dataclass(slots=True)
class _Shape:
    count: int = 0
    lengths: set[int] = field(default_factory=set)
    #: The kinds of characters seen at each position.
    positions: list[set[str]] = field(default_factory=list)
    prefix: str | None = None

    def add(self, code: str) -> None:
        self.count += 1
        self.lengths.add(len(code))
        for index, char in enumerate(code[:_MAX_POSITIONS]):
            if index == len(self.positions):
                self.positions.append(set())
            self.positions[index].add(_char_kind(char))
        # Character by character, as wanted here (the codes are no paths).
        self.prefix = code if self.prefix is None else os.path.commonprefix([self.prefix, code])  # noqa: RUF071

    def kinds(self, *, after_prefix: bool) -> set[str]:
        """The kinds of characters of the codes (after their common prefix: `CH` + digits is digits)."""
        start = len(self.prefix or "") if after_prefix else 0
        return set().union(*self.positions[start:])


def _char_kind(char: str) -> str:
    if char.isdigit():
        return "digits"
    if char.isupper():
        return "upper-case letters"
    if char.islower():
        return "lower-case letters"
    return "other characters"


class CodeShapes(Generic[T]):
    """The shape of the codes each target issued per series, over the whole run, and the first case of each."""

    def __init__(self) -> None:
        self._shapes: dict[str, tuple[_Shape, _Shape]] = {}
        self._first: dict[str, T] = {}

    def add(self, label: str, base: str, against: str, case: T) -> None:
        shapes = self._shapes.setdefault(label, (_Shape(), _Shape()))
        shapes[0].add(base)
        shapes[1].add(against)
        self._first.setdefault(label, case)

    def deltas(self) -> list[tuple[Delta, T]]:
        out: list[tuple[Delta, T]] = []
        for label, (a, b) in self._shapes.items():
            case = self._first[label]
            where = f"{label}: result.code"
            if a.lengths != b.lengths:
                out.append((Delta("attributes", f"{where} length", _lengths(a.lengths), _lengths(b.lengths)), case))
            if min(a.count, b.count) >= KINDS_AFTER:
                # After 8 codes the prefix is the series' own: the kinds are those of the part after it.
                after = min(a.count, b.count) >= PREFIX_AFTER
                kinds_a, kinds_b = a.kinds(after_prefix=after), b.kinds(after_prefix=after)
                if kinds_a != kinds_b:
                    what = f"{where} characters" + (" after the prefix" if after else "")
                    out.append((Delta("attributes", what, ", ".join(sorted(kinds_a)) or "none",
                                      ", ".join(sorted(kinds_b)) or "none"), case))
            if min(a.count, b.count) >= PREFIX_AFTER and a.prefix != b.prefix:
                out.append((Delta("attributes", f"{where} prefix", _show(a.prefix), _show(b.prefix)), case))
        return out


def _lengths(lengths: Iterable[int]) -> str:
    return " or ".join(str(n) for n in sorted(lengths)) + " characters"


class Comparer(Generic[T]):
    """Compares answer pairs. `label(series_id)` names an entity's series in a difference ("series 102", "an unknown
    series"); `map_series` is A's series id -> B's."""

    def __init__(self, label: Callable[[Any], str], map_series: Callable[[Any], Any]) -> None:
        self.label = label
        self.map_series = map_series
        self.codes: CodeShapes[T] = CodeShapes()

    def compare(self, a: TargetAnswer, b: TargetAnswer, case: T) -> list[Delta]:
        out: list[Delta] = []
        status_a, status_b = _status(a), _status(b)
        if status_a != status_b:
            return [Delta("status", "status", status_a, status_b)]
        if a.status is None:
            return out
        if _media(a.content_type) != _media(b.content_type):
            out.append(Delta("response shape", "Content-Type", _media(a.content_type), _media(b.content_type)))
        body_a, body_b = _parse(a.body), _parse(b.body)
        if (body_a is _MISSING) != (body_b is _MISSING):
            out.append(Delta("response shape", "body", "JSON" if body_a is not _MISSING else "not JSON",
                             "JSON" if body_b is not _MISSING else "not JSON"))
            return out
        if body_a is _MISSING:
            return out
        if a.status == 200 and isinstance(body_a, dict) and isinstance(body_b, dict):
            self._issue_answer(body_a, body_b, a, b, case, out)
        else:
            self._error_answer(body_a, body_b, out)
        return out

    # -- a 200 bulk-issue answer --
    def _issue_answer(self, body_a: dict[str, Any], body_b: dict[str, Any], a: TargetAnswer, b: TargetAnswer, case: T,
                      out: list[Delta]) -> None:
        entities_a, entities_b = body_a.get("response", _MISSING), body_b.get("response", _MISSING)
        before = len(out)
        if isinstance(entities_a, list) and isinstance(entities_b, list):
            if len(entities_a) != len(entities_b):
                out.append(Delta("entity outcome", "number of entities", str(len(entities_a)), str(len(entities_b))))
            for entity_a, entity_b in zip(entities_a, entities_b, strict=False):
                self._entity(entity_a, entity_b, a, b, case, out)
        else:
            _value("response", entities_a, entities_b, out)
        outcomes_differ = any(d.category == "entity outcome" for d in out[before:])
        for key in sorted((set(body_a) | set(body_b)) - {"response"}):
            if key in ("totalCount", "failureCount") and outcomes_differ:
                continue  # follows from the entity outcomes already named
            category = "entity outcome" if key in ("totalCount", "failureCount") else "attributes"
            _value(key, body_a.get(key, _MISSING), body_b.get(key, _MISSING), out, category=category)

    def _entity(self, ea: Any, eb: Any, a: TargetAnswer, b: TargetAnswer, case: T, out: list[Delta]) -> None:
        if not isinstance(ea, dict) or not isinstance(eb, dict):
            _value("response[]", ea, eb, out)
            return
        label = self.label(ea.get("entityId"))
        errors_a, errors_b = ea.get("errors") or [], eb.get("errors") or []
        result_a, result_b = ea.get("result"), eb.get("result")
        issued_a = isinstance(result_a, dict) and not errors_a
        issued_b = isinstance(result_b, dict) and not errors_b
        if issued_a != issued_b:
            out.append(Delta("entity outcome", label, _outcome(issued_a, errors_a), _outcome(issued_b, errors_b)))
        elif not issued_a and _codes(errors_a) != _codes(errors_b):
            out.append(Delta("error codes", f"{label}: errors[].code", _codes(errors_a), _codes(errors_b)))
        if _codes(ea.get("warnings")) != _codes(eb.get("warnings")):
            out.append(Delta("error codes", f"{label}: warnings[].code", _codes(ea.get("warnings")),
                             _codes(eb.get("warnings"))))
        if self.map_series(ea.get("entityId")) != eb.get("entityId"):
            _value(f"{label}: entityId", self.map_series(ea.get("entityId")), eb.get("entityId", _MISSING), out)
        for key in sorted((set(ea) | set(eb)) - {"entityId", "errors", "warnings", "result"}):
            _value(f"{label}: {key}", ea.get(key, _MISSING), eb.get(key, _MISSING), out)
        if isinstance(result_a, dict) and isinstance(result_b, dict) and issued_a and issued_b:
            self._coupon(label, result_a, result_b, a, b, case, out)
        # A failed entity's result is not compared: null and absent are the same, and it holds no coupon.
        for key in ("errors", "warnings"):
            present_a, present_b = key in ea, key in eb
            if present_a != present_b:
                out.append(Delta("response shape", f"{label}: {key}", _presence(present_a), _presence(present_b)))

    def _coupon(self, label: str, ra: dict[str, Any], rb: dict[str, Any], a: TargetAnswer, b: TargetAnswer, case: T,
                out: list[Delta]) -> None:
        sent = (a.sent_at, b.sent_at)
        for key in sorted(set(ra) | set(rb)):
            va, vb = ra.get(key, _MISSING), rb.get(key, _MISSING)
            where = f"{label}: result.{key}"
            if va is _MISSING or vb is _MISSING or kind_of(va) != kind_of(vb):
                _value(where, va, vb, out, sent)
            elif key == "code" and isinstance(va, str) and isinstance(vb, str):
                self.codes.add(label, va, vb, case)
            elif key == "id":
                continue  # per-issue: its type is all that can be compared
            elif key == "seriesId":
                _value(where, self.map_series(va), vb, out, sent)
            else:
                _value(where, va, vb, out, sent)

    # -- an error answer (or any non-200) --
    def _error_answer(self, body_a: Any, body_b: Any, out: list[Delta]) -> None:
        if not isinstance(body_a, dict) or not isinstance(body_b, dict):
            if kind_of(body_a) != kind_of(body_b):
                out.append(Delta("response shape", "body", kind_of(body_a), kind_of(body_b)))
            return
        for key in sorted(set(body_a) | set(body_b)):
            va, vb = body_a.get(key, _MISSING), body_b.get(key, _MISSING)
            if va is _MISSING or vb is _MISSING:
                out.append(Delta("response shape", key, _presence(va is not _MISSING), _presence(vb is not _MISSING)))
            elif key in ("errors", "warnings") and _codes(va) != _codes(vb):
                out.append(Delta("error codes", f"{key}[].code", _codes(va), _codes(vb)))
            elif kind_of(va) != kind_of(vb):
                out.append(Delta("response shape", key, kind_of(va), kind_of(vb)))


def _instants(where: str, va: Any, vb: Any, out: list[Delta], sent: tuple[float, float]) -> bool:
    """Whether both values are instants; if so, compared by their offsets from when each case was `sent`."""
    if not (isinstance(va, str) and isinstance(vb, str)):
        return False
    instant_a, instant_b = _instant(va), _instant(vb)
    if instant_a is None or instant_b is None:
        return False
    offset_a, offset_b = instant_a - sent[0], instant_b - sent[1]
    if instant_a != instant_b and abs(offset_a - offset_b) > TIME_SLACK_S:
        out.append(Delta("attributes", where, _relative(offset_a), _relative(offset_b)))
    return True


def _value(where: str, va: Any, vb: Any, out: list[Delta], sent: tuple[float, float] | None = None,
           category: str = "attributes") -> None:
    """Compares two JSON values at `where`; with `sent` (a coupon's fields), instants by their offset from issue."""
    if va is _MISSING or vb is _MISSING:
        if va is not vb:
            out.append(Delta("response shape", where, _presence(va is not _MISSING), _presence(vb is not _MISSING)))
        return
    kind_a, kind_b = kind_of(va), kind_of(vb)
    if kind_a != kind_b:
        out.append(Delta("response shape", where, kind_a, kind_b))
    elif sent is not None and _instants(where, va, vb, out, sent):
        return
    elif kind_a == "object":
        for key in sorted(set(va) | set(vb)):
            _value(f"{where}.{key}", va.get(key, _MISSING), vb.get(key, _MISSING), out, sent, category)
    elif kind_a == "array":
        if len(va) != len(vb):
            out.append(Delta("response shape", f"{where} length", f"{len(va)} items", f"{len(vb)} items"))
        for item_a, item_b in zip(va, vb, strict=False):
            _value(f"{where}[]", item_a, item_b, out, sent, category)
    elif va != vb and not (isinstance(va, float) and isinstance(vb, float) and math.isnan(va) and math.isnan(vb)):
        out.append(Delta(category, where, _show(va), _show(vb)))


def _presence(present: bool) -> str:
    return "present" if present else "missing"


def _codes(errors: Any) -> str:
    """The set of error codes of an `errors` (or `warnings`) list, as text: "707", "707, 712", "none"."""
    if not isinstance(errors, list):
        return "none" if errors is None or errors is _MISSING else kind_of(errors)
    codes = {_show(_integral(e.get("code"))) if isinstance(e, dict) else kind_of(e) for e in errors}
    return ", ".join(sorted(codes)) or "none"


def _integral(value: Any) -> Any:
    """707.0 as 707: a number is compared by value wherever it stands."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _outcome(issued: bool, errors: Any) -> str:
    return "issued" if issued else f"refused ({_codes(errors)})"
