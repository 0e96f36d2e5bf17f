"""The fields of the request schema and how to put a value at one: what the schema-derived passes (classics,
strings) walk, so a field the schema grows is probed without an edit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from coupon_harness.contract.expectations import Expectations

__all__ = ["Path", "fields", "is_type", "series_choice", "show", "with_value"]

Path = tuple[str | int, ...]


def series_choice(expectations: Expectations) -> tuple[int, list[int], list[int]]:
    """The series a schema-derived probe names: a valid one, so a server that issues answers with coupons, else
    a refused one, else 1; then the valid and the refused series, sorted."""
    valid = sorted(expectations.valid_series)
    invalid = sorted(expectations.invalid_series)
    return (valid[0] if valid else (invalid[0] if invalid else 1)), valid, invalid


def show(path: Path) -> str:
    """`("customer", "id")` -> "customer.id"; `("seriesIds", 0)` -> "seriesIds[0]"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def is_type(schema: dict[str, Any], kind: str) -> bool:
    """The schema's `type` is `kind` or a list holding it (`["string", "null"]`)."""
    declared = schema.get("type")
    return declared == kind or (isinstance(declared, list) and kind in declared)


def fields(schema: dict[str, Any], path: Path = ()) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every field of the request schema, depth first: (path, its schema); array items at index 0."""
    for name, sub in schema.get("properties", {}).items():
        yield (*path, name), sub
        if sub.get("type") == "object":
            yield from fields(sub, (*path, name))
        elif sub.get("type") == "array" and isinstance(sub.get("items"), dict):
            item = sub["items"]
            yield (*path, name, 0), item
            if item.get("type") == "object":
                yield from fields(item, (*path, name, 0))


def with_value(body: Any, path: Path, value: Any) -> Any:
    """A copy of `body` with `value` at `path`; objects and arrays the path needs and `body` lacks are made
    (a field the schema grows but a base body does not hold yet)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if body is None:
        body = {} if isinstance(head, str) else []
    if isinstance(body, dict):
        return {**body, head: with_value(body.get(head), rest, value)} if isinstance(head, str) else body
    if isinstance(body, list) and isinstance(head, int):
        copy = list(body) + [None] * (head + 1 - len(body))
        copy[head] = with_value(copy[head], rest, value)
        return copy
    return body
