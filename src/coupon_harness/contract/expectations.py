"""What the harness is told about a target: which series must issue, which must be refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

__all__ = ["Expectations"]


@dataclass(frozen=True, slots=True)
class Expectations:
    valid_series: frozenset[int] = frozenset()
    invalid_series: frozenset[int] = frozenset()
    #: Series whose coupons all share one code (Capillary's GENERIC codes): exempt from unique-codes.
    generic_series: frozenset[int] = frozenset()
    #: How far validTill may lie before the issue time and still count as "in the future".
    clock_skew: timedelta = field(default=timedelta(minutes=5))
    #: Whether a code shared across customers is a violation even for a GENERIC series.
    unique_generic: bool = False
