"""Passes beside each other (`--workers` above 1): Schemathesis' positive and negative passes, each in a thread of
its own and judged into its own collector (`collector.PassCollector`), merged into the run's in the passes' order
once both ended, their progress lines held and told in that order too. So the report reads as if they had run one
after the other. They share the run's Ledger and memory under the Judge's lock, the pacer and the transport streak.

From ALONGSIDE_FROM workers on, the deterministic passes of ALONGSIDE next to them run meanwhile, one after the
other in a third thread, merged in order too; their lanes use the threads the generated passes leave (Schemathesis
sends one case at a time), so the run still holds at most N requests open.
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

#: Passes that may run beside each other: no input from one another's findings, cases drawn by their own engine.
BESIDE = frozenset({"property-positive", "property-negative"})
#: Deterministic passes that may run beside the generated ones: no input from earlier findings (the stateful pass
#: looks for what the passes before it did not find, so it stays out).
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
    """Run `names` at once and merge their findings into the run's collector in order. A harness bug of one pass is
    its fault; what ends a run (`passes.RUN_ENDERS`) is raised here once all ended, as when run alone."""
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
    """A deterministic pass's collector beside the generated ones: stopped by a Ctrl-C too (the CLI's handler
    raises only in the main thread), so its loop ends at the next request."""

    def stop_reason(self) -> str | None:
        if self.run.stopped is None and interrupts.received() is not None:
            return "interrupted"
        return self.run.stopped


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
