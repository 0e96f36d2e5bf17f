"""Every load violation carries a sample request: the request as sent (redacted), which replays the violation
against the same target; and no form of the credential reaches any report byte through it."""

from __future__ import annotations

import base64
import html
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from coupon_harness.contract.expectations import Expectations
from coupon_harness.reporting.load.document import render_load_table, write_load_reports
from coupon_harness.results.request import RequestSample
from coupon_harness.runners.load.checker import ResponseChecker
from coupon_harness.runners.load.runner import run_load
from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.config import default_config
from coupon_harness.sandbox.server import running_sandbox
from load.support import INVALID, VALID, describe, load_settings
from load.test_load_redaction import PASSWORD, USER, _leaks

BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def _broken(answer: Answer) -> Answer:
    """A 500 to any batch holding series 105; to the others a 200 whose discountValue is a string
    (response-schema)."""
    body = answer.request_json
    if isinstance(body, dict) and 105 in (body.get("seriesIds") or []):
        return Answer(500, b"Internal Server Error", answer.request, {"Content-Type": "text/plain"})
    if answer.status == 200 and isinstance(answer.body, dict):
        for entity in answer.body.get("response", []):
            result = entity.get("result")
            if isinstance(result, dict):
                result["discountValue"] = str(result.get("discountValue"))
    return answer


def _replay(sample: RequestSample) -> set[str]:
    """Send the sample again (the redacted credential put back) and judge the answer as the load runner does."""
    headers = {name: (BASIC if value.endswith("<redacted>") and name.lower() == "authorization" else value)
               for name, value in sample.headers}
    assert sample.body is not None
    answer = requests.request(sample.method, sample.url, data=sample.body.encode(), headers=headers, timeout=5)
    body: Any = json.loads(sample.body)
    checker = ResponseChecker(Expectations(valid_series=frozenset(VALID), invalid_series=frozenset(INVALID)))
    outcome = checker.check(answer.status_code, answer.headers.get("Content-Type", ""), answer.content,
                            body["seriesIds"], body["customer"]["id"], datetime.now(UTC))
    return {violation.rule_id for violation in outcome.violations}


def test_each_violation_has_a_sample_that_replays_it_and_no_credential_leaks(tmp_path: Path) -> None:
    config = replace(default_config(), users={USER: PASSWORD})
    out = tmp_path / "out"
    with running_sandbox(config, mutate=_broken) as sandbox:
        result = run_load(load_settings(sandbox.base_url, user=USER, password=PASSWORD, users=4, run_time_s=2.0),
                          out)
        why = describe(result)
        assert {"no-server-error", "response-schema"} <= set(result.violation_counts), why
        assert set(result.violation_samples) == set(result.violation_counts), why
        for rule, data in result.violation_samples.items():
            sample = RequestSample.from_dict(data)
            assert sample.url == sandbox.base_url.rstrip("/") + "/v2/coupon/bulk/issue", sample
            assert dict(sample.headers).get("Authorization") == "Basic <redacted>", sample
            # The body says what it is, so the curl replays it as JSON, not as a form.
            assert dict(sample.headers).get("Content-Type") == "application/json", sample
            assert rule in _replay(sample), (rule, sample)
    reports = tmp_path / "reports"
    write_load_reports(result, reports)
    files = {path.name: path.read_text(encoding="utf-8") for path in reports.rglob("*") if path.is_file()}
    files["console"] = render_load_table(result, color=False)
    for name, text in files.items():
        assert _leaks(text) == [], name
        shown = 'curl -X POST -u "$COUPON_HARNESS_USER" '  # runs as pasted once the variable holds USER:PASSWORD
        written = (html.escape(shown) if name.endswith(".html") else
                   json.dumps(shown)[1:-1] if name.endswith(".json") else shown)
        assert written in text, name
    summary = json.loads(files["summary.json"])
    entry = summary["violation_samples"]["no-server-error"]
    assert entry["curl"] == RequestSample.from_dict(entry["request"]).curl
    assert "105" in entry["request"]["body"]


def test_a_correct_target_gives_no_sample(tmp_path: Path) -> None:
    with running_sandbox() as sandbox:
        result = run_load(load_settings(sandbox.base_url, users=2, run_time_s=1.0), tmp_path / "out")
    assert result.requests > 0 and not result.violation_counts, describe(result)
    assert result.violation_samples == {}


def test_samples_travel_from_workers_to_the_master(tmp_path: Path) -> None:
    """Distributed: the samples ride in the workers' deltas through Locust's messages."""
    with running_sandbox(mutate=_broken) as sandbox:
        result = run_load(load_settings(sandbox.base_url, users=4, run_time_s=2.0, workers=2), tmp_path / "out")
    why = describe(result)
    assert {"no-server-error", "response-schema"} <= set(result.violation_samples), why
    assert "105" in (result.violation_samples["no-server-error"]["body"] or ""), why
