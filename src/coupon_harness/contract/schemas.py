"""The JSON Schemas of contracts/schemas/, compiled once.

Validation uses jsonschema-rs (about 1.5 us for a 2-entry body, against ~180 us for the pure-Python
jsonschema): the same compiled validator serves the contract runner, the load runner and the sandbox.

Every `format` of the answer schemas (response, error) is asserted, strictly: jsonschema-rs reads `date-time` as
RFC 3339 section 5.6 (`T`/`Z` in either case, an offset with its colon, optional fractional seconds, real calendar
dates), so a value only a lenient parser reads (`+0000`, a space for `T`, no offset) is a violation; a format it
does not know is an error when the validator is built (tests/contract_layer/test_formats.py), never a format left
unchecked. The request schema's formats (`int32`) are annotations: its bounds say the same in `minimum`/`maximum`.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

import jsonschema_rs

from coupon_harness.contract.resources import contracts_dir

__all__ = [
    "ASSERTED_FORMATS",
    "SCHEMA_FILES",
    "SchemaError",
    "error_validator",
    "load_schema",
    "request_validator",
    "response_validator",
    "schema_errors",
]

SCHEMA_FILES = {
    "request": "bulk-issue-request.schema.json",
    "response": "bulk-issue-response.schema.json",
    "error": "bulk-issue-error.schema.json",
}
_BASE = "https://coupon-harness.local/contracts/"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """One schema by its short name (request, response, error), parsed from contracts/schemas/."""
    path = contracts_dir() / "schemas" / SCHEMA_FILES[name]
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


@cache
def _registry() -> Any:
    return jsonschema_rs.Registry([(_BASE + file, load_schema(name)) for name, file in SCHEMA_FILES.items()])


#: The schemas of what a target answers: their formats are asserted, and must all be known.
ASSERTED_FORMATS = frozenset({"response", "error"})


@cache
def _validator(name: str) -> Any:
    asserted = name in ASSERTED_FORMATS
    return jsonschema_rs.Draft202012Validator(load_schema(name), registry=_registry(), validate_formats=asserted,
                                              ignore_unknown_formats=not asserted)


#: The compiled validator of each schema (built on first use, then the same object).
request_validator = partial(_validator, "request")
response_validator = partial(_validator, "response")
error_validator = partial(_validator, "error")


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One schema violation: where in the body (JSON pointer) and what is wrong."""

    pointer: str
    message: str
    keyword: str


def _pointer(parts: list[str | int]) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def schema_errors(name: str, instance: Any, limit: int = 20) -> list[SchemaError]:
    """The first `limit` violations of `instance` against schema `name`; empty when it conforms."""
    validator = _validator(name)
    if validator.is_valid(instance):
        return []
    return [SchemaError(_pointer(list(error.instance_path)), _short(error.message),
                        str(error.schema_path[-1]) if error.schema_path else "")
            for error in itertools.islice(validator.iter_errors(instance), limit)]


def _short(message: str, width: int = 160) -> str:
    return message if len(message) <= width else message[: width - 1] + "…"
