"""The generated passes beside each other (`--workers` above 1): Schemathesis' positive and negative passes, each
in a thread of its own, each judged into its own collector (`collector.PassCollector`), merged into the run's in
the passes' order when both ended; their progress lines are held and told in that order too. So the report reads
as if they had run one after the other: the same findings in the same order, each pass's cases drawn by its own
seeded Hypothesis run as when alone. They share the run's Ledger and memory under the Judge's lock (a code one
pass was handed and the other too is a duplicate whichever saw it first), the pacer and the transport streak.

With `--workers` of ALONGSIDE_FROM and more, the deterministic passes next to them in the order (ALONGSIDE:
classics, strings, scenarios) run meanwhile, one after the other in a third thread, each into its own collector
merged in the passes' order too; their lanes send through N minus the generated passes' threads, so the run still
holds at most N requests open. Schemathesis sends its cases one at a time, so without them the N threads would idle
while the generated passes run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from coupon_harness import interrupts
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.collector import Collector, PassCollector
from coupon_harness.runners.contract.passes import RUN_ENDERS, run_guarded
from coupon_harness.runners.contract.sequences import RecordingJudge

__all__ = ["ALONGSIDE", "ALONGSIDE_FROM", "BESIDE", "PassDone", "run_beside"]

_log = logging.getLogger(__name__)

#: Passes that may run beside each other: no input from one another's findings, cases drawn by their own seeded
#: engine. The stateful pass is not one (it looks for what the passes before it did not find).
BESIDE = frozenset({"property-positive", "property-negative"})
#: Deterministic passes that may run beside the generated ones (one after the other, in a thread of their own): no
#: input from earlier findings. The stateful pass and those after it stay out (it looks for what the passes before it
#: did not find).
ALONGSIDE = frozenset({"classics", "strings", "scenarios"})
#: The fewest workers with which ALONGSIDE passes join the generated ones: their lanes keep at least two threads.
ALONGSIDE_FROM = 4


@dataclass(slots=True)
class PassDone:
    """How one pass beside others went: its requests, its span on the run's clock, the lines it told."""

    name: str
    #: It ran (a pass after the run stopped did not).
    ran: bool = False
    requests: int = 0
    began: float = 0.0
    ended: float = 0.0
    lines: list[str] = field(default_factory=list)
    error: BaseException | None = None


def run_beside(names: Sequence[str], client: Client, headers: Callable[[], dict[str, str]],
               progress: Callable[[str], None]) -> list[PassDone]:
    """Run `names` (passes of BESIDE) at once and merge their findings into the run's collector in order. A harness
    bug of one pass is its fault (the other goes on); a Ctrl-C, a coupons.csv that cannot be written or a refused
    token is raised here once both ended, as when run alone."""
    run = client.judge.collector
    progress(f"{', '.join(names)}: started beside each other (--workers {client.settings.workers}); their lines "
             f"follow when {'both' if len(names) == 2 else 'all'} ended")
    outcomes = [PassDone(name) for name in names]
    scratch = [PassCollector(run) if done.name in BESIDE else _Alongside(run) for done in outcomes]
    generated = [(done, own) for done, own in zip(outcomes, scratch, strict=True) if done.name in BESIDE]
    others = [(done, own) for done, own in zip(outcomes, scratch, strict=True) if done.name not in BESIDE]
    threads = [threading.Thread(target=_one, args=(done, _client_for(client, own), headers),
                                name=f"coupon-harness-{done.name}")
               for done, own in generated]
    if others:  # their lanes: the threads the generated passes leave
        lanes = max(1, client.settings.workers - len(generated))
        threads.append(threading.Thread(target=_in_turn, args=(others, client, lanes, headers),
                                        name="coupon-harness-alongside"))
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C in this thread: each pass sees it (interrupts.received) and stops
        for thread in threads:
            thread.join()
        raise
    ran = [done for done in outcomes if done.ran]
    for done, own in zip(outcomes, scratch, strict=True):
        run.absorb(own)
        for line in done.lines:
            progress(line)
    for done in outcomes:
        if done.error is not None:
            raise done.error
    return ran


class _Alongside(PassCollector):
    """A deterministic pass's collector beside the generated ones: stopped by a Ctrl-C too (noted by the CLI's
    handler; it raises only in the main thread), so its loop ends at the next request instead of running out."""

    @property
    def stopped(self) -> str | None:
        if self.run.stopped is None and interrupts.received() is not None:
            return "interrupted"
        return self.run.stopped

    @stopped.setter
    def stopped(self, reason: str | None) -> None:
        if reason is not None and self.run.stopped is None:
            self.run.stopped = reason


def _in_turn(passes: list[tuple[PassDone, PassCollector]], client: Client, lanes: int,
             headers: Callable[[], dict[str, str]]) -> None:
    """The deterministic passes beside the generated ones, one after the other, each with `lanes` sending threads;
    the rest is skipped once the run stopped, a Ctrl-C came or one met an error that ends the run."""
    for done, own in passes:
        if own.stopped is not None:
            break
        _one(done, _client_for(client, own, lanes), headers)
        if done.error is not None:
            break
    if interrupts.received() is not None and not any(done.error for done, _ in passes):
        passes[-1][0].error = KeyboardInterrupt()


def _client_for(client: Client, collector: Collector, workers: int | None = None) -> Client:
    judge = client.judge
    own = replace(judge, collector=collector)
    own.lock = judge.lock  # one exchange judged at a time over the run
    if isinstance(judge, RecordingJudge) and isinstance(own, RecordingJudge):
        own.history = judge.history  # the earlier requests a cross-request finding needs, over the run
    return client.beside(own, workers)


def _one(done: PassDone, client: Client, headers: Callable[[], dict[str, str]]) -> None:
    collector = client.judge.collector
    assert isinstance(collector, PassCollector)
    done.ran = True
    done.began = collector.elapsed()
    done.lines.append(f"{done.name}: started")
    try:
        fault = run_guarded(done.name, client, headers, done.lines.append, log=_log)
    except RUN_ENDERS as exc:
        done.error = exc
    else:
        if fault is not None:  # a harness bug: this pass stops, the other goes on
            collector.fault(fault)
    finally:
        client.close()
        done.requests = collector.sent_here
        done.ended = collector.elapsed()
