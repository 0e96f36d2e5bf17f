"""What a differential run is told: the base target (as a contract run's settings), the other target, and how
their series and customers line up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from coupon_harness.results.passes import DIFF_PASSES
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.transport.auth import Credentials

__all__ = ["DIFF_PASSES", "DiffSettings"]


@dataclass(frozen=True, slots=True)
class DiffSettings:
    #: The base target (A) with everything a contract run knows: series and customers are A's ids.
    base: ContractSettings
    against_url: str
    against_credentials: Credentials = field(default_factory=Credentials)
    #: A's series id -> B's; unmapped ids are sent as they are.
    series_map: Mapping[int, int] = field(default_factory=dict)
    #: A's customer id -> B's (for --customer-ids pools); fresh customers are the same id on both.
    customer_map: Mapping[str, str] = field(default_factory=dict)
    #: Most coupons issued on each target (None: no cap); the run stops before a case could pass it.
    max_coupons: int | None = None
    passes: tuple[str, ...] = DIFF_PASSES
