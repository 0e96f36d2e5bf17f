"""The strings pass: every string field of the request schema (found in the schema, so a new one is probed without
an edit) gets the strings of `string_catalog` that break servers.

Each probe is well-formed but for the string (the configured series, a valid and, where known, an invalid one),
classified by the request schema: a body it accepts may get a 200 judged by every rule (the customer is not fresh:
a refusal in the body is fine) or an honest 400 (`TOLERATED`); one it refuses (below `minLength`) 400 only
(`MALFORMED`). Findings are named by class and field ("strings:sql in customer.id"), one per class, reproduced
by the smallest body.

Budget: `PER_EXAMPLE` strings per --max-examples, at most `MOST`, never fewer than the core strings plus one of
every class; the seed draws the rest class by class. A class whose string hung or dropped the connection sends no
more (each hang costs a deadline). Strings as long as a length at which the classics found the field failing are
left out, so one length bug is named once and a strings finding always means the content.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from coupon_harness.contract.http_rules import MALFORMED, TOLERATED, Expect
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.contract.schemas import load_schema, request_validator
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.collector import Collector
from coupon_harness.runners.contract.encoding import dump_json
from coupon_harness.runners.contract.exchange import Exchange
from coupon_harness.runners.contract.schema_fields import Path, fields, is_type, series_choice, show, with_value
from coupon_harness.runners.contract.string_catalog import catalog

__all__ = ["MOST", "PER_EXAMPLE", "StringProbe", "budget", "failing_lengths", "run_strings", "select",
           "string_fields", "string_probes"]

#: At most this many requests, whatever --max-examples says.
MOST = 1000
#: Strings per --max-examples.
PER_EXAMPLE = 3
#: How the classics name a string-length probe (classics.py): "string length: 65 characters in customer.id".
_LENGTH_PROBE = re.compile(r"string length: (\d+) characters? in (.+)")


@dataclass(frozen=True, slots=True)
class StringProbe:
    """One string in one field: the request and how its answer is judged."""

    cls: str
    where: str
    value: str
    body: bytes
    expect: Expect
    series: tuple[int, ...]
    #: The customer the request names (the IssueCall's).
    customer: str | None
    core: bool

    @property
    def name(self) -> str:
        """The probe class a finding carries: "strings:sql in customer.id"."""
        return f"strings:{self.cls} in {self.where}"


def string_fields(schema: dict[str, Any]) -> list[Path]:
    """Every string field of the request schema (array items at index 0)."""
    return [path for path, sub in fields(schema) if is_type(sub, "string")]


def budget(max_examples: int, floor: int) -> int:
    """Strings a run sends: `PER_EXAMPLE` per example, at most `MOST`, at least `floor` (core plus one a class)."""
    return min(MOST, max(floor, PER_EXAMPLE * max_examples))


def select(probes: Sequence[StringProbe], seed: int, max_examples: int) -> list[StringProbe]:
    """The probes a run sends, in catalog order: every core probe, then the others drawn by `seed` one class (and
    field) at a time in turn until the budget is spent. The same seed always selects the same probes."""
    buckets: dict[tuple[str, str], list[int]] = {}
    chosen = set()
    for index, probe in enumerate(probes):
        if probe.core:
            chosen.add(index)
        else:
            buckets.setdefault((probe.where, probe.cls), []).append(index)
    limit = budget(max_examples, len(chosen) + len(buckets))
    if len(probes) <= limit:
        return list(probes)
    rng = random.Random(f"coupon-harness strings {seed}")
    queues = []
    for indexes in buckets.values():  # dict order: the catalog's, the same on every run
        rng.shuffle(indexes)
        queues.append(deque(indexes))
    start = rng.randrange(len(queues)) if queues else 0
    queues = queues[start:] + queues[:start]
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.add(queue.popleft())
    return [probe for index, probe in enumerate(probes) if index in chosen]


def _every_probe(client: Client, schema: dict[str, Any], valid: Callable[[Any], bool]) -> list[StringProbe]:
    first, _, invalid = series_choice(client.judge.expectations)
    # A series that issues and, where the run knows one, one that must be refused: each answer is then judged on
    # both kinds of entity (counts, order, shape, refusal).
    series = (first, invalid[0]) if invalid and invalid[0] != first else (first,)
    out = []
    for path in string_fields(schema):
        where = show(path)
        for item in catalog():
            # With --customer-ids the target may know no other customer: the pool's first is the prefix, and
            # every probe still names a customer the target does not know (a refusal is a right answer, judged).
            customer = client.customer()
            value = item.value(customer)
            body = with_value({"seriesIds": list(series), "customer": {"id": customer}}, path, value)
            named = body.get("customer", {}).get("id") if isinstance(body.get("customer"), dict) else None
            out.append(StringProbe(item.cls, where, value, dump_json(body), TOLERATED if valid(body) else MALFORMED,
                                   series, named if isinstance(named, str) else None, item.core))
    return out


def failing_lengths(collector: Collector) -> dict[str, int]:
    """Per field, the shortest string length at which the classics made a finding."""
    shortest: dict[str, int] = {}
    for finding in collector.findings:
        matched = _LENGTH_PROBE.fullmatch(finding.probe or "")
        if matched is not None:
            length, where = int(matched.group(1)), matched.group(2)
            shortest[where] = min(length, shortest.get(where, length))
    return shortest


def string_probes(client: Client, schema: dict[str, Any] | None = None, valid: Callable[[Any], bool] | None = None,
                  too_long: dict[str, int] | None = None) -> list[StringProbe]:
    """The probes this run sends, selected by its seed: `schema`'s string fields (the request schema's), classified
    by `valid` (its validator), none as long as `too_long` says for its field."""
    every = _every_probe(client, schema if schema is not None else load_schema("request"),
                         valid if valid is not None else request_validator().is_valid)
    limits = too_long or {}
    usable = [probe for probe in every if len(probe.value) < limits.get(probe.where, len(probe.value) + 1)]
    settings = client.settings
    return select(usable, settings.seed, settings.max_examples)


def _sender(client: Client, probe: StringProbe) -> Callable[[], tuple[Exchange, IssueCall | None]]:
    def send() -> tuple[Exchange, IssueCall | None]:
        call = (IssueCall(list(probe.series), probe.customer, datetime.now(UTC), fresh_customer=False)
                if probe.expect is not MALFORMED else None)
        return client.raw("POST", probe.body, source="strings"), call
    return send


def run_strings(client: Client, progress: Callable[[str], None]) -> int:
    """Send the run's string probes, each judged by the Judge; returns the number of requests sent."""
    judge = client.judge
    collector = judge.collector
    too_long = failing_lengths(collector)
    probes = string_probes(client, too_long=too_long)
    dead: set[tuple[str, str]] = set()
    sent = 0

    def then(probe: StringProbe) -> Callable[[tuple[Exchange, IssueCall | None]], None]:
        def judged(answered: tuple[Exchange, IssueCall | None]) -> None:
            nonlocal sent
            exchange, call = answered
            if (probe.where, probe.cls) in dead:  # sent before the hang was judged: a serial run would not have
                return
            judge.judge(exchange, probe.expect, call, "strings", probe=probe.name, group=probe.name)
            sent += 1
            if exchange.error is not None:
                dead.add((probe.where, probe.cls))
        return judged

    with client.lane() as lane:  # sent by --workers threads, judged here in order
        for probe in probes:
            if collector.stopped:
                break
            if (probe.where, probe.cls) in dead:
                continue
            lane.submit(_sender(client, probe), then(probe))
    classes = len({(probe.where, probe.cls) for probe in probes})
    skipped = f"; no more strings of {len(dead)} class(es) after a hang or a dropped connection" if dead else ""
    if too_long:
        skipped += "; left out, as the classics found the target failing at that length: " + ", ".join(
            f"{where} of {length}+ characters" for where, length in sorted(too_long.items()))
    progress(f"strings: {sent} requests ({classes} classes of {len(probes)} selected strings){skipped}")
    return sent
