"""200 answers: the reference page's shape, the contract's invariants, entity errors, limits, codes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from tests.sandbox.sandbox_helpers import contract_violations, expectations, fresh_customer, issue

from coupon_harness.contract.ledger import Ledger
from coupon_harness.sandbox import RunningSandbox, SandboxConfig, SeriesConfig, running_sandbox

RESULT_KEYS = ["code", "seriesId", "description", "discountCode", "validTill", "discountType", "discountValue",
               "discountUpto", "discountOn", "detailedInfo", "redemptionCount", "id"]


def test_answer_has_the_reference_page_shape(sandbox: RunningSandbox, http: requests.Session) -> None:
    body, violations = contract_violations(http, sandbox, [101, 102])
    assert violations == []
    assert list(body) == ["response", "totalCount", "failureCount"]
    assert (body["totalCount"], body["failureCount"]) == (2, 0)
    first, second = body["response"]
    assert list(first) == ["entityId", "result", "errors", "warnings"]
    assert list(first["result"]) == RESULT_KEYS
    assert first["entityId"] == first["result"]["seriesId"] == 101
    assert first["result"]["validTill"] == "2099-12-31T00:00:00Z"
    assert (first["result"]["discountType"], first["result"]["discountValue"]) == ("ABS", 500)
    assert (second["result"]["discountType"], second["result"]["discountValue"]) == ("PERC", 10)
    assert second["result"]["discountUpto"] == 200
    assert first["result"]["redemptionCount"] == 0 and first["errors"] == [] and first["warnings"] == []
    till = datetime.fromisoformat(second["result"]["validTill"])
    assert abs(till - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)


def test_every_valid_series_passes_the_contract_across_calls(sandbox: RunningSandbox,
                                                             http: requests.Session) -> None:
    config = sandbox.config
    ledger = Ledger(expectations(config))
    series = sorted(config.valid_series)
    for _ in range(5):
        customer = fresh_customer()
        body, violations = contract_violations(http, sandbox, series, customer=None)
        assert violations == []
        assert ledger.observe(series, customer, body) == []
        assert body["failureCount"] == 0


def test_mixed_batch_answers_each_id_in_order_with_entity_errors(sandbox: RunningSandbox,
                                                                 http: requests.Session) -> None:
    series = [999999, 101, 201, 101, 202, 104, 5]
    body, violations = contract_violations(http, sandbox, series)
    assert violations == []
    assert [entity["entityId"] for entity in body["response"]] == series
    errors = [[e["code"] for e in entity["errors"]] for entity in body["response"]]
    assert errors == [[707], [], [712], [], [712], [], [707]]
    assert (body["totalCount"], body["failureCount"]) == (7, 4)
    refused = body["response"][0]
    assert "result" not in refused and refused["warnings"] == []
    assert refused["errors"][0]["message"] == "Coupon Series ID = 999999 is invalid"
    first, again = body["response"][1]["result"], body["response"][3]["result"]
    assert first["code"] != again["code"], "a repeated series is issued once per occurrence"


def test_float_series_id_is_answered_as_an_integer(sandbox: RunningSandbox, http: requests.Session) -> None:
    answer = issue(http, sandbox, [101.0])
    assert answer.status_code == 200
    entity = answer.json()["response"][0]
    assert entity["entityId"] == 101 and isinstance(entity["entityId"], int)
    assert '"entityId":101,' in answer.text


def test_source_query_parameter_is_accepted(sandbox: RunningSandbox, http: requests.Session) -> None:
    assert issue(http, sandbox, [101], params={"source": "INSTORE"}).status_code == 200


def test_per_customer_limit_answers_5002(sandbox: RunningSandbox, http: requests.Session) -> None:
    customer = fresh_customer()
    first = issue(http, sandbox, [103, 103], customer).json()
    assert "result" in first["response"][0]
    assert first["response"][1]["errors"][0]["code"] == 5002
    assert first["failureCount"] == 1
    later = issue(http, sandbox, [103], customer).json()
    assert later["response"][0]["errors"][0]["code"] == 5002
    other = issue(http, sandbox, [103]).json()
    assert other["failureCount"] == 0, "the limit is per customer"


def test_generic_series_gives_every_customer_one_code(sandbox: RunningSandbox, http: requests.Session) -> None:
    ledger = Ledger(expectations(sandbox.config))
    codes = set()
    for _ in range(3):
        customer = fresh_customer()
        body = issue(http, sandbox, [104], customer).json()
        codes.add(body["response"][0]["result"]["code"])
        assert ledger.observe([104], customer, body) == []
    assert codes == {"SUMMER2099"}


def test_numeric_series_codes_have_prefix_and_digits(sandbox: RunningSandbox, http: requests.Session) -> None:
    code = issue(http, sandbox, [105]).json()["response"][0]["result"]["code"]
    assert code.startswith("CH") and len(code) == 14 and code[2:].isdigit()


def test_coupon_ids_increment_or_stay_zero(http: requests.Session) -> None:
    with running_sandbox() as counting:
        ids = [e["result"]["id"] for e in issue(http, counting, [101, 102, 104]).json()["response"]]
        assert ids == [1, 2, 3]
    with running_sandbox(SandboxConfig(coupon_ids="zero")) as zero:
        ids = [e["result"]["id"] for e in issue(http, zero, [101, 102]).json()["response"]]
        assert ids == [0, 0]


def test_total_limit_answers_714_then_codes_run_out_with_722(http: requests.Session) -> None:
    config = SandboxConfig(series=(
        SeriesConfig(1, valid_days=1, max_create=2),
        SeriesConfig(2, valid_days=1, code_length=1, code_alphabet="numeric"),
    ))
    assert 1 not in config.valid_series, "a series with a total cap is not promised to issue"
    with running_sandbox(config) as sandbox:
        body = issue(http, sandbox, [1, 1, 1]).json()
        assert [[e["code"] for e in entity["errors"]] for entity in body["response"]] == [[], [], [714]]
        codes = []
        for _ in range(11):
            entity = issue(http, sandbox, [2]).json()["response"][0]
            codes.append(entity["result"]["code"] if "result" in entity else entity["errors"][0]["code"])
        assert sorted(codes[:10]) == list("0123456789") and codes[10] == 722


def test_codes_stay_unique_under_concurrent_requests(http: requests.Session) -> None:
    # 3 digits: 1,000 codes for ~800 issues, so collisions are drawn often and must be redrawn.
    config = SandboxConfig(series=(
        SeriesConfig(7, valid_days=1, code_length=3, code_alphabet="numeric"),
        SeriesConfig(8, valid_days=1, code_length=3, code_alphabet="numeric"),
    ))
    codes: list[str] = []
    failures: list[Any] = []
    lock = threading.Lock()

    def client(sandbox: RunningSandbox) -> None:
        with requests.Session() as session:
            for _ in range(25):
                answer = issue(session, sandbox, [7, 8, 7, 8])
                if answer.status_code != 200:
                    failures.append(answer.status_code)
                    continue
                found = [entity["result"]["code"] for entity in answer.json()["response"]]
                with lock:
                    codes.extend(found)

    with running_sandbox(config) as sandbox:
        threads = [threading.Thread(target=client, args=(sandbox,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sandbox.issuer.codes_issued == 800
    assert failures == []
    assert len(codes) == 800 and len(set(codes)) == 800


def test_nothing_is_issued_for_a_refused_request(sandbox: RunningSandbox, http: requests.Session) -> None:
    before = sandbox.issuer.codes_issued
    assert issue(http, sandbox, [101], auth=None).status_code == 401
    assert http.post(sandbox.issue_url, json={"seriesIds": [101]}, auth=("sandbox", "sandbox"),
                     timeout=5).status_code == 400
    assert sandbox.issuer.codes_issued == before
