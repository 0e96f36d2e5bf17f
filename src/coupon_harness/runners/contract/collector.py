"""Gathers findings from every pass, one per distinct (rule, kind), and counts what was checked."""

from __future__ import annotations

import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from coupon_harness.contract.catalog import Need, RuleId, canonical_rule_id, get_rule, rules
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.violations import Violation
from coupon_harness.results.contract import Finding, HarnessFault, Outcome, ReplayInfo, RequestSample, RuleResult
from coupon_harness.transport.auth import Redactor

__all__ = ["Collector", "PassCollector", "RecordContext", "ScratchCollector", "harness_fault"]


class RecordContext(threading.local):
    """What the exchange judged on this thread adds to its findings (set by `RecordingJudge`): how it was judged,
    and per rule id the earlier requests a cross-request rule needs."""

    replay: ReplayInfo | None = None
    sequences: dict[str, list[RequestSample]] | None = None


class Collector:
    """Thread-safe: the property passes may call it from Schemathesis' worker threads."""

    def __init__(self, seed: int, max_transport_failures: int, redactor: Redactor | None = None, *,
                 left_out: Mapping[str, str] | None = None) -> None:
        self._seed = seed
        #: Rules the user left out (--rules, --exclude-rules) -> why: never a finding, reported not run.
        self.left_out: Mapping[str, str] = dict(left_out or {})
        #: Every text a finding or note keeps passes through it (a target may echo credentials anywhere).
        self._redactor = redactor
        self._started = time.monotonic()
        self._findings: dict[tuple[str, str, str | None], Finding] = {}
        self._checks: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._transport_streak = 0
        self._max_transport_failures = max_transport_failures
        self.requests = 0
        #: Set when the target stopped answering: the remaining passes are skipped.
        self.stopped: str | None = None
        #: Things the harness itself could not do (never findings against the target).
        self.notes: list[str] = []
        #: Harness bugs, one per stage that met one.
        self.faults: list[HarnessFault] = []
        #: Seconds from construction to the first finding of a rule that fails the gate, and its source.
        self.first_finding: tuple[float, str] | None = None
        self.context = RecordContext()
        #: Called after each request is counted, outside the lock (the run's progress figures).
        self.on_sent: Callable[[], None] | None = None

    def elapsed(self) -> float:
        """Seconds since the collector was made: the clock of every time the result records."""
        return round(time.monotonic() - self._started, 3)

    def fault(self, fault: HarnessFault) -> None:
        with self._lock:
            self.faults.append(fault)

    def _clean(self, text: str) -> str:
        return self._redactor.text(text) if self._redactor is not None else text

    def note(self, text: str) -> None:
        text = self._clean(text)
        with self._lock:
            if text not in self.notes and len(self.notes) < 20:
                self.notes.append(text)

    def checked(self, rule_ids: Iterable[str]) -> None:
        """Count a check of each rule; an id that names no rule raises UnknownRuleError."""
        known = [canonical_rule_id(rule_id) for rule_id in rule_ids]
        with self._lock:
            self._checks.update(known)

    def sent(self, *, transport_ok: bool) -> None:
        with self._lock:
            self.requests += 1
            self._transport_streak = 0 if transport_ok else self._transport_streak + 1
            if self._transport_streak >= self._max_transport_failures and self.stopped is None:
                self.stopped = f"the target failed {self._transport_streak} requests in a row at the transport level"
        if self.on_sent is not None:
            self.on_sent()

    def record(self, violation: Violation, request: RequestSample | None, status: int | None, excerpt: str,
               source: str, probe: str | None = None, group: str | None = None, *,
               steps: tuple[ReplayInfo, list[RequestSample], list[ReplayInfo]] | None = None) -> None:
        """Keep one finding per (rule, kind, probe group): a deterministic probe's bug class is its own finding;
        probes of one `group` (one bug at several sizes) share one, reproduced by the smallest. `steps`: how the
        request and the earlier ones of its sequence were judged (the stateful pass); otherwise from `context`."""
        get_rule(violation.rule_id)  # a Violation names a rule already; a look-alike must too (never dropped)
        if canonical_rule_id(violation.rule_id) in self.left_out:
            return
        signature = (*violation.signature, group or probe)
        if self._redactor is not None:
            violation = Violation(violation.rule_id, violation.key, self._clean(violation.expected),
                                  self._clean(violation.received))
            excerpt = self._clean(excerpt)
        replay: ReplayInfo | None
        if steps is not None:
            replay, sequence, judged = steps[0], list(steps[1]), list(steps[2])
        else:
            replay = self.context.replay
            sequence, judged = list((self.context.sequences or {}).get(violation.rule_id, ())), []
        now = self.elapsed()
        finding = Finding(rule_id=violation.rule_id, key=violation.key, expected=violation.expected,
                          received=violation.received, request=request, response_status=status,
                          response_excerpt=excerpt, source=source, seed=self._seed, probe=probe,
                          probe_class=group or probe, sequence=sequence, sequence_judged=judged, replay=replay,
                          first_seen_s=now, first_seen_in=source)
        with self._lock:
            if self.first_finding is None and get_rule(violation.rule_id).severity.fails_gate:
                self.first_finding = (now, source)
            self._keep(signature, finding)

    def _keep(self, signature: tuple[str, str, str | None], finding: Finding) -> None:
        """Under the lock: a new finding, or one more occurrence of a known one that keeps the smaller reproducer
        (a cheap stand-in for shrinking; the known one on a tie)."""
        known = self._findings.get(signature)
        if known is None:
            self._findings[signature] = finding
            return
        known.occurrences += finding.occurrences
        if finding.request is not None and known.request is not None and len(finding.request.body or "") < len(
                known.request.body or ""):
            known.request, known.received, known.expected = finding.request, finding.received, finding.expected
            known.response_status, known.response_excerpt = finding.response_status, finding.response_excerpt
            known.source, known.probe, known.sequence = finding.source, finding.probe, finding.sequence
            known.replay, known.sequence_judged = finding.replay, finding.sequence_judged

    @property
    def findings(self) -> list[Finding]:
        with self._lock:
            return list(self._findings.values())

    def absorb(self, other: Collector) -> None:
        """Take `other`'s findings as if they had been recorded here after everything so far, in `other`'s order."""
        with self._lock:
            for finding in other.findings:
                self._keep((finding.rule_id, finding.key, finding.probe_class), finding)
            first = other.first_finding
            if first is not None and (self.first_finding is None or first[0] < self.first_finding[0]):
                self.first_finding = first

    def rule_results(self, expectations: Expectations, *, customer_pool: bool = False) -> list[RuleResult]:
        by_rule: dict[str, list[Finding]] = {}
        for finding in self.findings:
            by_rule.setdefault(canonical_rule_id(finding.rule_id), []).append(finding)  # unknown: raises
        results = []
        for rule in rules():
            if rule.id in self.left_out:
                results.append(RuleResult(rule=rule, outcome=Outcome.NOT_RUN, checks=0,
                                          reason=self.left_out[rule.id]))
                continue
            found = by_rule.get(rule.id, [])
            checks = self._checks[rule.id]
            reason = _unmet(rule.needs, expectations)
            if reason is None and rule.id == RuleId.VALID_SERIES_ISSUES and customer_pool and checks == 0:
                reason = "customers come from --customer-ids and may already hold coupons: a refusal proves nothing"
            if found:
                outcome = Outcome.FAILED if rule.severity.fails_gate else Outcome.WARNED
                reason = None
            elif reason is not None or checks == 0:
                outcome = Outcome.NOT_RUN
                reason = reason or "no request of this run exercised it"
            else:
                outcome = Outcome.PASSED
            results.append(RuleResult(rule=rule, outcome=outcome, checks=checks, findings=found, reason=reason))
        return results


