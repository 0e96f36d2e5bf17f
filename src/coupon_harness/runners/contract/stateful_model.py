"""The model of the stateful pass: the steps a sequence is made of, and a `Session` that sends them in order and
judges each answer by the one Judge, knowing what came before.

Besides the per-answer rules at every step, the model judges what the contract states about a sequence:
valid-series-issues (a customer the harness made up is due a coupon at its first ask of a valid series, whatever
malformed, unauthorized or other requests came before; a later ask may rightly be refused), and unique-codes and
series-attributes-stable on a Ledger of the sequence's own, as `replay` judges them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from coupon_harness.contract.http_rules import MALFORMED, UNAUTHENTICATED, WELL_FORMED
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.contract.ledger import Ledger
from coupon_harness.results.contract import Finding, ReplayInfo, RequestSample
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.collector import Collector, ScratchCollector
from coupon_harness.runners.contract.encoding import dump_json
from coupon_harness.runners.contract.exchange import Exchange
from coupon_harness.runners.contract.judge import Judge
from coupon_harness.runners.contract.sequences import replay_info
from coupon_harness.transport.auth import TOKEN_HEADER

__all__ = ["KINDS", "MALFORMED_VARIANTS", "SOURCE", "UNAUTHORIZED_VARIANTS", "SequenceStep", "Session"]

#: The source every request and coupon of the pass is listed under.
SOURCE = "stateful"
#: What a step may be: well-formed (valid, invalid-series, mixed, large: judged as bulk issues), malformed
#: (judged as 400) or unauthorized (a well-formed body without valid credentials, judged as 401).
KINDS = ("valid", "invalid-series", "mixed", "large", "malformed", "unauthorized")

_Body = Callable[[list[int], str], bytes]


def _issue_body(series: list[Any], customer: str) -> bytes:
    return dump_json({"seriesIds": series, "customer": {"id": customer}})


#: Malformed bodies that still name the step's customer and series: a target that acts on part of one shows it
#: in the next request.
MALFORMED_VARIANTS: dict[str, _Body] = {
    "a string after the series": lambda series, customer: _issue_body([*series, "x"], customer),
    "a fraction after the series": lambda series, customer: _issue_body([*series, 0.5], customer),
    "a series id past int32 after the series": lambda series, customer: _issue_body([*series, 2**31], customer),
    "the body cut short": lambda series, customer: _issue_body(series, customer)[:-2],
    "seriesIds as a string": lambda series, customer: dump_json(
        {"seriesIds": ",".join(map(str, series)), "customer": {"id": customer}}),
}
#: Credentials of an unauthorized step: none, or made-up ones (never the run's own).
UNAUTHORIZED_VARIANTS: dict[str, dict[str, str]] = {
    "no credentials": {},
    "an unknown token": {TOKEN_HEADER: "coupon-harness-not-a-token"},
    "an unknown user": {"Authorization": "Basic " + base64.b64encode(b"coupon-harness-nobody:wrong").decode()},
}


@dataclass(frozen=True, slots=True)
class SequenceStep:
    """One request of a sequence: its kind, which of the sequence's customers, the series it names and, for a
    malformed or unauthorized step, how (a key of MALFORMED_VARIANTS / UNAUTHORIZED_VARIANTS)."""

    kind: str
    customer: int
    series: tuple[int, ...]
    variant: str = ""


class Session:
    """One sequence as it is sent: its customers (id, made up), what each was asked, its own Ledger and collector
    (`ScratchCollector`); `samples` and `judged` hold each step's request and how it was judged, in order."""

    def __init__(self, client: Client, run: Collector, customers: Sequence[tuple[str, bool]]) -> None:
        expectations = client.judge.expectations
        self.client = client
        self.valid = expectations.valid_series
        self.collector = ScratchCollector(run)
        self.judge = Judge(self.collector, expectations, Ledger(expectations), client.judge.redactor)
        self.customers = list(customers)
        self.asked: dict[int, set[int]] = {}
        self.samples: list[RequestSample] = []
        self.judged: list[ReplayInfo] = []
        #: The last step's exchange.
        self.last: Exchange | None = None

    def add_customer(self, customer: tuple[str, bool]) -> int:
        """Add a customer to the sequence; its index."""
        self.customers.append(customer)
        return len(self.customers) - 1

    def send(self, step: SequenceStep) -> list[Finding]:
        """Send `step`, judge its answer; the findings it made that this session had not seen."""
        index = step.customer % len(self.customers)
        customer, made_up = self.customers[index]
        series = list(step.series)
        headers: dict[str, str | None] | None = None
        auth, expect, call = True, WELL_FORMED, None
        if step.kind == "malformed":
            body, expect = MALFORMED_VARIANTS[step.variant](series, customer), MALFORMED
        elif step.kind == "unauthorized":
            body, expect, auth = _issue_body(series, customer), UNAUTHENTICATED, False
            headers = dict(UNAUTHORIZED_VARIANTS[step.variant])
        else:
            body = _issue_body(series, customer)
            asked = self.asked.setdefault(index, set())
            fresh = made_up and not (asked & self.valid & set(series))
            call = IssueCall(series, customer, datetime.now(UTC), fresh)
            asked.update(series)  # whatever the answer: a request that failed may have issued
        exchange = self.client.raw("POST", body, headers=headers, auth=auth, source=SOURCE)
        seen = {id(finding) for finding in self.collector.findings}
        self.judge.judge(exchange, expect, call, SOURCE)
        self.samples.append(exchange.request)
        self.judged.append(replay_info(expect, call))
        self.last = exchange
        return [finding for finding in self.collector.findings if id(finding) not in seen]
