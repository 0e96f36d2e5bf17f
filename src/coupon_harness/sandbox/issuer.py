"""The sandbox's state and its one operation: issue a request's series to a customer.

Per (customer, series) counts are kept only for series with a per-customer limit. Codes are unique for the
sandbox's life (`codes.IssuedCodes`: nothing stored a code, unless shapes overlap); a request is issued under
one lock, so concurrent requests never share a code or overrun a limit.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timezone
from typing import Any

from coupon_harness.sandbox.codes import CodeSpaceExhausted, IssuedCodes, Shape, resolve_alphabet
from coupon_harness.sandbox.config import SandboxConfig, SeriesConfig, parse_offset

__all__ = ["Issuer", "format_instant"]

#: Entity error codes (Capillary's).
SERIES_INVALID, SERIES_EXPIRED, CAMPAIGN_OVER, CANNOT_CREATE, MAX_PER_CUSTOMER = 707, 712, 714, 722, 5002
_DAY_S = 86400


def format_instant(timestamp: float, tz: timezone, suffix: str) -> str:
    """ISO 8601 to the second in `tz`, ending in `suffix` ("Z" or the offset, "+05:30")."""
    return datetime.fromtimestamp(int(timestamp), tz).strftime("%Y-%m-%dT%H:%M:%S") + suffix


def _as_is(value: float) -> float:
    return value


def _shape(series: SeriesConfig, alphabet_override: str | None) -> Shape:
    return resolve_alphabet(alphabet_override or series.code_alphabet), series.code_length, series.code_prefix


class _Series:
    """One series at run time: its answer template, its validity and its counters."""

    __slots__ = ("config", "created", "expires_at", "fixed_till", "generic_code", "max_create", "next_code",
                 "per_customer", "per_customer_limit", "template", "till_cache", "valid_s")

    def __init__(self, config: SeriesConfig, template: dict[str, Any], fixed_till: str | None,
                 next_code: Callable[[], str] | None) -> None:
        self.config = config
        self.template = template
        self.fixed_till = fixed_till
        self.expires_at = config.valid_till.timestamp() if config.valid_till is not None else None
        self.valid_s = config.valid_days * _DAY_S if config.valid_days is not None else 0
        self.till_cache: tuple[int, str] = (-1, "")
        self.generic_code = config.generic_code
        self.next_code = next_code
        self.per_customer_limit = config.max_coupons_per_customer
        self.per_customer: dict[str, int] = {}
        self.max_create = config.max_create
        self.created = 0


class Issuer:
    def __init__(self, config: SandboxConfig, rng: random.Random | None = None) -> None:
        variations = config.variations
        self._tz = parse_offset(variations.valid_till_offset)
        self._suffix = "Z" if self._tz is UTC else variations.valid_till_offset
        self._floats = variations.numbers_as_floats
        self._extra = variations.extra_fields
        self._result_null = variations.failed_result_null
        rng = rng if rng is not None else random.Random(config.seed)
        alphabet = variations.code_alphabet
        shapes = {s.id: _shape(s, alphabet) for s in config.series if not s.generic}
        #: Every code handed out; GENERIC codes are reserved: generated codes never repeat one.
        self._issued = IssuedCodes(list(shapes.values()),
                                   (s.generic_code for s in config.series if s.generic_code is not None), rng)
        self._next_id: Callable[[], int] | None = (
            itertools.count(1).__next__ if config.coupon_ids == "increment" else None)
        self._lock = threading.Lock()
        self._series = {s.id: self._prepare(s, shapes.get(s.id)) for s in config.series}

    def _prepare(self, series: SeriesConfig, shape: Shape | None) -> _Series:
        number: Callable[[float], float] = float if self._floats else _as_is
        template: dict[str, Any] = {
            "code": "",
            "seriesId": series.id,
            "description": series.description,
            "discountCode": series.discount_code,
            "validTill": "",
            "discountType": series.discount_type,
            "discountValue": number(series.discount_value),
            "discountUpto": number(series.discount_upto),
            "discountOn": series.discount_on,
            "detailedInfo": series.detailed_info,
            "redemptionCount": 0,
            "id": 0,
        }
        if self._extra:
            template["validTillDateTime"] = ""
            template["couponType"] = "GENERIC" if series.generic else "DISC_CODE"
        fixed_till = None
        if series.valid_till is not None:
            fixed_till = format_instant(series.valid_till.timestamp(), self._tz, self._suffix)
        next_code = self._issued.generator(shape) if shape is not None else None
        return _Series(series, template, fixed_till, next_code)

    @property
    def codes_issued(self) -> int:
        """Distinct generated codes handed out so far (GENERIC codes not counted)."""
        return len(self._issued)

    def coupons_issued(self, series_id: int) -> int:
        series = self._series.get(series_id)
        return series.created if series is not None else 0

    def issue(self, series_ids: Sequence[int], customer_id: str) -> tuple[list[dict[str, Any]], int]:
        """One entity per series id, in order, and how many of them failed."""
        now = time.time()
        entities: list[dict[str, Any]] = []
        failures = 0
        with self._lock:
            for series_id in series_ids:
                series = self._series.get(series_id)
                if series is None:
                    entities.append(self._refuse(series_id, SERIES_INVALID,
                                                 f"Coupon Series ID = {series_id} is invalid"))
                    failures += 1
                    continue
                entity = self._issue_one(series, customer_id, now)
                if entity["errors"]:
                    failures += 1
                entities.append(entity)
        return entities, failures

    def _issue_one(self, series: _Series, customer_id: str, now: float) -> dict[str, Any]:
        series_id = series.config.id
        if series.config.expired or (series.expires_at is not None and now >= series.expires_at):
            return self._refuse(series_id, SERIES_EXPIRED, f"Coupon Series ID = {series_id} has expired")
        if series.max_create != -1 and series.created >= series.max_create:
            return self._refuse(series_id, CAMPAIGN_OVER, f"Coupon Series ID = {series_id} is over: "
                                                          f"all {series.max_create} coupons are issued")
        held = 0
        if series.per_customer_limit != -1:
            held = series.per_customer.get(customer_id, 0)
            if held >= series.per_customer_limit:
                return self._refuse(series_id, MAX_PER_CUSTOMER,
                                    f"Max coupons per customer ({series.per_customer_limit}) reached "
                                    f"for Coupon Series ID = {series_id}")
        code = series.generic_code
        if code is None:
            try:
                code = series.next_code()  # type: ignore[misc]
            except CodeSpaceExhausted as exc:
                return self._refuse(series_id, CANNOT_CREATE,
                                    f"Unable to create coupon for Coupon Series ID = {series_id}: {exc}")
        till = series.fixed_till
        if till is None:
            second = int(now)
            cached = series.till_cache
            if cached[0] == second:
                till = cached[1]
            else:
                till = format_instant(second + series.valid_s, self._tz, self._suffix)
                series.till_cache = (second, till)
        series.created += 1
        if series.per_customer_limit != -1:
            series.per_customer[customer_id] = held + 1
        result = series.template.copy()
        result["code"] = code
        result["validTill"] = till
        if self._next_id is not None:
            result["id"] = self._next_id()
        if self._extra:
            result["validTillDateTime"] = till
        return {"entityId": series_id, "result": result, "errors": [], "warnings": []}

    def _refuse(self, series_id: int, code: int, message: str) -> dict[str, Any]:
        if self._result_null:
            return {"entityId": series_id, "result": None, "errors": [{"code": code, "message": message}],
                    "warnings": []}
        return {"entityId": series_id, "errors": [{"code": code, "message": message}], "warnings": []}
