"""A whole run records its findings timeline: each pass's span, in order, and each finding's first sighting on
the same clock (the first one of a failing rule is the run's first finding, seen in the classics pass)."""

from __future__ import annotations

from coupon_harness.runners.contract import PASSES
from selftest.harness import describe, run_against_sandbox
from targets.broken import BROKEN, CLASSICS


def test_a_run_records_pass_spans_and_when_each_finding_was_first_seen() -> None:
    variant = next(v for v in BROKEN if v.passes == CLASSICS and not v.warning)
    result = run_against_sandbox(mutate=variant.mutate(), before=variant.before, max_examples=5)
    report = describe(result)
    assert [name for name, *_ in result.pass_spans] == [name for name, _ in result.passes] == list(PASSES), report
    ends = [0.0] + [t for _, began, ended in result.pass_spans for t in (began, ended)]
    assert ends == sorted(ends), result.pass_spans
    findings = [f for r in result.rules for f in r.findings]
    assert findings and all(f.first_seen_s is not None and f.first_seen_in for f in findings), report
    classics = next(span for span in result.pass_spans if span[0] == "classics")
    first = min(findings, key=lambda f: f.first_seen_s or 0.0)
    assert first.first_seen_s == result.first_finding_s and first.first_seen_in == result.first_finding_source
    assert classics[1] <= (first.first_seen_s or 0.0) <= classics[2], (first, classics)
