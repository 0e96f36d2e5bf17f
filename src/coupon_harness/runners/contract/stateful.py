"""The stateful pass: sequences of requests judged against a model (`stateful_model`), searched and shrunk by a
Hypothesis `RuleBasedStateMachine`.

An example is up to `STEPS` steps (`KINDS_DRAWN`) to two customers, mostly about two focus series; a refused step
is mostly followed by its retry. A finding that fails the gate, of a (rule, kind) no earlier pass found, makes the
machine raise, so Hypothesis shrinks the sequence; only the shortest failing sequence of each (rule, kind) is
recorded, its earlier requests as the finding's `sequence` (`replay` and `export-tests` send them first). Hidden
state shows where the contract says what is due: a request that must change nothing but issued shows when the
customer's first ask of a series with a per-customer limit is refused, so such series (`_Search.probe_limits`)
are the first focus.

The pass is several independent machines (`split`), each with its own seed, customers and share of the budget
(3 requests per --max-examples, at least 60), never depending on --workers: the same seed finds the same findings.
A machine's search stops at `SEARCH` of its share if it found nothing; shrinking takes the rest. Hypothesis keeps
no database and makes no final replay (the target's state has moved on); a hang or dropped connection ends the
pass without shrinking (each try would cost the request timeout).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context
from hypothesis.errors import Flaky
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, initialize, rule

from coupon_harness import interrupts
from coupon_harness.contract.catalog import RuleId, get_rule
from coupon_harness.contract.violations import Violation
from coupon_harness.results.contract import Finding, ReplayInfo, RequestSample
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.collector import Collector, PassCollector
from coupon_harness.runners.contract.stateful_model import (
    MALFORMED_VARIANTS,
    SOURCE,
    UNAUTHORIZED_VARIANTS,
    SequenceStep,
    Session,
)

__all__ = ["PROBE_CLASS", "STEPS", "Machine", "machine_seed", "request_budget", "run_stateful", "split"]

#: Most steps in one sequence (a refused step and its retry are one step).
STEPS = 6
#: Customers of a sequence (a retry adds one of its own).
CUSTOMERS = 2
#: The share of the budget the search may use before it found a failing sequence.
SEARCH = 0.75
#: The bug class a finding of a sequence of two or more requests names.
PROBE_CLASS = "stateful sequence"
#: Shortest sequences recorded, one per (rule, kind) of finding.
MAX_FINDINGS = 5

#: Most state machines of one pass (8 at the default budget).
MACHINES = 8
#: The fewest requests a machine's share holds: the search and the shrinking need some room.
SHARE = 36

Signature = tuple[str, str]


def request_budget(max_examples: int) -> int:
    """Requests the pass may send at `max_examples` (--max-examples)."""
    return max(60, 3 * max_examples)


@dataclass(frozen=True, slots=True)
class Machine:
    """One state machine of the pass: its index, seed, share of the budget and customers (None: made up)."""

    index: int
    seed: int
    budget: int
    customers: tuple[str, ...] | None


def machine_seed(seed: int, index: int) -> int:
    """The run's seed for the first machine, 64 bits of a hash of both for the others."""
    if index == 0:
        return seed
    return int.from_bytes(hashlib.sha256(f"stateful/{seed}/{index}".encode()).digest()[:8], "big")


