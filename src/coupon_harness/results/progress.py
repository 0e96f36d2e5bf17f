"""What a running stage reports of itself while it works: typed figures the CLI's progress display shows.
A runner sends `Figures` as often as it likes; the display keeps the latest and has the only clock. Standard
library only, so the load runner may import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Figures", "FiguresSink", "Part"]


@dataclass(frozen=True, slots=True)
class Part:
    """Where a stage is: the 2nd of at most 8 capacity steps (`step`, `grow, 40 req/s`), the 3rd of 9 contract passes
    (`pass`, `property-positive`)."""

    noun: str
    name: str
    index: int
    #: How many parts the stage has; `at_most`: an upper bound (a capacity search may end before its last step).
    count: int
    at_most: bool = False


@dataclass(frozen=True, slots=True)
class Figures:
    """A stage's figures at one moment. None: the stage does not know that figure (the contract run measures no
    latency; a load run counts errors, a contract run findings)."""

    #: "contract", "load", "capacity": the kind of run.
    stage: str
    #: Requests sent so far (diff: cases, each sent to both targets; see `unit`).
    requests: int
    part: Part | None = None
    #: Requests per second over the last few seconds, as the stage measured it; None: the display derives it.
    rps: float | None = None
    p95_ms: float | None = None
    #: Requests that failed (load: not 200, no answer, or breaking the contract).
    errors: int | None = None
    #: Distinct findings so far (contract).
    findings: int | None = None
    #: Differences between the two targets so far, grouped by cause (diff).
    differences: int | None = None
    coupons: int | None = None
    users: int | None = None
    #: Seconds left of the stage's (or the current part's, when `part` is set) planned length, when it has one.
    remaining_s: float | None = None
    #: That planned length (seconds).
    planned_s: float | None = None
    #: What `requests` counts, as the display names it.
    unit: str = "requests"


#: Where a runner sends its figures (the CLI's progress display; nothing when no one watches).
FiguresSink = Callable[[Figures], None]
