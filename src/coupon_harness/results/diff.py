"""Typed result of a differential run: the same cases sent to two targets, their answers' differences grouped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from coupon_harness.results.codec import FrozenRecord, JsonRecord, Record
from coupon_harness.results.contract import HarnessFault, RunShape
from coupon_harness.results.load import no_answer_line
from coupon_harness.results.request import RequestSample

__all__ = ["CATEGORIES", "DiffRunResult", "Difference", "Reproducer"]

#: The groups a difference falls in, in the order reports show them.
CATEGORIES = ("status", "entity outcome", "error codes", "attributes", "response shape")


@dataclass(frozen=True, slots=True)
class Reproducer(FrozenRecord):
    """One case that shows a difference: the request as sent to each target (redacted) and each answer."""

    #: Where the case came from: "classics/type confusion: ...", "scenario/mixed-batch", "property/positive".
    source: str
    base_request: RequestSample
    against_request: RequestSample
    #: None: no answer (transport failure).
    base_status: int | None
    against_status: int | None
    #: The start of each answer's body, redacted.
    base_excerpt: str
    against_excerpt: str


@dataclass(slots=True)
class Difference(Record):
    """One kind of difference: its group, where in the answer, what each target answered (normalised), how often
    it was seen, and the smallest case that shows it."""

    category: str
    #: "series 102: result.discountValue", "status", "an unknown series: errors[].code"
    where: str
    base: str
    against: str
    reproducer: Reproducer
    occurrences: int = 1

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.category, self.where, self.base, self.against)


@dataclass(slots=True)
class DiffRunResult(Record, JsonRecord):
    JSON_FORMAT: ClassVar[str] = "diff-result"

    base_target: str
    against_target: str
    started_at: str
    duration_s: float
    seed: int
    #: Cases sent to both targets (each one request to each).
    cases: int
    differences: list[Difference] = field(default_factory=list)
    #: Passes run and the cases each sent, in order.
    passes: list[tuple[str, int]] = field(default_factory=list)
    #: "101=5001" for each mapped series (and customer), as the run used them.
    series_map: dict[int, int] = field(default_factory=dict)
    customer_map: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    #: Why the run stopped before its passes ended (coupon cap, a target that stopped answering), or None.
    stopped: str | None = None
    notes: list[str] = field(default_factory=list)
    faults: list[HarnessFault] = field(default_factory=list)
    #: Coupons each target issued during the run.
    base_coupons: int = 0
    against_coupons: int = 0
    #: Cases each target answered whole (None in summaries of older versions), and the deadline of a request.
    base_answered: int | None = None
    against_answered: int | None = None
    request_timeout_s: float | None = None
    #: What shaped the run on --base-url (series, customers, examples, credentials by kind), for the Replay line;
    #: None in summaries of older versions.
    shape: RunShape | None = None
    #: How --against-url's credentials were given, by kind ("basic", "basic-md5", "token", "oauth"), never a value.
    against_credentials: str | None = None
    #: The coupon cap on each target the run kept (None: none).
    max_coupons: int | None = None

    @property
    def differs(self) -> bool:
        return bool(self.differences)

    @property
    def no_answer(self) -> str | None:
        """The one line of a run in which a target completed no answer: "no difference" would rest on nothing
        (None when both answered, when nothing was sent, or for an interrupted run)."""
        if self.interrupted or not self.cases:
            return None
        silent = [side for side, answered in (("base", self.base_answered), ("against", self.against_answered))
                  if answered == 0]
        if not silent:
            return None
        return f"{' and '.join(silent)}: {no_answer_line(self.cases, self.request_timeout_s or None)}"

    @property
    def holds(self) -> bool:
        """No difference, and both targets answered (no verdict without evidence)."""
        return not self.differs and self.no_answer is None

    def by_category(self) -> list[tuple[str, list[Difference]]]:
        """The differences grouped, in `CATEGORIES` order, empty groups left out."""
        return [(name, [d for d in self.differences if d.category == name]) for name in CATEGORIES
                if any(d.category == name for d in self.differences)]