def split(budget: int, seed: int, pool: tuple[str, ...]) -> list[Machine]:
    """At most MACHINES machines, each with at least SHARE requests of `budget` and, with a customer pool, a disjoint
    slice of it of at least CUSTOMERS customers when the pool has that many. Never depends on --workers."""
    count = min(MACHINES, max(1, budget // SHARE))
    if pool:
        count = min(count, max(1, len(pool) // CUSTOMERS))
    share, extra = divmod(budget, count)
    return [Machine(index, machine_seed(seed, index), share + (index < extra), pool[index::count] if pool else None)
            for index in range(count)]


@dataclass(slots=True)
class _Attempt:
    """The shortest failing sequence of one (rule, kind): its length, the finding of its last request, how that
    was judged, and the requests before it with how each was judged."""

    requests: int
    finding: Finding
    judged: ReplayInfo
    earlier: list[RequestSample]
    earlier_judged: list[ReplayInfo]


class _Halt(KeyboardInterrupt):
    """Leaves Hypothesis at once: it re-raises a KeyboardInterrupt without concluding the example (any other
    exception is concluded first, and may be taken for FlakyStrategyDefinition). Caught in `run_stateful`: never an
    interruption of the run."""


class _Stop(_Halt):
    """Ends the search: the budget is spent, the target stopped answering, or Hypothesis starts its final replay."""


class _Abort(_Halt):
    """Carries an exception that must leave the pass as itself out of Hypothesis (which would shrink it)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


_TYPES: dict[Signature, type[AssertionError]] = {}
_TYPES_LOCK = threading.Lock()


def _violation_type(signature: Signature) -> type[AssertionError]:
    """One exception type per (rule, kind), so Hypothesis shrinks each distinct break on its own (the same type in
    every machine's thread)."""
    with _TYPES_LOCK:
        return _TYPES.setdefault(signature, type("StatefulViolation", (AssertionError,), {"__module__": __name__}))


class _Search:
    """What every example of one state machine shares: its budget and customers, the (rule, kind)s earlier passes
    found, the shortest failing sequence of each. `run` is its `PassCollector`; `halt` set: every machine stops."""

    def __init__(self, client: Client, machine: Machine, known: set[Signature], halt: threading.Event) -> None:
        self.client = client
        self.machine = machine
        self.run = PassCollector(client.judge.collector)
        self.budget = machine.budget
        #: Requests the search may take before it finds a failing sequence; the rest is kept for shrinking one.
        self.search_budget = int(machine.budget * SEARCH)
        self.known = known
        self.halt = halt
        #: Valid series with a per-customer limit (`probe_limits`).
        self.limited: list[int] = []
        self.best: dict[Signature, _Attempt] = {}
        #: Hypothesis began its final replay (shrinking is over).
        self.replayed = False

    @property
    def sent(self) -> int:
        return self.run.sent_here

    def halted(self) -> bool:
        """Another machine stopped the pass (a harness bug, refused credentials), or Ctrl-C came."""
        return self.halt.is_set() or interrupts.received() is not None

    def customers(self, count: int, start: int) -> list[tuple[str, bool]]:
        pool = self.machine.customers
        if pool:
            return [(pool[(start + i) % len(pool)], False) for i in range(count)]
        return [(self.client.fresh_customer(), True) for _ in range(count)]

    def probe_limits(self) -> None:
        """Ask every valid series twice of one customer in one request (judged as a sequence of one): a series that
        issues the first coupon and refuses the second has a per-customer limit."""
        valid = sorted(self.client.judge.expectations.valid_series)[: self.client.settings.large_batch // 2]
        session = Session(self.client, self.run, self.customers(1, 0))
        step = SequenceStep("valid", 0, tuple(series for series in valid for _ in range(2)))
        failing = self.failing(session.send(step))
        if failing:
            self.keep([step], session, failing)
        exchange = session.last
        try:
            entities = orjson.loads(exchange.body)["response"] if exchange is not None else []
            pairs = [(entities[2 * i], entities[2 * i + 1]) for i in range(len(valid))]
            self.limited = [series for series, (first, second) in zip(valid, pairs, strict=True)
                            if not first.get("errors") and second.get("errors")]
        except (orjson.JSONDecodeError, TypeError, KeyError, IndexError, AttributeError):
            self.limited = []

    def failing(self, found: list[Finding]) -> list[Finding]:
        """The findings of a step that make a sequence fail: they fail the gate and no earlier pass found them."""
        return [f for f in found if get_rule(f.rule_id).severity.fails_gate and (f.rule_id, f.key) not in self.known]

    def keep(self, steps: list[SequenceStep], session: Session, failing: list[Finding]) -> None:
        """Remember this sequence for each (rule, kind) it broke, when it is the shortest so far."""
        for finding in failing:
            signature = (finding.rule_id, finding.key)
            best = self.best.get(signature)
            if best is not None and best.requests <= len(steps):
                continue
            self.best[signature] = _Attempt(len(steps), finding, session.judged[-1], session.samples[:-1],
                                            session.judged[:-1])


def _record(run: Collector, searches: list[_Search]) -> int:
    """Record in the run's collector the shortest sequence's finding of each (rule, kind) over the machines (the
    earlier machine's on a tie); how many (rule, kind)s failed."""
    best: dict[Signature, _Attempt] = {}
    for search in searches:
        for signature, attempt in search.best.items():
            if signature not in best or attempt.requests < best[signature].requests:
                best[signature] = attempt
    for attempt in sorted(best.values(), key=lambda a: a.requests)[:MAX_FINDINGS]:
        finding = attempt.finding
        alone = not attempt.earlier  # one request shows it: no sequence, no class
        run.record(Violation(finding.rule_id, finding.key, finding.expected, finding.received),
                   finding.request, finding.response_status, finding.response_excerpt, SOURCE,
                   None if alone else f"{PROBE_CLASS} of {attempt.requests} requests",
                   None if alone else PROBE_CLASS,
                   steps=(attempt.judged, attempt.earlier, attempt.earlier_judged))
    return len(best)


#: The kinds of step the search draws, with their weights. Draw 1 is "nothing" (no request), so Hypothesis' simplest
#: examples cost nothing. Repeated sends an earlier step again, reordered its series in another order or number,
#: shared them for the other customer; interleaved is three requests (a customer, the other, the first again).
KINDS_DRAWN: dict[str, int] = {"valid": 2, "repeated": 1, "reordered": 1, "shared": 1, "interleaved": 2,
                               "invalid-series": 2, "mixed": 1, "malformed": 3, "unauthorized": 2, "large": 1}
#: Steps that must not issue anything, and are followed by their retry two times in three.
_REFUSED = ("invalid-series", "malformed", "unauthorized")
#: A step is two numbers (its kind, the rest decoded by `_decode`): few choices for the shrinker, each try of which
#: sends a sequence again. From 1 (0 would make the shrinker reshape the example), wide and taken modulo, since
#: Hypothesis draws the bounds of a small range far more often than the rest.
_KIND = st.integers(1, 2**16)
_ARGS = st.integers(1, 2**48)

#: (kind, customer index, series picks, malformed or unauthorized variant, retried)
Draft = tuple[str, int, tuple[int, ...], str, bool]


def _decode(number: int, args: int, valid: int, invalid: int) -> Draft:
    """One step from its two numbers. A pick names a series: 0 and 1 the focuses (three in eight each), 2 + i the
    i-th valid series, -k the k-th invalid one. For repeated, reordered and shared the customer index names the
    earlier step, counted back. A refused step is retried two times in three (its valid series, well-formed)."""
    kinds = [kind for kind, weight in KINDS_DRAWN.items() for _ in range(weight)
             if invalid or kind not in ("invalid-series", "mixed")]
    if number == 1:
        return "nothing", 0, (), "", False
    kind = kinds[(number - 2) % len(kinds)]

    def take(count: int) -> int:
        nonlocal args
        args, value = divmod(args, count)
        return value

    if kind in ("repeated", "reordered", "shared"):
        return kind, 0 if take(2) else take(STEPS), (), "", False  # the last step half the time
    customer = take(CUSTOMERS)

    def good() -> int:
        draw = take(8)
        return 0 if draw < 3 else 1 if draw < 6 else 2 + take(valid)

    def bad() -> int:
        return -1 - take(invalid)

    def any_series() -> int:
        return bad() if invalid and take(3) == 0 else good()

    count = 1 + take(3)
    variant = ""
    if kind == "invalid-series":
        picks = [bad() for _ in range(count)]
    elif kind == "mixed":
        picks = [good(), bad(), *(any_series() for _ in range(count - 1))]
        cut = take(len(picks))  # rotated: the valid series is not always first
        picks = picks[cut:] + picks[:cut]
    elif kind == "large":
        picks = [any_series() for _ in range(count)]
    else:
        picks = [good() for _ in range(count)]
        if kind in ("malformed", "unauthorized"):
            variants = sorted(MALFORMED_VARIANTS if kind == "malformed" else UNAUTHORIZED_VARIANTS)
            variant = variants[take(len(variants))]
    return kind, customer, tuple(picks), variant, kind in _REFUSED and take(3) > 0


# Complexity allowed: the state machine's rules, defined together as closures over one run.
def _machine(search: _Search) -> type[RuleBasedStateMachine]:  # noqa: C901
    """The state machine of one pass, over the run's series (they are known only once the preflight ran)."""
    expectations = search.client.judge.expectations
    valid = sorted(expectations.valid_series)
    invalid = sorted(expectations.invalid_series)
    large = search.client.settings.large_batch

    class StatefulSequences(RuleBasedStateMachine):
        """One example: CUSTOMERS customers, two focus series most steps name, up to STEPS steps."""

        def __init__(self) -> None:
            if current_build_context().is_final:
                # Hypothesis replays the shrunk example to report it: the target's state has moved on, and the
                # example's answers are kept already. Stopping here reads as Flaky, which `_search` expects then.
                search.replayed = True
                raise _Stop("final replay")
            super().__init__()
            self.steps: list[SequenceStep] = []
            self.focus = (valid[0], valid[0])
            self.session: Session | None = None

        @initialize(first=_KIND, second=_KIND, start=st.integers(0, 1000))
        def customers(self, first: int, second: int, start: int) -> None:
            """The example's customers and its two focus series: the first one with a per-customer limit, the
            second one without, when the target has such series."""
            firsts = search.limited or valid
            seconds = [series for series in valid if series not in search.limited] or valid
            self.focus = (firsts[first % len(firsts)], seconds[second % len(seconds)])
            self.session = Session(search.client, search.run, search.customers(CUSTOMERS, start))

        def _series(self, pick: int) -> int:
            return invalid[-pick - 1] if pick < 0 else self.focus[pick] if pick < 2 else valid[pick - 2]

        @rule(number=_KIND, args=_ARGS)
        def request(self, number: int, args: int) -> None:
            kind, customer, picks, variant, retried = _decode(number, args, len(valid), len(invalid))
            session = self.session
            assert session is not None
            if kind == "nothing":
                return
            if kind in ("repeated", "reordered", "shared"):
                if not self.steps:
                    return
                earlier = self.steps[-1 - customer % len(self.steps)]  # counted back: most often the last one
                if kind == "reordered":  # the same series in another order, or one of them twice
                    order = tuple(reversed(earlier.series))
                    earlier = replace(earlier, series=order if order != earlier.series else order + order[:1])
                elif kind == "shared":
                    earlier = replace(earlier, customer=(earlier.customer + 1) % CUSTOMERS)
                self._send(earlier)
                return
            series = tuple(map(self._series, picks))
            if kind == "large":
                series = tuple(series[i % len(series)] for i in range(large))
            if kind == "interleaved":
                other = (customer + 1) % CUSTOMERS
                for who in (customer, other, customer):
                    self._send(SequenceStep("valid", who, series))
                return
            if retried and not search.machine.customers:
                # A customer's first request refused, then retried: whatever the first did, the retry must issue.
                customer = session.add_customer(search.customers(1, 0)[0])
            self._send(SequenceStep(kind, customer, series, variant))
            if retried:
                again = tuple(s for s in series if s in expectations.valid_series) or self.focus[:1]
                self._send(SequenceStep("valid", customer, again))

        def _send(self, step: SequenceStep) -> None:
            session = self.session
            assert session is not None
            if (search.sent >= search.budget or search.run.stopped is not None or search.halted()
                    or (not search.best and search.sent >= search.search_budget)):
                raise _Stop("budget")
            try:
                found = session.send(step)
            except (KeyboardInterrupt, _Stop, _Abort):
                raise
            except BaseException as exc:
                raise _Abort(exc) from exc
            self.steps.append(step)
            failing = search.failing(found)
            if not failing:
                return
            search.keep(self.steps, session, failing)
            if any(f.rule_id == RuleId.TRANSPORT for f in failing):
                raise _Stop("transport")  # never shrunk: every try would wait for the request timeout
            signature = (failing[0].rule_id, failing[0].key)
            raise _violation_type(signature)(f"{signature[0]} ({signature[1]}) after {len(self.steps)} requests")

    return StatefulSequences


def run_stateful(client: Client, progress: Callable[[str], None]) -> int:
    """Search, shrink and record, machine by machine (`split`); returns the number of requests sent."""
    expectations = client.judge.expectations
    if not expectations.valid_series:
        progress("stateful: skipped (no series that issue coupons: pass --series-ids)")
        return 0
    options = client.settings
    run = client.judge.collector
    known = {(f.rule_id, f.key) for f in run.findings}
    halt = threading.Event()
    machines = split(request_budget(options.max_examples), options.seed, options.customer_ids)
    searches = [_Search(client, machine, known, halt) for machine in machines]
    progress(f"stateful: {len(machines)} state machine(s), one per customer pool, "
             f"{min(options.workers, len(machines))} at a time")
    try:
        _run_machines(searches, options.workers, halt)
    finally:
        failing = _record(run, searches)
    sent = sum(search.sent for search in searches)
    progress(f"stateful: {sent} requests, {failing} failing sequence(s)")
    return sent


def _run_machines(searches: list[_Search], workers: int, halt: threading.Event) -> None:
    """One machine after the other (one worker), or `workers` at a time; the first error in machine order is
    raised once they all ended. The tests are made here, in one thread: making one calls `ast.parse`, which CPython
    3.11 does not support in two threads at once."""
    tests = [_test(search) for search in searches]
    if workers <= 1 or len(searches) == 1:
        for search, test in zip(searches, tests, strict=True):
            _search(search, test)
        return
    futures: list[Future[None]] = []
    with ThreadPoolExecutor(min(workers, len(searches)), thread_name_prefix="coupon-harness-stateful") as pool:
        futures = [pool.submit(_own_thread, search, test) for search, test in zip(searches, tests, strict=True)]
        try:
            wait(futures)
        except BaseException:  # Ctrl-C in the pass's thread: every machine stops at its next request
            halt.set()
            wait(futures)
            raise
    for future in futures:
        future.result()
    if interrupts.received() is not None:
        raise KeyboardInterrupt  # a machine stopped for it: the run ends as interrupted, as in one thread


def _own_thread(search: _Search, test: Callable[[], None]) -> None:
    try:
        _search(search, test)
    except BaseException:
        search.halt.set()  # a harness bug, refused credentials, coupons.csv: the other machines stop too
        raise


def _test(search: _Search) -> Callable[[], None]:
    """The Hypothesis test of one state machine, under its own seed."""
    # Examples often end early or send nothing (Hypothesis' simplest ones): three times as many as the search budget
    # would allow at STEPS requests each; the budget ends the search first.
    config = settings(max_examples=max(2, 3 * search.search_budget // STEPS), stateful_step_count=STEPS,
                      deadline=None, database=None, phases=[Phase.generate, Phase.shrink], derandomize=False,
                      suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False,
                      report_multiple_bugs=True)
    test: Any = get_state_machine_test(_machine(search), settings=config)
    seed(search.machine.seed)(test)
    return test  # type: ignore[no-any-return]


def _search(search: _Search, test: Callable[[], None]) -> None:
    """One state machine: probe the limits, then search and shrink."""
    if search.halted():
        return
    search.probe_limits()
    try:
        test()
    except _Stop:
        pass
    except _Abort as abort:
        raise abort.error from None
    except Flaky:
        if not search.replayed:
            # The target answered one sequence differently at two tries (its state outlives a sequence): what was
            # found until then stands.
            search.run.note("stateful: the target answered a sequence differently when it was sent again, so "
                            "shrinking stopped there")
