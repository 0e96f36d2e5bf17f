"""A sandbox that logs what it issued: every (series, code) it put into an answer, with the time it did.

The self-tests of coupons.csv compare a run's list with this log: every code the target issued must be listed
(as often as it was issued: GENERIC series repeat a code), and a code issued in the last moments before a process
was killed outright may be missing only if it came within the bound (`missing_since`).
"""

from __future__ import annotations

import csv
import threading
import time
from collections import Counter
from pathlib import Path

from coupon_harness.sandbox.app import Answer

__all__ = ["Issued", "listed"]


class Issued:
    """A sandbox `mutate` hook: records each code of each answer it lets through, unchanged."""

    def __init__(self) -> None:
        self.codes: Counter[tuple[str, str]] = Counter()
        #: (when, series, code) in the order issued.
        self.log: list[tuple[float, str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, answer: Answer) -> Answer:
        if isinstance(answer.body, dict):
            found = [(str(entity.get("entityId")), str(entity["result"]["code"]))
                     for entity in answer.body.get("response", [])
                     if isinstance(entity, dict) and isinstance(entity.get("result"), dict)
                     and entity["result"].get("code")]
            now = time.time()
            with self._lock:
                self.codes.update(found)
                self.log.extend((now, series, code) for series, code in found)
        return answer

    def total(self) -> int:
        with self._lock:
            return sum(self.codes.values())

    def missing_since(self, listed_codes: Counter[tuple[str, str]]) -> list[float]:
        """When each code issued but not listed was issued (a code listed fewer times than issued counts once for
        each missing time, the latest ones)."""
        with self._lock:
            missing = self.codes - listed_codes
            times: list[float] = []
            for at, series, code in reversed(self.log):
                if missing[(series, code)] > 0:
                    missing[(series, code)] -= 1
                    times.append(at)
            return times


def listed(*paths: Path, source_prefix: str | None = None) -> Counter[tuple[str, str]]:
    """(series, code) of every row of the coupons.csv files (rows whose source starts with `source_prefix` only)."""
    found: Counter[tuple[str, str]] = Counter()
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows and rows[0] == ["series_id", "code", "customer_id", "issued_at", "source"], rows[:2]
        assert all(len(row) == 5 for row in rows), f"a garbled line in {path}"
        found.update((row[0], row[1]) for row in rows[1:]
                     if source_prefix is None or row[4].startswith(source_prefix))
    return found
