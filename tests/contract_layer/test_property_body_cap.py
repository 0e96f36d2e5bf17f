"""The Schemathesis property passes read at most `max_body_bytes` of an answer, as the harness's client does.

A target that answers every request with 5 MB (streamed) under a 64 KiB cap: the property passes cut every
answer and judge it as the client path does (`transport`, kind `too-large`, "body larger than N bytes"), and
no exchange the Judge sees holds more than the cap. The plain sandbox under the same cap: no such finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from coupon_harness.results.contract import ContractRunResult, Finding
from coupon_harness.runners.contract.exchange import Exchange
from coupon_harness.runners.contract.judge import Judge
from selftest.harness import describe, run_against_sandbox, run_against_url
from targets.garbage import huge
from targets.serving import serving_raw

CAP = 64 * 1024
ANSWER = 5 * 1024 * 1024
PASSES = ("property-positive", "property-negative")
#: Every answer is cut, so every request is a transport failure: let the passes run past the default stop.
SETTINGS: dict[str, Any] = {"passes": PASSES, "max_examples": 5, "max_body_bytes": CAP, "request_timeout": 2.0,
                            "max_transport_failures": 40}


@dataclass(frozen=True, slots=True)
class Seen:
    source: str
    size: int
    error: str | None
    detail: str


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Seen]]:
    """Every exchange the Judge is handed during the test: its source, body size and transport error."""
    seen: list[Seen] = []
    original = Judge.judge

    def spy(self: Judge, exchange: Exchange, *args: Any, **kwargs: Any) -> None:
        source = args[2] if len(args) > 2 else kwargs["source"]
        seen.append(Seen(source, len(exchange.body), exchange.error, exchange.error_detail))
        original(self, exchange, *args, **kwargs)

    monkeypatch.setattr(Judge, "judge", spy)
    yield seen


def _too_large(result: ContractRunResult) -> list[Finding]:
    return [f for r in result.rules if r.rule.id == "transport" for f in r.findings if f.key == "too-large"]


def test_property_passes_cut_an_oversized_answer(judged: list[Seen]) -> None:
    with serving_raw(huge(ANSWER)) as base_url:
        result = run_against_url(base_url, **SETTINGS)
    report = describe(result)
    assert not result.faults, report
    prop = [s for s in judged if s.source.startswith("property/")]
    assert prop, report
    # Judged as the client path judges it: one finding, same kind and wording.
    for item in prop:
        assert (item.error, item.detail) == ("too-large", f"body larger than {CAP} bytes"), item
    # Nothing past the cap was kept, by either path.
    assert max(s.size for s in judged) <= CAP + 65536  # the client path keeps the chunk that crossed the cap
    assert max(s.size for s in prop) <= CAP
    findings = _too_large(result)
    assert len(findings) == 1, report
    finding = findings[0]
    assert finding.received == f"body larger than {CAP} bytes"
    assert finding.source.startswith("property/"), report  # property cases are smaller than the preflight's
    assert finding.occurrences == sum(1 for s in judged if s.error == "too-large")
    assert finding.response_excerpt.startswith('{"response": [')
    assert finding.response_excerpt.endswith(" bytes)"), finding.response_excerpt[-80:]


def test_correct_target_under_the_same_cap_has_no_such_finding(judged: list[Seen]) -> None:
    result = run_against_sandbox(**SETTINGS)
    report = describe(result)
    assert any(s.source.startswith("property/") for s in judged), report
    assert not _too_large(result), report
    assert all(s.error is None for s in judged), report
    assert result.holds, report