class ScratchCollector(Collector):
    """Keeps its findings to itself, while what was sent and checked counts in the run's collector (`run`)."""

    def __init__(self, run: Collector) -> None:
        super().__init__(run._seed, run._max_transport_failures, run._redactor, left_out=run.left_out)
        self.run = run

    def sent(self, *, transport_ok: bool) -> None:
        self.run.sent(transport_ok=transport_ok)

    def checked(self, rule_ids: Iterable[str]) -> None:
        self.run.checked(rule_ids)

    def note(self, text: str) -> None:
        self.run.note(text)


class PassCollector(ScratchCollector):
    """One pass's findings while it runs beside others (`side_by_side`), merged into the run's collector once they
    all ended (`Collector.absorb`). Requests, checks, notes, faults, the clock and the stop are the run's."""

    def __init__(self, run: Collector) -> None:
        super().__init__(run)
        self.sent_here = 0

    @property
    def stopped(self) -> str | None:
        return self.stop_reason()

    @stopped.setter
    def stopped(self, reason: str | None) -> None:
        if reason is not None and self.run.stopped is None:
            self.run.stopped = reason

    def stop_reason(self) -> str | None:
        return self.run.stopped

    def sent(self, *, transport_ok: bool) -> None:
        with self._lock:
            self.sent_here += 1
        self.run.sent(transport_ok=transport_ok)

    def elapsed(self) -> float:
        return self.run.elapsed()

    def fault(self, fault: HarnessFault) -> None:
        self.run.fault(fault)


def _unmet(need: Need | None, expectations: Expectations) -> str | None:
    if need is Need.VALID_SERIES and not expectations.valid_series:
        return "needs series that issue coupons: pass --series-ids"
    if need is Need.INVALID_SERIES and not expectations.invalid_series:
        return "needs series the target must refuse: pass --invalid-series-ids"
    return None


def harness_fault(stage: str, exc: BaseException, redactor: Redactor) -> HarnessFault:
    """The exception as a redacted fault record (its traceback goes to a report file of its own)."""
    return HarnessFault(stage=stage, error=redactor.text(f"{type(exc).__name__}: {exc}"),
                        traceback=redactor.text("".join(traceback.format_exception(exc))))
