"""Typed results of a contract run: what runners produce and reporting consumes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from coupon_harness.contract.catalog import Rule, RuleId
from coupon_harness.contract.invariants import RESPONSE_RULES
from coupon_harness.results.codec import FrozenRecord, Record, RunResult
from coupon_harness.results.request import RequestSample, finding_curl

__all__ = ["BODY_RULES", "BaselineStatus", "BaselineSummary", "ContractRunResult", "Finding", "FixedEntry",
           "HarnessFault", "Outcome", "ReplayInfo", "RequestSample", "RuleResult", "RunShape", "fingerprint",
           "step_note"]


#: Rules judged on the body of a 200 (one answer's, or across answers): their findings' fingerprints leave the
#: probe out.
BODY_RULES: frozenset[str] = frozenset({*RESPONSE_RULES, RuleId.UNIQUE_CODES, RuleId.SERIES_ATTRIBUTES_STABLE})


def fingerprint(rule_id: str, kind: str, probe_class: str | None) -> str:
    """What makes two findings the same across seeds, runs and machines: 12 hex digits of a hash of the rule, the
    kind of breakage (`Violation.key`, no values) and, for a rule about how the request is answered, the probe
    class (size left out). A rule about a 200's body breaks the same whichever probe drew it, so its probe is left
    out. Never the request: its values change with the seed."""
    probe = probe_class if rule_id not in BODY_RULES else None
    identity = "\0".join((rule_id, kind, probe or ""))
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:12]


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    #: Broken, but the rule's severity is warning: reported, does not fail the gate.
    WARNED = "warned"
    #: Broken, but every finding is an accepted one of the run's baseline (--baseline): does not fail the gate.
    KNOWN = "known"
    #: The run could not check the rule (say, no --invalid-series-ids given): never counted as passed.
    NOT_RUN = "not run"


class BaselineStatus(StrEnum):
    """A finding against the run's baseline (None on a finding of a run without one)."""

    NEW = "new"
    KNOWN = "known"
    #: In the baseline, but its entry expired: counts as new (with a warning).
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class ReplayInfo(FrozenRecord):
    """How the Judge judged a finding's request (its `Expect`), so that `coupon-harness replay` judges alike:
    `issue_call` whether a 200 is read as a bulk issue's answer, `fresh_customer` whether the customer was made up
    (a replay makes up another), `route` a routes probe's path and query, sent as is."""

    statuses: tuple[int, ...]
    status_rule: str | None
    warn: tuple[int, ...] = ()
    warn_rule: str | None = None
    issue_call: bool = False
    fresh_customer: bool = False
    route: str | None = None


def step_note(info: ReplayInfo) -> str:
    """What a request of a stateful sequence must be answered, as its curl step's comment says."""
    if info.issue_call:
        return "a bulk issue: answered 200" + (", a coupon for each valid series the customer is asked for the "
                                                "first time" if info.fresh_customer else "")
    if info.status_rule == RuleId.AUTH_REQUIRED:
        return "without valid credentials (sent here with none): answered 401, and nothing changes"
    if info.status_rule == RuleId.REJECTS_MALFORMED:
        return "malformed: answered 400, and nothing changes"
    return "answered " + " or ".join(map(str, info.statuses))


@dataclass(slots=True)
class Finding(Record):
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
    #: The probe's class with its size left out ("string length in customer.id"): part of the fingerprint.
    probe_class: str | None = None
    #: Requests that must go before `request` for a cross-request rule to show (the one whose answer first held
    #: the code, or set the series' attributes), in the order sent; empty for every other rule.
    sequence: list[RequestSample] = field(default_factory=list)
    #: How each request of `sequence` was judged, in the same order (a stateful sequence's malformed or
    #: unauthorized steps are not bulk issues); empty: each was a bulk issue to a customer made up for the run.
    sequence_judged: list[ReplayInfo] = field(default_factory=list)
    #: How the requests were judged (None: not recorded, e.g. a summary.json of an older version).
    replay: ReplayInfo | None = None
    #: Against the run's baseline; None without one.
    baseline: BaselineStatus | None = None
    #: Seconds from the start of the run to the first time it was seen, and in which source (None: an older file).
    first_seen_s: float | None = None
    first_seen_in: str | None = None

    @property
    def curl(self) -> str | None:
        """The reproducer as it runs when pasted: the requests a cross-request rule needs first, each commented
        with what its answer showed, then the request itself; the user's credentials as $COUPON_HARNESS_*
        variables (an auth probe's own wrong credentials stay as sent). None without a recorded request."""
        if self.request is None:
            return None
        notes = None
        unauthenticated: list[bool] = []
        if self.sequence_judged and len(self.sequence_judged) == len(self.sequence):
            # A stateful sequence: each step says what it must be answered, the last what it broke; a step that
            # must be refused 401 goes without credentials (its made-up ones are redacted like the user's).
            notes = [*map(step_note, self.sequence_judged), f"breaks {self.rule_id}: {self.received}"]
            unauthenticated = [info.status_rule == RuleId.AUTH_REQUIRED for info in self.sequence_judged]
        return finding_curl(self.rule_id, self.received, self.sequence, self.request,
                            own_credentials=self.source != "auth", notes=notes, unauthenticated=unauthenticated)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule_id, self.key, self.probe_class)


