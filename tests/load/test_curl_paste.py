"""The curl reproducers run as pasted: into `bash -c`, with only the variable of the secret in the environment,
against a broken sandbox on 127.0.0.1, they reproduce the finding (Basic with a password full of shell
characters, a token, a cross-request sequence, and a real load run's sample); without the variable they are
refused (401), so it is the variable that authenticates. The command text never holds the secret."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import requests

from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.ledger import Ledger
from coupon_harness.reporting.load.common import sample_curl
from coupon_harness.results.request import RequestSample, finding_curl
from coupon_harness.runners.load.checker import ResponseChecker
from coupon_harness.runners.load.runner import run_load
from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.config import default_config
from coupon_harness.sandbox.server import running_sandbox
from coupon_harness.transport.auth import TOKEN_HEADER, Credentials, Redactor
from load.support import INVALID, VALID, describe, load_settings

USER, PASSWORD = "till01", "Hunter2/pw+ö $HOME `id` 'q' \"d\""
PATH = "/v2/coupon/bulk/issue"


def _string_discount(answer: Answer) -> Answer:
    """Every 200's discountValue as a string: response-schema, only for an authenticated request."""
    if answer.status == 200 and isinstance(answer.body, dict):
        for entity in answer.body.get("response", []):
            if isinstance(entity.get("result"), dict):
                entity["result"]["discountValue"] = str(entity["result"].get("discountValue"))
    return answer


def _one_code(answer: Answer) -> Answer:
    """Every coupon gets the code DUP-1: unique-codes across customers."""
    if answer.status == 200 and isinstance(answer.body, dict):
        for entity in answer.body.get("response", []):
            if isinstance(entity.get("result"), dict):
                entity["result"]["code"] = "DUP-1"
    return answer


def _paste(script: str, **env: str) -> str:
    """Run `script` as a user pasting it would: bash, the environment holding only what is given (and PATH)."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **env}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=clean, timeout=30, check=False)
    assert done.returncode == 0, (script, done.stderr)
    return done.stdout


def _sample(base_url: str, credentials: Credentials, headers: dict[str, str], customer: str) -> RequestSample:
    body = json.dumps({"seriesIds": [101], "customer": {"id": customer}})
    all_headers = {"Content-Type": "application/json", **headers}
    return RequestSample("POST", base_url.rstrip("/") + PATH, Redactor(credentials).headers(all_headers), body)


def _rules(text: str, series: list[int], customer: str) -> set[str]:
    checker = ResponseChecker(Expectations(valid_series=frozenset(VALID), invalid_series=frozenset(INVALID)))
    outcome = checker.check(200, "application/json", text.encode(), series, customer, datetime.now(UTC))
    return {violation.rule_id for violation in outcome.violations}


def test_basic_credentials_from_the_variable_reproduce_the_finding() -> None:
    config = replace(default_config(), users={USER: PASSWORD})
    credentials = Credentials(user=USER, password=PASSWORD)
    with running_sandbox(config, mutate=_string_discount) as sandbox:
        sample = _sample(sandbox.base_url, credentials, {"Authorization": credentials.basic_header() or ""}, "c-1")
        curl = sample.curl
        assert PASSWORD not in curl and "redacted" not in curl, curl
        answer = _paste(curl, COUPON_HARNESS_USER=f"{USER}:{PASSWORD}")
        assert "response-schema" in _rules(answer, [101], "c-1"), answer
        refused = json.loads(_paste(curl, COUPON_HARNESS_USER=f"{USER}:wrong"))
        assert refused["errors"][0]["code"] == 401, refused


def test_a_token_from_the_variable_reproduces_the_finding() -> None:
    with running_sandbox(mutate=_string_discount) as sandbox:
        fetched = requests.post(sandbox.base_url.rstrip("/") + "/v3/oauth/token/generate",
                                json={"key": "sandbox-key", "secret": "sandbox-secret"}, timeout=5)
        token = fetched.json()["data"]["accessToken"]
        credentials = Credentials(token=token)
        sample = _sample(sandbox.base_url, credentials, {TOKEN_HEADER: token}, "c-1")
        assert token not in sample.curl and "redacted" not in sample.curl, sample.curl
        answer = _paste(sample.curl, COUPON_HARNESS_TOKEN=token)
        assert "response-schema" in _rules(answer, [101], "c-1"), answer
        refused = json.loads(_paste(sample.curl, COUPON_HARNESS_TOKEN="not-a-token"))
        assert refused["errors"][0]["code"] == 401, refused


def test_a_unique_codes_sequence_reproduces_the_duplicate() -> None:
    credentials = Credentials(user="sandbox", password="sandbox")
    header = {"Authorization": credentials.basic_header() or ""}
    with running_sandbox(mutate=_one_code) as sandbox:
        first = _sample(sandbox.base_url, credentials, header, "curl-first")
        second = _sample(sandbox.base_url, credentials, header, "curl-second")
        out = _paste(finding_curl("", "", [first], second, notes=[None, None]), COUPON_HARNESS_USER="sandbox:sandbox")
    bodies = [json.loads(part) for part in out.replace("}{", "}\n{").splitlines() if part.strip()]
    assert [entity["result"]["code"] for body in bodies for entity in body["response"]] == ["DUP-1", "DUP-1"], out
    # The Ledger calls the pasted answers a duplicate; the script's comments then name the code in both steps.
    ledger = Ledger(Expectations(valid_series=frozenset(VALID)))
    assert ledger.observe([101], "curl-first", bodies[0]) == []
    (violation,) = ledger.observe([101], "curl-second", bodies[1])
    assert violation.rule_id == "unique-codes"
    script = finding_curl(violation.rule_id, violation.received, [first], second)
    lines = script.splitlines()
    assert [lines[1], lines[3]] == [first.curl, second.curl], script
    assert "code 'DUP-1'" in lines[0] and "same code 'DUP-1' to customer 'curl-second'" in lines[2], script


def test_a_load_run_s_sample_curl_reproduces_its_violation(tmp_path: Path) -> None:
    config = replace(default_config(), users={USER: PASSWORD})
    with running_sandbox(config, mutate=_string_discount) as sandbox:
        result = run_load(load_settings(sandbox.base_url, user=USER, password=PASSWORD, users=2, run_time_s=1.5),
                          tmp_path / "out")
        curl = sample_curl(result, "response-schema")
        assert curl is not None, describe(result)
        assert PASSWORD not in curl and "redacted" not in curl, curl
        assert ' -u "$COUPON_HARNESS_USER" ' in curl, curl
        answer = _paste(curl, COUPON_HARNESS_USER=f"{USER}:{PASSWORD}")
        body = json.loads(RequestSample.from_dict(result.violation_samples["response-schema"]).body or "")
        assert "response-schema" in _rules(answer, body["seriesIds"], body["customer"]["id"]), answer
