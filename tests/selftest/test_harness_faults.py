"""A bug in the harness inside one pass is a HarnessFault of that pass; the other passes still run."""

from __future__ import annotations

from typing import Any

import pytest

from coupon_harness.runners.contract.judge import Judge
from selftest.harness import describe, run_against_sandbox


@pytest.mark.parametrize("broken_source", ["property/positive", "classics", "scenario/mixed-batch"])
def test_a_judge_that_raises_in_one_pass_faults_that_pass_only(broken_source: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    judge = Judge.judge

    def raising(self: Judge, exchange: Any, expect: Any, call: Any, source: str, *args: Any, **kw: Any) -> None:
        if source == broken_source:
            raise TypeError("unhashable type: 'list'")
        judge(self, exchange, expect, call, source, *args, **kw)

    monkeypatch.setattr(Judge, "judge", raising)
    result = run_against_sandbox(passes=("classics", "property-positive", "scenarios", "auth"), max_examples=5)
    stage = {"property/positive": "property-positive", "scenario/mixed-batch": "scenarios"}.get(broken_source,
                                                                                                 broken_source)
    assert [fault.stage for fault in result.faults] == [stage], describe(result)
    fault = result.faults[0]
    assert fault.error == "TypeError: unhashable type: 'list'"
    assert "Traceback (most recent call last)" in fault.traceback and "raising" in fault.traceback
    assert [name for name, _ in result.passes] == ["classics", "property-positive", "scenarios", "auth"]
    assert dict(result.passes)["auth"] > 0, describe(result)
