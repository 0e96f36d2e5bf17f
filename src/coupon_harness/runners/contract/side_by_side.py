"""The generated passes beside each other (`--workers` above 1): Schemathesis' positive and negative passes, each
in a thread of its own, each judged into its own collector (`collector.PassCollector`), merged into the run's in
the passes' order when both ended; their progress lines are held and told in that order too. So the report reads
as if they had run one after the other: the same findings in the same order, each pass's cases drawn by its own
seeded Hypothesis run as when alone. They share the run's Ledger and memory under the Judge's lock (a code one
pass was handed and the other too is a duplicate whichever saw it first), the pacer and the transport streak.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.collector import Collector, PassCollector, harness_fault
from coupon_harness.runners.contract.passes import run_pass
from coupon_harness.runners.contract.sequences import RecordingJudge

__all__ = ["BESIDE", "PassDone", "run_beside"]

_log = logging.getLogger(__name__)

#: Passes that may run beside each other: no input from one another's findings, cases drawn by their own seeded
#: engine. The stateful pass is not one (it looks for what the passes before it did not find).
BESIDE = frozenset({"property-positive", "property-negative"})


@dataclass(slots=True)
class PassDone:
    """How one pass beside others went: its requests, its span on the run's clock, the lines it told."""

    name: str
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
             "follow when both ended")
    outcomes = [PassDone(name) for name in names]
    scratch = [PassCollector(run) for _ in names]
    threads = [threading.Thread(target=_one, args=(done, _client_for(client, own), headers),
                                name=f"coupon-harness-{done.name}")
               for done, own in zip(outcomes, scratch, strict=True)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C in this thread: each pass sees it (interrupts.received) and stops
        for thread in threads:
            thread.join()
        raise
    for done, own in zip(outcomes, scratch, strict=True):
        run.absorb(own)
        for line in done.lines:
            progress(line)
    for done in outcomes:
        if done.error is not None:
            raise done.error
    return outcomes


def _client_for(client: Client, collector: Collector) -> Client:
    judge = client.judge
    own = replace(judge, collector=collector)
    own.lock = judge.lock  # one exchange judged at a time over the run
    if isinstance(judge, RecordingJudge) and isinstance(own, RecordingJudge):
        own.history = judge.history  # the earlier requests a cross-request finding needs, over the run
    return client.beside(own)


def _one(done: PassDone, client: Client, headers: Callable[[], dict[str, str]]) -> None:
    from coupon_harness.runners.contract.property_pass import PropertyInterrupted
    from coupon_harness.transport.auth import AuthError

    collector = client.judge.collector
    assert isinstance(collector, PassCollector)
    done.began = collector.elapsed()
    done.lines.append(f"{done.name}: started")
    try:
        run_pass(done.name, client, headers, done.lines.append)
    except (KeyboardInterrupt, PropertyInterrupted, AuthError) as exc:
        done.error = exc
    except Exception as exc:  # a harness bug: this pass stops, the other goes on
        from coupon_harness.coupon_log import CouponLogError

        if isinstance(exc, CouponLogError):
            done.error = exc
        else:
            _log.debug("pass %s: harness error", done.name, exc_info=True)
            collector.fault(harness_fault(done.name, exc, client.judge.redactor))
            done.lines.append(f"{done.name}: harness error ({type(exc).__name__}); going on with the next pass")
    finally:
        client.close()
        done.requests = collector.sent_here
        done.ended = collector.elapsed()