@dataclass(frozen=True, slots=True)
class HarnessFault(FrozenRecord):
    """A bug in the harness inside one stage of a run: that stage stopped, the others ran; never a finding (exit
    2). Texts are already redacted."""

    stage: str
    #: "TypeError: Integer exceeds 64-bit range"
    error: str
    traceback: str

    @property
    def file_name(self) -> str:
        """The report file that holds the traceback."""
        return f"harness-error-{self.stage.replace('/', '-')}.txt"


@dataclass(frozen=True, slots=True)
class RunShape(FrozenRecord):
    """Everything that shaped a run and can be given on the command line again: the report's Replay line.
    Credentials are only named by kind ("basic", "basic-md5", "token", "oauth"), never kept."""

    base_url: str
    series_ids: tuple[int, ...] = ()
    invalid_series_ids: tuple[int, ...] = ()
    generic_series_ids: tuple[int, ...] = ()
    unique_generic: bool = False
    customer_ids: tuple[str, ...] = ()
    max_examples: int = 100
    request_timeout: float = 5.0
    credentials: str | None = None
    allow_production: bool = False
    #: The passes run, when not all of them (`--passes`).
    passes: tuple[str, ...] = ()
    clock_skew_s: float = 300.0
    #: The target was the sandbox `coupon-harness run` started for the run (and stopped after it).
    sandbox_started: bool = False
    #: The rules left out (`--rules`, `--exclude-rules`), replayed as `--exclude-rules`.
    left_out_rules: tuple[str, ...] = ()
    #: The names of the extra headers (`-H`), never their values: replayed as variable references.
    header_names: tuple[str, ...] = ()
    #: TLS as given: --no-tls-verify, --cacert, --client-cert/--client-key (paths, not secrets).
    tls_verify: bool = True
    cacert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None


@dataclass(frozen=True, slots=True)
class FixedEntry(FrozenRecord):
    """A baseline entry the run exercised but did not see: the file can lose it."""

    fingerprint: str
    rule_id: str
    description: str


@dataclass(slots=True)
class BaselineSummary(Record):
    """The run judged against a baseline file: known and new findings are marked on each Finding."""

    file: str
    #: Entries whose rule the run exercised and whose finding it did not see.
    fixed: list[FixedEntry] = field(default_factory=list)
    #: One line per expired entry that matched a finding (it counts as new).
    warnings: list[str] = field(default_factory=list)
    #: The file was rewritten from this run (--baseline-update).
    updated: bool = False


@dataclass(slots=True)
class RuleResult(Record):
    rule: Rule
    outcome: Outcome
    #: How many exchanges the rule was judged on.
    checks: int
    findings: list[Finding] = field(default_factory=list)
    #: Why the rule was not run, when outcome is NOT_RUN.
    reason: str | None = None


@dataclass(slots=True)
class ContractRunResult(RunResult):
    JSON_FORMAT: ClassVar[str] = "contract-result"

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
    #: Each pass run: its name and when it began and ended (seconds from the run's start), in order.
    pass_spans: list[tuple[str, float, float]] = field(default_factory=list)
    #: What shaped the run, for the Replay line (None: unknown, e.g. an older summary.json).
    shape: RunShape | None = None
    #: The run judged against --baseline (None without one).
    baseline: BaselineSummary | None = None
    #: --workers: requests the run could send at once (1: one at a time).
    workers: int = 1
    #: The most requests the run held open at once (0: unknown, a file of an older version).
    concurrency_peak: int = 0

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.rules if r.outcome is Outcome.FAILED]

    @property
    def holds(self) -> bool:
        """The gate: no rule of error or critical severity was broken."""
        return not self.failed
