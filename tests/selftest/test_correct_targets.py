"""Zero false alarms: the full default passes against correct targets that differ legitimately."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from coupon_harness.contract.expectations import Expectations
from coupon_harness.results.contract import ContractRunResult, Outcome
from coupon_harness.runners.contract import PASSES
from coupon_harness.transport.auth import Credentials
from selftest.harness import PATIENT_S, SEEDS, describe, run_against_sandbox, run_against_url
from targets.correct import (
    INDEPENDENT_GENERIC,
    INDEPENDENT_INVALID,
    INDEPENDENT_PASSWORD,
    INDEPENDENT_USER,
    INDEPENDENT_VALID,
    independent_app,
    lenient_flavour,
    variations_config,
)
from targets.serving import serving_app

MAX_EXAMPLES = 20


def _plain(seed: int) -> ContractRunResult:
    return run_against_sandbox(max_examples=MAX_EXAMPLES, seed=seed, request_timeout=PATIENT_S)


def _variations(seed: int) -> ContractRunResult:
    return run_against_sandbox(config=variations_config(), max_examples=MAX_EXAMPLES, seed=seed,
                               request_timeout=PATIENT_S)


def _lenient(seed: int) -> ContractRunResult:
    return run_against_sandbox(mutate=lenient_flavour, max_examples=MAX_EXAMPLES, seed=seed,
                               request_timeout=PATIENT_S)


def _independent(seed: int) -> ContractRunResult:
    with serving_app(independent_app()) as base_url:
        return run_against_url(
            base_url, max_examples=MAX_EXAMPLES, seed=seed, request_timeout=PATIENT_S,
            credentials=Credentials(user=INDEPENDENT_USER, password=INDEPENDENT_PASSWORD),
            expectations=Expectations(valid_series=INDEPENDENT_VALID, invalid_series=INDEPENDENT_INVALID,
                                      generic_series=INDEPENDENT_GENERIC))


TARGETS: dict[str, Callable[[int], ContractRunResult]] = {
    "plain-sandbox": _plain,
    "sandbox-variations": _variations,
    "lenient-flavour": _lenient,
    "independent-aiohttp": _independent,
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(TARGETS))
def test_correct_target_holds(name: str, seed: int) -> None:
    result = TARGETS[name](seed)
    report = describe(result)
    assert [p for p, _ in result.passes] == list(PASSES), report
    assert not result.interrupted, report
    assert not [r.rule.id for r in result.rules if r.outcome in (Outcome.FAILED, Outcome.WARNED)], report
    assert result.holds, report
    # Everything the run was given is judged: no rule is left out for lack of requests.
    assert [r.rule.id for r in result.rules if r.outcome is Outcome.NOT_RUN] == [], report
