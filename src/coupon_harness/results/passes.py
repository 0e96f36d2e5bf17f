"""The passes of a contract run by name: their order, what each sends, whether it follows the seed, and which a
differential run sends. Standard library only, apart from the runners (`runners/contract/passes.py` maps each name
to its runner, checked against this table at import): options, settings and results name passes without
importing Schemathesis.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DIFF_PASSES", "PASSES", "PASS_TABLE", "SEEDED", "PassInfo"]


@dataclass(frozen=True, slots=True)
class PassInfo:
    name: str
    #: What it sends, for `--passes`' help.
    help: str
    #: What it sends depends on `--seed` (False: the same requests on every run).
    seeded: bool
    #: A differential run (`coupon-harness diff`) sends it too.
    diff: bool


#: Every pass, in the order a run sends them (a later pass relies on what an earlier one settled: the classics
#: come first).
PASS_TABLE: tuple[PassInfo, ...] = (
    PassInfo("classics", "probes of real-world server bugs, the same on every run", seeded=False, diff=True),
    PassInfo("strings", "naughty strings in every string field", seeded=True, diff=False),
    PassInfo("property-positive", "Schemathesis cases the request schema accepts", seeded=True, diff=True),
    PassInfo("property-negative", "Schemathesis cases that break the request schema", seeded=True, diff=True),
    PassInfo("scenarios", "business scenarios over the known series", seeded=True, diff=True),
    PassInfo("stateful", "sequences of requests checked against a model", seeded=True, diff=False),
    # auth sends wrong credentials: in a differential run both targets must refuse alike.
    PassInfo("auth", "missing, wrong and malformed credentials", seeded=False, diff=True),
    PassInfo("routes", "route variants and method overrides without credentials", seeded=False, diff=False),
    PassInfo("malformed", "bodies no generator sends", seeded=False, diff=True),
)

#: Every pass of a contract run, in the order they run (`--passes` picks some of them, in this order).
PASSES: tuple[str, ...] = tuple(p.name for p in PASS_TABLE)
#: The passes a differential run sends, in order.
DIFF_PASSES: tuple[str, ...] = tuple(p.name for p in PASS_TABLE if p.diff)
#: The passes whose requests follow the seed (the others send the same requests on every run).
SEEDED: tuple[str, ...] = tuple(p.name for p in PASS_TABLE if p.seeded)

