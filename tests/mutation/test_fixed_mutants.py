"""Twenty fixed mutants of the sandbox, each killed by the default contract run (seed 1), in-process.

The full mutation score is scripts/mutation_score.py's (BENCHMARKS.md); this keeps CI honest about it at a
fraction of the cost. Each mutant (tests/mutation/fixed_mutants.toml) is applied by swapping the mutated
function's code into the loaded sandbox module, then judged by the same judge as the score's. Each run stops
at its first finding that fails the gate: findings are never withdrawn, so the verdict is the full run's.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mutation.apply import StoredMutant, applied, mutated_source
from mutation.judge import judge

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _mutants() -> list[StoredMutant]:
    with (HERE / "fixed_mutants.toml").open("rb") as handle:
        data = tomllib.load(handle)
    return [StoredMutant(**entry) for entry in data["mutant"]]


MUTANTS = _mutants()


def test_twenty_fixed_mutants_spread_over_the_mutated_files() -> None:
    assert len(MUTANTS) == 20
    assert len({(m.module, m.function, m.before, m.after) for m in MUTANTS}) == 20
    assert {m.module.rpartition(".")[2] for m in MUTANTS} == {"app", "auth", "issuer", "codes"}


def test_every_fixed_mutant_still_applies_and_is_not_listed_as_equivalent() -> None:
    with (ROOT / "scripts" / "mutation_equivalents.toml").open("rb") as handle:
        data = tomllib.load(handle)
    equivalent = {(e["function"], e["before"], e["after"]) for e in data.get("equivalent", [])}
    outside = {e["function"] for e in data.get("outside", [])}
    for mutant in MUTANTS:
        name = mutant.module.rpartition(".")[2] + ".py"
        path = ROOT / "src" / "coupon_harness" / "sandbox" / name
        mutated_source(path.read_text(encoding="utf-8"), mutant)  # raises Stale when the line is gone
        assert (f"{name}:{mutant.function}", mutant.before, mutant.after) not in equivalent, mutant.label
        assert f"{name}:{mutant.function}" not in outside, mutant.label


def test_the_unmutated_sandbox_holds() -> None:
    verdict = judge("basic")
    assert verdict.outcome == "holds", verdict.reasons


@pytest.mark.parametrize("mutant", MUTANTS, ids=[f"{m.module.rpartition('.')[2]}:{m.function}:{i}"
                                                 for i, m in enumerate(MUTANTS)])
def test_a_fixed_mutant_is_killed(mutant: StoredMutant) -> None:
    with applied(mutant):
        verdict = judge("basic", stop_at_first_failure=True)
    assert verdict.killed, f"survived: {mutant.label} ({mutant.why})"
