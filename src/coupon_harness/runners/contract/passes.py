"""The one registry of contract passes: each pass of `results.passes.PASS_TABLE` with its runner, checked against
the table at import, both ways. The contract run and the differential run both send their passes through
`run_pass` (the diff's `PairClient` is a contract `Client`; only the classics are sent differently there: not
judged, each probe under its own name), and `run_guarded` makes a harness bug in one pass its fault.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from coupon_harness.coupon_log import CouponLogError
from coupon_harness.results.contract import HarnessFault
from coupon_harness.results.passes import PASS_TABLE, PassInfo
from coupon_harness.runners.contract.classics import run_classics, send_classics
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.collector import harness_fault
from coupon_harness.runners.contract.hypothesis_constants import without_local_constants
from coupon_harness.runners.contract.probes import run_auth_probes, run_malformed_probes
from coupon_harness.runners.contract.property_pass import PropertyInterrupted, run_property_pass
from coupon_harness.runners.contract.routes import run_route_probes
from coupon_harness.runners.contract.scenarios import run_scenarios
from coupon_harness.runners.contract.schemathesis_adapter import Mode
from coupon_harness.runners.contract.stateful import run_stateful
from coupon_harness.runners.contract.strings import run_strings
from coupon_harness.transport.auth import AuthError

__all__ = ["REGISTRY", "RUN_ENDERS", "Pass", "PassRunner", "run_guarded", "run_pass"]

#: What ends the run, not only the pass: Ctrl-C, a refused token, a coupons.csv that cannot be written.
RUN_ENDERS = (KeyboardInterrupt, PropertyInterrupted, AuthError, CouponLogError)

#: A pass's runner: it sends through the client (judged by its Judge), with the credentials' headers and progress.
PassRunner = Callable[[Client, Callable[[], dict[str, str]], Callable[[str], None]], object]


@dataclass(frozen=True, slots=True)
class Pass:
    info: PassInfo
    run: PassRunner
    #: How a differential run sends it, when not as `run` does.
    diff_run: PassRunner | None = None


def _plain(runner: Callable[[Client, Callable[[str], None]], object]) -> PassRunner:
    return lambda client, _headers, progress: runner(client, progress)


def _generated(mode: Mode) -> PassRunner:
    return lambda client, headers, progress: run_property_pass(client, mode, headers=headers, progress=progress)


#: name -> (runner, the differential run's own runner or None).
_RUNNERS: dict[str, tuple[PassRunner, PassRunner | None]] = {
    "classics": (_plain(run_classics), _plain(send_classics)),
    "strings": (_plain(run_strings), None),
    "property-positive": (_generated("positive"), None),
    "property-negative": (_generated("negative"), None),
    "scenarios": (_plain(run_scenarios), None),
    "stateful": (_plain(run_stateful), None),
    "auth": (_plain(run_auth_probes), None),
    "routes": (_plain(run_route_probes), None),
    "malformed": (_plain(run_malformed_probes), None),
}


def _registry() -> dict[str, Pass]:
    named = {info.name for info in PASS_TABLE}
    if named != set(_RUNNERS):
        raise RuntimeError(f"results.passes and the runners disagree: passes without a runner "
                           f"{sorted(named - set(_RUNNERS))}, runners without a pass {sorted(set(_RUNNERS) - named)}")
    registry = {info.name: Pass(info, *_RUNNERS[info.name]) for info in PASS_TABLE}
    stray = [p.info.name for p in registry.values() if p.diff_run is not None and not p.info.diff]
    if stray:
        raise RuntimeError(f"a differential runner for passes the differential run does not send: {stray}")
    return registry


#: Every pass by name, in the order of PASS_TABLE.
REGISTRY: dict[str, Pass] = _registry()


def run_pass(name: str, client: Client, headers: Callable[[], dict[str, str]], progress: Callable[[str], None], *,
             diff: bool = False) -> None:
    """Send pass `name` through `client` (`diff`: as a differential run sends it); an unknown name is a ValueError."""
    entry = REGISTRY.get(name)
    if entry is None or (diff and not entry.info.diff):
        raise ValueError(f"unknown pass {name!r}")
    runner = entry.diff_run if diff and entry.diff_run is not None else entry.run
    with without_local_constants():  # the same seed sends the same cases in any process
        runner(client, headers, progress)


def run_guarded(name: str, client: Client, headers: Callable[[], dict[str, str]], progress: Callable[[str], None],
                *, diff: bool = False, log: logging.Logger | None = None) -> HarnessFault | None:
    """`run_pass`, where a harness bug (any exception but RUN_ENDERS) stops this pass only: logged to `log`, told to
    `progress` and returned as its redacted fault (stage `diff-<name>` in a differential run)."""
    try:
        run_pass(name, client, headers, progress, diff=diff)
    except RUN_ENDERS:
        raise
    except Exception as exc:
        if log is not None:
            log.debug("pass %s: harness error", name, exc_info=True)  # redacted by the handler
        progress(f"{name}: harness error ({type(exc).__name__}); going on with the next pass")
        return harness_fault(f"diff-{name}" if diff else name, exc, client.judge.redactor)
    return None
