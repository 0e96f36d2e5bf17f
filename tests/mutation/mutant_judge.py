"""The tests mutmut runs against each mutant (scripts/mutation_score.py): one default contract run per credential
form. A test passes when its run holds, so a failing test is a killed mutant. Not collected by the suite (the
file name matches no test pattern); given to pytest by path.

With COUPON_HARNESS_MUTATION_VERDICTS set, each run's verdict is written there as <mutant>.<form>.json, so the
score tells a violation from a refusal or a harness fault.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mutation.judge import FORMS, judge

#: Mutants of these modules never see the credentials (the user a request authenticates as is not passed on):
#: the basic run alone judges them.
_CREDENTIAL_BLIND = ("coupon_harness.sandbox.issuer.", "coupon_harness.sandbox.codes.")


@pytest.mark.parametrize("form", FORMS)
def test_contract_run_holds(form: str) -> None:
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    if form != FORMS[0] and mutant.startswith(_CREDENTIAL_BLIND):
        pytest.skip("the credential form cannot change what this mutant does")
    verdict = judge(form, stop_at_first_failure=bool(os.environ.get("COUPON_HARNESS_MUTATION_FIRST_FAILURE")))
    folder = os.environ.get("COUPON_HARNESS_MUTATION_VERDICTS")
    if folder and mutant not in ("", "stats", "fail", "mutant_generation"):
        verdict.write(Path(folder), mutant)
    assert not verdict.killed, verdict.reasons
    assert verdict.exit_code == 0, verdict.reasons
