"""Typed results of a contract run: what runners produce and reporting consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from coupon_harness.contract.catalog import Rule
from coupon_harness.results.request import RequestSample

__all__ = ["ContractRunResult", "Finding", "HarnessFault", "Outcome", "RequestSample", "RuleResult"]


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    #: Broken, but the rule's severity is warning: reported, does not fail the gate.
    WARNED = "warned"
    #: The run could not check the rule (say, no --invalid-series-ids given): never counted as passed.
    NOT_RUN = "not run"


@dataclass(slots=True)
class Finding:
    """One distinct violation of a rule (rule id + kind), with the first request that showed it."""

    rule_id: str
    key: str
    expected: str
    received: str
    request: RequestSample | None
    #: Status and a prefix of the body the target answered, for the report.
    response_status: int | None
    response_excerpt: str
    #: Where the harness found it: "property/negative", "scenario/mixed-batch", "auth", ...
    source: str
    #: The seed that replays the run (coupon-harness contract --seed N).
    seed: int | None
    occurrences: int = 1
    #: The bug class of a deterministic probe ("type confusion: numeric string in seriesIds[0]").
    probe: str | None = None


@dataclass(frozen=True, slots=True)
class HarnessFault:
    """A bug in the harness itself inside one stage of a run: that stage stopped, the others ran.

    Never a finding against the target; the run exits 2. Texts are already redacted.
    """

    stage: str
    #: "TypeError: Integer exceeds 64-bit range"
    error: str
    traceback: str

    @property
    def file_name(self) -> str:
        """The report file that holds the traceback."""
        return f"harness-error-{self.stage.replace('/', '-')}.txt"


@dataclass(slots=True)
class RuleResult:
    rule: Rule
    outcome: Outcome
    #: How many exchanges the rule was judged on.
    checks: int
    findings: list[Finding] = field(default_factory=list)
    #: Why the rule was not run, when outcome is NOT_RUN.
    reason: str | None = None


@dataclass(slots=True)
class ContractRunResult:
    target: str
    started_at: str
    duration_s: float
    seed: int
    requests: int
    rules: list[RuleResult]
    #: The run was stopped early (Ctrl-C, time budget): the results cover what ran.
    interrupted: bool = False
    #: Passes the run made and how many requests each sent, in order: [("property/positive", 120), ...].
    passes: list[tuple[str, int]] = field(default_factory=list)
    #: Notes worth reading that are no finding (a pass skipped, a knob to turn).
    notes: list[str] = field(default_factory=list)
    #: Harness bugs met during the run (each stopped one stage): the run exits 2.
    faults: list[HarnessFault] = field(default_factory=list)
    #: Seconds from the start of the run to the first finding of a failing rule, and where it was found.
    first_finding_s: float | None = None
    first_finding_source: str | None = None

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.rules if r.outcome is Outcome.FAILED]

    @property
    def holds(self) -> bool:
        """The gate: no rule of error or critical severity was broken."""
        return not self.failed
