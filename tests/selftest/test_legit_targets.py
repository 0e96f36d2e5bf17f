"""Correct servers that differ where RFC 9110 lets them (issue 16, item 5) pass a default contract run under
every seed with no finding at all, and each difference was met by the run (not passed for want of a request)."""

from __future__ import annotations

from collections import Counter

import pytest
from aiohttp import web

from coupon_harness.results.contract import Outcome
from coupon_harness.runners.contract import PASSES
from selftest.harness import PATIENT_S, SEEDS, describe, rule, run_against_sandbox, run_against_url
from targets.legit import LEGIT, Legit, options_204


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("legit", LEGIT, ids=lambda legit: legit.name)
def test_a_legitimately_different_server_passes(legit: Legit, seed: int) -> None:
    with legit.serving() as url:
        result = run_against_url(url, max_examples=20, seed=seed, request_timeout=PATIENT_S)
    report = describe(result)
    assert [name for name, _ in result.passes] == list(PASSES), report
    assert not result.interrupted and not result.faults, report
    assert [r.rule.id for r in result.rules if r.findings] == [], report
    assert [r.rule.id for r in result.rules if r.outcome is Outcome.NOT_RUN] == [], report
    assert result.holds, report
    assert legit.answered[legit.exercised] > 0, (legit.name, dict(legit.answered))


def test_an_options_answer_whose_allow_omits_post_is_still_a_finding() -> None:
    """The rule still bites: a 204 to OPTIONS that says POST is not allowed contradicts the endpoint."""
    gateway = options_204(Counter())

    async def before(request: web.Request) -> web.StreamResponse | None:
        answer = await gateway(request)
        if answer is not None:
            answer.headers["Allow"] = "OPTIONS, GET"
        return answer

    result = run_against_sandbox(before=before, passes=("property-negative",), max_examples=20)
    findings = rule(result, "method-not-allowed").findings
    assert [(f.key, f.request.method if f.request else None) for f in findings] == [("allow-header", "OPTIONS")], \
        describe(result)
