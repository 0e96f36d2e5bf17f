"""Lines a case up for the second target: A's series and customer ids in a request body become B's.

Works on the bytes as sent, so a classic probe's odd body reaches B as it reached A but for the ids: in the value
of every `seriesIds` key (any letter case), an integer equal to a mapped series id, alone or with `.0`, becomes B's;
every JSON string equal to a mapped customer id becomes B's. Anything else (hex, `101e0`, `101.5`) is unchanged:
those probes must be refused by both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from coupon_harness.runners.contract.encoding import dump_json

__all__ = ["BodyMap", "coupon_bound"]

#: The value of a seriesIds key: an array (up to its first `]`), a string, or a scalar.
_SERIES_VALUE = re.compile(rb'("seriesids"\s*:\s*)(\[[^\]]*\]?|"[^"]*"|[^,}\]]*)', re.IGNORECASE)
#: An unsigned integer standing alone (not inside a longer number or word), optionally with a `.0` fraction.
_INTEGER = re.compile(rb"(?<![\w.+\-])(\d+)(?=(?:\.0+)?(?![\w.]))")


class BodyMap:
    """A's ids -> B's ids, applied to request bodies (bytes as sent) and kept for reports."""

    def __init__(self, series: Mapping[int, int], customers: Mapping[str, str]) -> None:
        self.series = dict(series)
        self.customers = dict(customers)
        self._series_bytes = {str(a).encode(): str(b).encode() for a, b in self.series.items()}
        # A customer id as JSON writes it, quotes included: only a whole string value is replaced.
        self._customer_bytes = [(dump_json(a), dump_json(b)) for a, b in self.customers.items()]

    @property
    def identity(self) -> bool:
        return not self.series and not self.customers

    def series_id(self, series: object) -> object:
        """B's id of A's series `series` (itself when unmapped or not an integer)."""
        if isinstance(series, int) and not isinstance(series, bool):
            return self.series.get(series, series)
        return series

    def body(self, body: bytes | None) -> bytes | None:
        if body is None or self.identity:
            return body
        out = body
        if self._series_bytes:
            out = _SERIES_VALUE.sub(self._map_series_value, out)
        for before, after in self._customer_bytes:
            out = out.replace(before, after)
        return out

    def _map_series_value(self, match: re.Match[bytes]) -> bytes:
        def one(number: re.Match[bytes]) -> bytes:
            return self._series_bytes.get(number.group(1), number.group(1))

        return match.group(1) + _INTEGER.sub(one, match.group(2))


def coupon_bound(body: bytes | None) -> int:
    """At most how many coupons a request can issue: the entries of its seriesIds arrays (1 when it has none: an
    odd body that a lenient target still reads)."""
    if not body:
        return 0
    total = 0
    for match in _SERIES_VALUE.finditer(body):
        value = match.group(2)
        total += value.count(b",") + 1 if value.startswith(b"[") else 1
    return max(total, 1)
