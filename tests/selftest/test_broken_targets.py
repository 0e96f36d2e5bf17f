"""Every deliberately broken target is caught, and the harness names the rule it breaks."""

from __future__ import annotations

import pytest

from coupon_harness.contract.catalog import rules
from coupon_harness.results.contract import Outcome
from coupon_harness.runners.contract import PASSES
from selftest.harness import SEEDS, describe, rule, run_against_sandbox
from targets.broken import BROKEN, CLASSICS, Broken

#: Rules no sandbox variant can break on its own (none today: every rule has a variant).
UNBREAKABLE: frozenset[str] = frozenset()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", BROKEN, ids=[v.name for v in BROKEN])
def test_broken_target_is_caught(variant: Broken, seed: int) -> None:
    result = run_against_sandbox(mutate=variant.mutate(), before=variant.before, passes=variant.passes,
                                 max_examples=20, seed=seed, **variant.settings)
    report = describe(result)
    named = rule(result, variant.rule)
    if not named.findings and variant.also:
        named = next((rule(result, other) for other in variant.also if rule(result, other).findings), named)
    if variant.warning:
        assert named.outcome is Outcome.WARNED, report
        assert result.holds, report
    else:
        assert named.outcome is Outcome.FAILED, report
        assert result.holds is False, report
    assert named.findings, report
    for finding in named.findings:
        assert finding.rule_id in (variant.rule, *variant.also)
        assert finding.seed == result.seed
        if finding.request is not None:
            curl = finding.request.curl
            assert curl.startswith("curl -X "), curl
            assert "/v2/coupon/bulk/issue" in curl, curl
            assert "sandbox:sandbox" not in curl and "c2FuZGJveDpzYW5kYm94" not in curl, curl
    if variant.rule != "transport":
        assert any(f.request is not None for f in named.findings), report
    if variant.probe:
        assert variant.probe in {f.probe for f in named.findings}, report


def test_every_rule_has_a_broken_variant() -> None:
    covered = {variant.rule for variant in BROKEN}
    assert {r.id for r in rules()} - covered - UNBREAKABLE == set()


def test_variant_names_are_unique() -> None:
    names = [variant.name for variant in BROKEN]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("variant", [v for v in BROKEN if v.passes == CLASSICS], ids=lambda v: v.name)
def test_classic_bugs_are_found_first_by_the_classics_pass(variant: Broken) -> None:
    """In a whole default run the classics pass comes first, so it makes the first finding of the run."""
    result = run_against_sandbox(mutate=variant.mutate(), before=variant.before, max_examples=5)
    report = describe(result)
    assert [name for name, _ in result.passes] == list(PASSES), report
    if variant.warning:
        assert result.holds and result.first_finding_s is None, report
        assert rule(result, variant.rule).findings[0].source == "classics", report
    else:
        assert not result.holds, report
        assert result.first_finding_source == "classics", report
        assert result.first_finding_s is not None, report
