"""The records of what a sandbox serves: its series catalog, credentials, faults and output variations.

Each is a frozen dataclass checked when built, so a config made in code and one read from a file fail the same
way: `SandboxConfigError`, one line that names the problem and the fix.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal, NoReturn

from coupon_harness.contract.invariants import is_number
from coupon_harness.sandbox.codes import resolve_alphabet

__all__ = ["Faults", "SandboxConfig", "SandboxConfigError", "SeriesConfig", "Variations", "default_config",
           "default_series", "parse_offset"]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_MAX_CODE_LENGTH = 64

DiscountType = Literal["ABS", "PERC"]
CouponIds = Literal["increment", "zero"]


class SandboxConfigError(ValueError):
    """A config that cannot be served; the message is one line naming the problem and the fix."""


def _fail(message: str) -> NoReturn:
    raise SandboxConfigError(message)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_offset(offset: str) -> timezone:
    """"Z" or "+HH:MM" / "-HH:MM" as a timezone; SandboxConfigError otherwise."""
    if offset == "Z":
        return UTC
    sign = {"+": 1, "-": -1}.get(offset[:1])
    hours, colon, minutes = offset[1:3], offset[3:4], offset[4:]
    if (sign is None or len(offset) != 6 or colon != ":" or not (hours + minutes).isdigit()
            or int(hours) > 14 or int(minutes) > 59):
        raise SandboxConfigError(f"valid_till_offset {offset!r} is not an offset; write Z or +HH:MM (+05:30)")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


@dataclass(frozen=True, slots=True)
class SeriesConfig:
    """One coupon series: its attributes as answered, its validity, limits and code shape.

    Validity is either `valid_till` (a fixed expiry; one in the past makes the series expired) or
    `valid_days` (each coupon valid that many days after its issue). An `expired` series needs neither.
    Limits: -1 means unlimited. `generic_code` makes the series GENERIC: every customer gets that code.
    """

    id: int
    description: str = ""
    discount_code: str = ""
    discount_type: DiscountType = "ABS"
    discount_value: int | float = 0
    discount_upto: int | float = 0
    discount_on: str = "BILL"
    detailed_info: str = ""
    valid_till: datetime | None = None
    valid_days: int | None = None
    expired: bool = False
    max_coupons_per_customer: int = -1
    max_create: int = -1
    code_length: int = 10
    #: A name from codes.ALPHABETS (upper-alnum, numeric, ...) or "chars:<characters>".
    code_alphabet: str = "upper-alnum"
    code_prefix: str = ""
    generic_code: str | None = None

    def __post_init__(self) -> None:
        where = f"series {self.id}"
        if not _is_int(self.id) or not INT32_MIN <= self.id <= INT32_MAX:
            _fail(f"series id {self.id!r} is not an int32; give each series an integer id")
        if self.discount_type not in ("ABS", "PERC"):
            _fail(f"{where}: discount_type {self.discount_type!r} is unknown; set it to ABS or PERC")
        for name in ("discount_value", "discount_upto"):
            value = getattr(self, name)
            if not is_number(value) or value < 0:
                _fail(f"{where}: {name} {value!r} is not a number >= 0; set a non-negative number")
        if self.discount_type == "PERC" and self.discount_value > 100:
            _fail(f"{where}: PERC discount_value {self.discount_value} exceeds 100; set a percentage <= 100")
        self._check_validity(where)
        for name in ("max_coupons_per_customer", "max_create"):
            value = getattr(self, name)
            if not _is_int(value) or value < -1:
                _fail(f"{where}: {name} {value!r} is not an integer >= -1; use -1 for unlimited")
        if not _is_int(self.code_length) or not 1 <= self.code_length <= _MAX_CODE_LENGTH:
            _fail(f"{where}: code_length {self.code_length!r} is out of range; set 1 to {_MAX_CODE_LENGTH}")
        try:
            resolve_alphabet(self.code_alphabet)
        except ValueError as exc:
            _fail(f"{where}: {exc}")
        if self.generic_code is not None and not (isinstance(self.generic_code, str) and self.generic_code):
            _fail(f"{where}: generic_code must be a non-empty string; give the code or leave it out")

    def _check_validity(self, where: str) -> None:
        if self.valid_till is not None:
            if not isinstance(self.valid_till, datetime):
                _fail(f"{where}: valid_till {self.valid_till!r} is no datetime; write 2099-12-31T00:00:00Z")
            if self.valid_till.tzinfo is None:
                object.__setattr__(self, "valid_till", self.valid_till.replace(tzinfo=UTC))
        if self.valid_days is not None and (not _is_int(self.valid_days) or self.valid_days < 1):
            _fail(f"{where}: valid_days {self.valid_days!r} is not an integer >= 1; set days a coupon lasts")
        if self.valid_till is not None and self.valid_days is not None:
            _fail(f"{where}: both valid_till and valid_days are set; keep one of them")
        if self.valid_till is None and self.valid_days is None and not self.expired:
            _fail(f"{where}: no validity; set valid_till (a fixed expiry) or valid_days (days after issue)")

    @property
    def generic(self) -> bool:
        return self.generic_code is not None

    def is_expired(self, now: float | None = None) -> bool:
        """Flagged expired, or its fixed expiry has passed (at `now`, a Unix time; default: the clock)."""
        till = self.valid_till
        return self.expired or (till is not None and till.timestamp() <= (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class Faults:
    """Fault injection on POST /v2/coupon/bulk/issue; all off by default.

    `latency_ms`: fixed, or a (low, high) uniform range. A share `error_rate` of requests is answered with one of
    `error_statuses`, issued first with `error_after_issue`. `concurrency`: a service capacity (served that many
    at once, the rest wait in line), a known knee of concurrency / latency for the capacity search.
    """

    latency_ms: float | tuple[float, float] = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 503)
    error_after_issue: bool = False
    concurrency: int | None = None

    def __post_init__(self) -> None:
        latency = self.latency_ms
        bounds = (latency, latency) if is_number(latency) else latency
        if not (isinstance(bounds, tuple | list) and len(bounds) == 2 and all(is_number(v) for v in bounds)):
            _fail(f"faults.latency_ms {latency!r} is not a number or [low, high]; write e.g. 20 or [10, 50]")
        low, high = float(bounds[0]), float(bounds[1])
        if low < 0 or high < low:
            _fail(f"faults.latency_ms {latency!r} is negative or reversed; give 0 <= low <= high")
        object.__setattr__(self, "latency_ms", low if low == high else (low, high))
        if not is_number(self.error_rate) or not 0.0 <= self.error_rate <= 1.0:
            _fail(f"faults.error_rate {self.error_rate!r} is not a share; set a number from 0 to 1")
        statuses = tuple(self.error_statuses)
        if not statuses or not all(_is_int(s) and 500 <= s <= 599 for s in statuses):
            _fail(f"faults.error_statuses {self.error_statuses!r} are not all 5xx; write e.g. [500, 503]")
        object.__setattr__(self, "error_statuses", statuses)
        if self.concurrency is not None and (not _is_int(self.concurrency) or self.concurrency < 1):
            _fail(f"faults.concurrency {self.concurrency!r} is not a count of requests; write e.g. 4, or leave it "
                  "out for no limit")

    @property
    def capacity_rps(self) -> float | None:
        """The throughput the service capacity sustains (concurrency / mean latency); None without a limit."""
        low, high = self.latency_range_s
        if self.concurrency is None or high <= 0:
            return None
        return self.concurrency / ((low + high) / 2)

    @property
    def latency_range_s(self) -> tuple[float, float]:
        low, high = self.latency_ms if isinstance(self.latency_ms, tuple) else (self.latency_ms, self.latency_ms)
        return (low / 1000.0, high / 1000.0)

    @property
    def active(self) -> bool:
        return self.latency_range_s[1] > 0 or self.error_rate > 0 or self.concurrency is not None


@dataclass(frozen=True, slots=True)
class Variations:
    """Answers Capillary legitimately gives in the wild, each off by default (docs/sandbox.md describes them)."""

    numbers_as_floats: bool = False
    valid_till_offset: str = "Z"
    extra_fields: bool = False
    failed_result_null: bool = False
    code_alphabet: str | None = None

    def __post_init__(self) -> None:
        for name in ("numbers_as_floats", "extra_fields", "failed_result_null"):
            if not isinstance(getattr(self, name), bool):
                _fail(f"variations.{name} {getattr(self, name)!r} is not a boolean; write true or false")
        if not isinstance(self.valid_till_offset, str):
            _fail(f"variations.valid_till_offset {self.valid_till_offset!r} is no string; write Z or +HH:MM")
        parse_offset(self.valid_till_offset)
        if self.code_alphabet is not None:
            try:
                resolve_alphabet(self.code_alphabet)
            except ValueError as exc:
                _fail(f"variations.code_alphabet: {exc}")


def default_series() -> tuple[SeriesConfig, ...]:
    """The default catalog; see default_config()."""
    far_future = datetime(2099, 12, 31, tzinfo=UTC)
    return (
        SeriesConfig(101, "Festival coupon", "FEST500", "ABS", 500, 0, detailed_info="500 off the bill",
                     valid_till=far_future),
        SeriesConfig(102, "Ten percent off", "PERC10", "PERC", 10, 200, detailed_info="10% off, up to 200",
                     valid_days=30),
        SeriesConfig(103, "Welcome coupon", "WELCOME", "ABS", 100, 0, detailed_info="One per customer",
                     valid_days=90, max_coupons_per_customer=1),
        SeriesConfig(104, "Generic summer code", "SUMMER", "ABS", 50, 0, detailed_info="One code for all",
                     valid_till=far_future, generic_code="SUMMER2099"),
        SeriesConfig(105, "Numeric store coupon", "STORE250", "ABS", 250, 0, detailed_info="Numeric codes",
                     valid_days=7, code_length=12, code_alphabet="numeric", code_prefix="CH"),
        SeriesConfig(201, "Expired campaign", "OLD", "ABS", 300, 0, detailed_info="Campaign closed",
                     expired=True),
        SeriesConfig(202, "Lapsed series", "LAPSED", "PERC", 5, 50, detailed_info="Expiry date passed",
                     valid_till=datetime(2020, 1, 1, tzinfo=UTC)),
    )


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """A whole sandbox. `users` maps Basic usernames to passwords, `oauth_clients` OAuth keys to secrets."""

    series: tuple[SeriesConfig, ...] = field(default_factory=default_series)
    users: Mapping[str, str] = field(default_factory=lambda: {"sandbox": "sandbox"})
    oauth_clients: Mapping[str, str] = field(default_factory=lambda: {"sandbox-key": "sandbox-secret"})
    token_ttl_s: float = 300.0
    #: Ids documented as naming no series: part of invalid_series, always answered 707.
    unknown_series_ids: tuple[int, ...] = (999999,)
    #: "increment": result.id counts 1, 2, 3... across the sandbox; "zero": always 0 (the reference page's).
    coupon_ids: CouponIds = "increment"
    #: Seeds the code generator (and fault draws) for reproducible runs; None draws from the OS.
    seed: int | None = None
    faults: Faults = field(default_factory=Faults)
    variations: Variations = field(default_factory=Variations)
    #: Most seriesIds one request may carry; a longer list is answered 400 (code 756) before any work.
    max_batch: int = 1000
    #: Seconds a request head may take to arrive (from the connection's opening, or a later head's first byte).
    header_timeout_s: float = 15.0
    #: Seconds an idle keep-alive connection is held open between requests.
    keepalive_timeout_s: float = 75.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "series", tuple(self.series))
        object.__setattr__(self, "unknown_series_ids", tuple(self.unknown_series_ids))
        seen: set[int] = set()
        for series in self.series:
            if not isinstance(series, SeriesConfig):
                _fail(f"series entry {series!r} is not a SeriesConfig; build each with SeriesConfig(...)")
            if series.id in seen:
                _fail(f"series id {series.id} appears twice; give each series its own id")
            seen.add(series.id)
        for unknown in self.unknown_series_ids:
            if not _is_int(unknown) or not INT32_MIN <= unknown <= INT32_MAX:
                _fail(f"unknown_series_ids: {unknown!r} is not an int32; list integer ids")
            if unknown in seen:
                _fail(f"unknown_series_ids: {unknown} is a configured series; pick an id no series has")
        for name in ("users", "oauth_clients"):
            mapping = getattr(self, name)
            if not isinstance(mapping, Mapping) or not all(
                    isinstance(k, str) and k and isinstance(v, str) for k, v in mapping.items()):
                _fail(f"{name} must map non-empty names to string secrets; write e.g. {{name: secret}}")
        if self.coupon_ids not in ("increment", "zero"):
            _fail(f"coupon_ids {self.coupon_ids!r} is unknown; set it to increment or zero")
        if self.seed is not None and not _is_int(self.seed):
            _fail(f"seed {self.seed!r} is not an integer; give an integer or leave it out")
        if not _is_int(self.max_batch) or self.max_batch < 1:
            _fail(f"max_batch {self.max_batch!r} is not an integer >= 1; set the most seriesIds per request")
        for name, what in (("token_ttl_s", "token lifetime"), ("header_timeout_s", "a timeout"),
                           ("keepalive_timeout_s", "a timeout")):
            value = getattr(self, name)
            if not is_number(value) or value <= 0:
                _fail(f"{name} {value!r} is not a positive number; set {what} in seconds")

    @property
    def valid_series(self) -> frozenset[int]:
        """Series that issue a coupon to a fresh customer: not expired, no total cap, per-customer cap > 0."""
        now = time.time()
        return frozenset(s.id for s in self.series
                         if not s.is_expired(now) and s.max_create == -1 and s.max_coupons_per_customer != 0)

    @property
    def invalid_series(self) -> frozenset[int]:
        """Series always refused: expired ones (712) and the documented unknown ids (707)."""
        now = time.time()
        return frozenset(s.id for s in self.series if s.is_expired(now)) | frozenset(self.unknown_series_ids)

    @property
    def generic_series(self) -> frozenset[int]:
        return frozenset(s.id for s in self.series if s.generic)


def default_config() -> SandboxConfig:
    """The catalog the harness uses against the sandbox (docs/sandbox.md lists it)."""
    return SandboxConfig()

