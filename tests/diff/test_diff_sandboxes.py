"""Self-tests of the differential run against two sandboxes on 127.0.0.1: none found between two alike, the
contract's own leniency (500.0, +05:30, "result": null, coupon ids) normalised away, and each planted difference
found and named (another discount, another validity, another code alphabet, another error code, a missing
field); series maps line up two catalogs that number their series differently."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from coupon_harness.contract.expectations import Expectations
from coupon_harness.results.diff import DiffRunResult
from coupon_harness.runners.contract.diff import run_diff
from coupon_harness.runners.contract.diff_settings import DiffSettings
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.sandbox import (
    Answer,
    Mutate,
    RunningSandbox,
    SandboxConfig,
    Variations,
    default_config,
    running_sandbox,
)
from coupon_harness.transport.auth import Credentials

CREDENTIALS = Credentials(user="sandbox", password="sandbox")
CONFIG = default_config()
EXPECTATIONS = Expectations(valid_series=CONFIG.valid_series, invalid_series=CONFIG.invalid_series,
                            generic_series=CONFIG.generic_series)


@pytest.fixture()
def base() -> Iterator[RunningSandbox]:
    with running_sandbox(CONFIG) as sandbox:
        yield sandbox


def _diff(base: RunningSandbox, against: SandboxConfig, *, mutate: Mutate | None = None, seed: int = 7,
          series_map: dict[int, int] | None = None, **fields: Any) -> DiffRunResult:
    with running_sandbox(against, mutate=mutate) as other:
        settings = ContractSettings(base_url=base.base_url, credentials=CREDENTIALS, expectations=EXPECTATIONS,
                                    seed=seed, max_examples=10)
        return run_diff(DiffSettings(base=settings, against_url=other.base_url, against_credentials=CREDENTIALS,
                                     series_map=series_map or {}, **fields))


def _series_102(**changes: Any) -> SandboxConfig:
    return replace(CONFIG, series=tuple(replace(s, **changes) if s.id == 102 else s for s in CONFIG.series))


def _described(result: DiffRunResult) -> list[tuple[str, str, str, str]]:
    return [d.key for d in result.differences]


def test_two_sandboxes_do_not_differ(base: RunningSandbox) -> None:
    result = _diff(base, CONFIG, seed=11)
    assert result.differences == [], _described(result)
    assert not result.faults and not result.interrupted and result.stopped is None
    assert [name for name, _ in result.passes] == ["preflight", "classics", "property-positive", "property-negative",
                                                   "scenarios", "auth", "malformed"]
    assert all(count > 0 for _, count in result.passes)
    assert result.base_coupons == result.against_coupons > 100


def test_what_the_contract_allows_either_way_is_no_difference(base: RunningSandbox) -> None:
    lenient = replace(CONFIG, coupon_ids="zero", seed=99, variations=Variations(
        numbers_as_floats=True, valid_till_offset="+05:30", failed_result_null=True))
    result = _diff(base, lenient)
    assert result.differences == [], _described(result)


def _error_708(answer: Answer) -> Answer:
    if answer.status == 200:
        for entity in answer.body["response"]:
            for error in entity["errors"]:
                if error["code"] == 707:
                    error["code"] = 708
    return answer


def _no_detailed_info(answer: Answer) -> Answer:
    if answer.status == 200:
        for entity in answer.body["response"]:
            if entity["entityId"] == 102 and entity.get("result"):
                del entity["result"]["detailedInfo"]
    return answer


PLANTED = {
    "another discount": (_series_102(discount_value=15), None,
                         ("attributes", "series 102: result.discountValue", "10", "15")),
    "another validity": (_series_102(valid_days=60), None,
                         ("attributes", "series 102: result.validTill", "30 days after issue", "60 days after issue")),
    "another code alphabet": (_series_102(code_alphabet="numeric"), None,
                              ("attributes", "series 102: result.code characters after the prefix",
                               "digits, upper-case letters", "digits")),
    "another error code": (CONFIG, _error_708, ("error codes", "series 999999: errors[].code", "707", "708")),
    "a missing field": (CONFIG, _no_detailed_info,
                        ("response shape", "series 102: result.detailedInfo", "present", "missing")),
}


@pytest.mark.parametrize("name", PLANTED)
def test_each_planted_difference_is_found_and_named(base: RunningSandbox, name: str) -> None:
    against, mutate, expected = PLANTED[name]
    result = _diff(base, against, mutate=mutate)
    found = _described(result)
    assert expected in found, found
    category, where, _, _ = expected
    # Nothing else is reported: the same field elsewhere (an unknown series' 707 too) at most.
    assert {key[0] for key in found} == {category}, found
    assert all(key[1].endswith(where.split(": ", 1)[1]) for key in found), found
    difference = next(d for d in result.differences if d.key == expected)
    reproducer = difference.reproducer
    assert reproducer.base_request.url.startswith(base.base_url)
    assert reproducer.base_request.body == reproducer.against_request.body
    assert reproducer.base_status == reproducer.against_status == 200


def test_a_series_map_lines_up_two_catalogs(base: RunningSandbox) -> None:
    renumbered = replace(CONFIG, series=tuple(replace(s, id=s.id + 5000) for s in CONFIG.series))
    mapping = {s.id: s.id + 5000 for s in CONFIG.series}
    assert _diff(base, renumbered, series_map=mapping).differences == []
    unmapped = _described(_diff(base, renumbered))
    assert ("entity outcome", "series 102", "issued", "refused (707)") in unmapped
    assert ("error codes", "series 201: errors[].code", "712", "707") in unmapped


def test_the_coupon_cap_holds_on_both_targets(base: RunningSandbox) -> None:
    result = _diff(base, CONFIG, max_coupons=150)
    assert result.stopped is not None and "coupon cap" in result.stopped
    assert result.base_coupons <= 150 and result.against_coupons <= 150
    assert result.differences == []


def test_a_customer_map_sends_b_its_own_customers(base: RunningSandbox) -> None:
    seen: set[str] = set()

    def record(answer: Answer) -> Answer:
        request = answer.request_json
        if isinstance(request, dict) and isinstance(request.get("customer"), dict):
            seen.add(str(request["customer"].get("id")))
        return answer

    with running_sandbox(CONFIG, mutate=record) as other:
        settings = ContractSettings(base_url=base.base_url, credentials=CREDENTIALS, expectations=EXPECTATIONS,
                                    seed=3, max_examples=5, customer_ids=("c1", "c2"))
        result = run_diff(DiffSettings(base=settings, against_url=other.base_url, against_credentials=CREDENTIALS,
                                       customer_map={"c1": "d1", "c2": "d2"},
                                       passes=("classics", "scenarios")))
    assert {"d1", "d2"} <= seen and not {"c1", "c2"} & seen
    assert result.differences == [], _described(result)


def test_the_same_seed_sends_the_same_cases_to_both_targets(base: RunningSandbox,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    import coupon_harness.runners.contract.diff as diff_runner
    from coupon_harness.runners.contract.exchange import send as real_send

    sent: list[tuple[str, bytes | None]] = []

    def recording(session: Any, method: str, url: str, **kwargs: Any) -> Any:
        sent.append((method, kwargs["body"]))
        return real_send(session, method, url, **kwargs)

    monkeypatch.setattr(diff_runner, "send", recording)
    fresh = re.compile(rb"ch-[0-9a-f]{10}-")  # fresh customers: a new prefix each run, the same sequence

    def cases(seed: int) -> list[tuple[str, bytes]]:
        sent.clear()
        with running_sandbox(CONFIG) as other:
            settings = ContractSettings(base_url=base.base_url, credentials=CREDENTIALS, expectations=EXPECTATIONS,
                                        seed=seed, max_examples=5)
            run_diff(DiffSettings(base=settings, against_url=other.base_url, against_credentials=CREDENTIALS))
        return [(method, fresh.sub(b"ch-RUN-", body or b"")) for method, body in sent]

    first = cases(21)
    assert len(first) > 150
    assert cases(21) == first
    assert cases(22) != first
