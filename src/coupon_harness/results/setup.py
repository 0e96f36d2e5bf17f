"""A run that could not start testing: a setup error (exit 2) and what is known of the run at that point,
reported like any run (`reporting/setup_error.py`) so a CI step finds the files and the line that names the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from coupon_harness.results.codec import FrozenRecord, JsonRecord

__all__ = ["SETUP_ERROR_OUTCOME", "SetupFailure"]

#: summary.json's `outcome` of such a run (a reader of summary.json tells it from a run's report by this).
SETUP_ERROR_OUTCOME = "setup-error"


@dataclass(frozen=True, slots=True)
class SetupFailure(FrozenRecord, JsonRecord):
    JSON_FORMAT: ClassVar[str] = "setup-failure"

    #: The command: contract, load, capacity, run, diff, replay, locust.
    kind: str
    #: The one line (already redacted) that names the fix.
    message: str
    started_at: str
    duration_s: float
    #: The target as reports may show it (redacted), or "" when the run did not get that far.
    target: str = ""
    #: The codes the run made the target issue before it stopped (its preflight, say), listed in coupons.csv.
    coupons_issued: int = 0
    exit_code: int = 2
