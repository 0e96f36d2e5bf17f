"""Differences of one cause, grouped into one row of the diff report.

One cause: the same category, the same field whatever subject it was seen under (`series 102: x` and
`series 107: x`), and the same change (numbers: the same difference, +1 an off-by-one; instants: the same shift;
anything else: the same pair of values). A bug shows as one constant change of one field; two different changes
of one field stay two rows, as they may be two bugs. summary.json keeps every difference.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from coupon_harness.results.diff import Difference

__all__ = ["EXAMPLES", "Cause", "causes"]

#: A grouped row names this many of its subjects and values.
EXAMPLES = 3
_DAYS = re.compile(r"^(\d+) days? (after|before) issue$")


@dataclass(frozen=True, slots=True)
class Cause:
    """Differences of one cause, in the order they were found; `change` says what they share ("" for the same
    pair of values)."""

    category: str
    field: str
    change: str
    members: tuple[Difference, ...]

    @property
    def subjects(self) -> list[str]:
        return [_split(d.where)[0] for d in self.members]

    @property
    def cases(self) -> int:
        return sum(d.occurrences for d in self.members)


def _split(where: str) -> tuple[str, str]:
    """(subject, field): "series 102: result.discountValue" -> ("series 102", "result.discountValue")."""
    subject, sep, field = where.partition(": ")
    return (subject, field) if sep else ("", where)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _days(text: str) -> int | None:
    match = _DAYS.match(text)
    if match is None:
        return None
    return int(match.group(1)) * (1 if match.group(2) == "after" else -1)


def change_of(difference: Difference) -> str:
    """What changed from base to against, as a rule ("against = base +1"), or "" when no rule is seen."""
    a, b = _number(difference.base), _number(difference.against)
    if a is not None and b is not None:
        return f"against = base {b - a:+,.10g}"
    da, db = _days(difference.base), _days(difference.against)
    if da is not None and db is not None:
        shift = db - da
        return f"against {abs(shift)} day{'' if abs(shift) == 1 else 's'} {'later' if shift > 0 else 'earlier'}"
    return ""


def causes(differences: list[Difference]) -> list[Cause]:
    """The differences grouped by cause, groups in the order of their first difference."""
    groups: dict[tuple[str, ...], list[Difference]] = {}
    for difference in differences:
        key = (difference.category, _split(difference.where)[1], change_of(difference))
        groups.setdefault(key if key[2] else (*key, difference.base, difference.against), []).append(difference)
    return [Cause(key[0], key[1], key[2], tuple(members)) for key, members in groups.items()]
