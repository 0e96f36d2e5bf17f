"""Rules that span responses: no code handed out twice, one series answers with the same attributes."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.invariants import shown
from coupon_harness.contract.violations import Violation

__all__ = ["SERIES_ATTRIBUTES", "Ledger"]

SERIES_ATTRIBUTES = ("description", "discountCode", "discountType", "discountValue", "discountUpto", "discountOn")


class Ledger:
    """Remembers every code issued in a run (code -> series, customer) and each series' attributes.

    The same customer may be answered the same coupon again (a target may return the coupon a customer
    already holds); the same code for another customer of the same series is a duplicate.
    Safe to share between threads.
    """

    def __init__(self, expectations: Expectations) -> None:
        self._expectations = expectations
        self._codes: dict[tuple[Any, str], str | None] = {}
        self._attributes: dict[Any, tuple[Any, ...]] = {}
        self._lock = threading.Lock()

    def observe(self, series_ids: Sequence[int], customer_id: str | None, body: Any) -> list[Violation]:
        entities = body.get("response") if isinstance(body, dict) else None
        if not isinstance(entities, list):
            return []
        found: list[Violation] = []
        exempt = set() if self._expectations.unique_generic else self._expectations.generic_series
        with self._lock:
            for index, entity in enumerate(entities):
                if not isinstance(entity, dict):
                    continue
                result = entity.get("result")
                errors = entity.get("errors")
                if not isinstance(result, dict) or (isinstance(errors, list) and errors):
                    continue
                if index >= len(series_ids):
                    break  # entities beyond the request are a total-count violation; they name no series asked for
                series = series_ids[index]
                code = result.get("code")
                if isinstance(code, str) and code and series not in exempt:
                    key = (series, code)
                    if key in self._codes and self._codes[key] != customer_id:
                        found.append(Violation(
                            "unique-codes", "across-customers", "a code never seen before for this series",
                            f"series {series} code {code!r} issued to customers "
                            f"{self._codes[key]!r} and {customer_id!r}"))
                    else:
                        self._codes[key] = customer_id
                attributes = tuple(result.get(name) for name in SERIES_ATTRIBUTES)
                known = self._attributes.setdefault(series, attributes)
                if _differs(known, attributes):
                    changed = [f"{name} {shown(old)} -> {shown(new)}" for name, old, new
                               in zip(SERIES_ATTRIBUTES, known, attributes, strict=True) if _differs(old, new)]
                    found.append(Violation("series-attributes-stable", "changed", "the attributes of earlier calls",
                                           f"series {series}: " + "; ".join(changed)))
        return found


def _differs(old: Any, new: Any) -> bool:
    """old != new, also for values nested deeper than Python compares (orjson reads 1024 levels)."""
    try:
        return bool(old != new)
    except RecursionError:
        pass
    pairs = [(old, new)]
    while pairs:
        a, b = pairs.pop()
        if a is b:
            continue
        if type(a) is not type(b) and (isinstance(a, list | dict | tuple) or isinstance(b, list | dict | tuple)):
            return True
        if isinstance(a, list | tuple):
            if len(a) != len(b):
                return True
            pairs.extend(zip(a, b, strict=True))
        elif isinstance(a, dict):
            if a.keys() != b.keys():
                return True
            pairs.extend((a[key], b[key]) for key in a)
        elif a != b:
            return True
    return False
