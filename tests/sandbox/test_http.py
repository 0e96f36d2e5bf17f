"""Answers other than 200: 400 malformed, 401 credentials, 405 other methods, 404; tokens and /sandbox/info."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import pytest
import requests
from tests.sandbox.sandbox_helpers import AUTH, issue

from coupon_harness.contract.schemas import error_validator
from coupon_harness.sandbox import RunningSandbox, SandboxConfig, running_sandbox

MD5 = hashlib.md5(b"sandbox").hexdigest()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def token(http: requests.Session, sandbox: RunningSandbox) -> str:
    answer = http.post(sandbox.token_url, json={"key": "sandbox-key", "secret": "sandbox-secret"}, timeout=5)
    assert answer.status_code == 200
    value: str = answer.json()["data"]["accessToken"]
    return value


@pytest.mark.parametrize("body", [
    b"", b"not json", b"{", b"null", b"[]", b'"text"', b"{}",
    b'{"seriesIds": [101]}',
    b'{"customer": {"id": "c1"}}',
    b'{"seriesIds": [], "customer": {"id": "c1"}}',
    b'{"seriesIds": ["101"], "customer": {"id": "c1"}}',
    b'{"seriesIds": [true], "customer": {"id": "c1"}}',
    b'{"seriesIds": [1.5], "customer": {"id": "c1"}}',
    b'{"seriesIds": [2147483648], "customer": {"id": "c1"}}',
    b'{"seriesIds": [99999999999999999999999], "customer": {"id": "c1"}}',
    b'{"seriesIds": 101, "customer": {"id": "c1"}}',
    b'{"seriesIds": [101], "customer": {"id": 555567088}}',
    b'{"seriesIds": [101], "customer": {"id": ""}}',
    b'{"seriesIds": [101], "customer": {}}',
    b'{"seriesIds": [101], "customer": "c1"}',
    b'\xff\xfe',
], ids=lambda body: body.decode("latin-1")[:40] or "empty")
def test_malformed_body_is_400_with_capillary_envelope(sandbox: RunningSandbox, http: requests.Session,
                                                       body: bytes) -> None:
    answer = http.post(sandbox.issue_url, data=body, auth=AUTH, timeout=5,
                       headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    envelope = answer.json()
    assert error_validator().is_valid(envelope)
    assert envelope["errors"][0]["code"] == 756 and envelope["errors"][0]["status"] is False
    assert envelope["warnings"] == []


def test_400_message_names_the_schema_problem(sandbox: RunningSandbox, http: requests.Session) -> None:
    answer = http.post(sandbox.issue_url, json={"seriesIds": [], "customer": {"id": "c"}}, auth=AUTH, timeout=5)
    assert "/seriesIds" in answer.json()["errors"][0]["message"]


def test_unknown_keys_are_allowed(sandbox: RunningSandbox, http: requests.Session) -> None:
    body = {"seriesIds": [101], "customer": {"id": "c-extra", "mobile": "123"}, "metadata": {"notes": "x"}}
    assert http.post(sandbox.issue_url, json=body, auth=AUTH, timeout=5).status_code == 200


@pytest.mark.parametrize("headers", [
    {},
    basic("sandbox", "wrong"),
    basic("nobody", "sandbox"),
    basic("sandbox", hashlib.md5(b"wrong").hexdigest()),
    {"Authorization": "Basic !!!not-base64"},
    {"Authorization": "Bearer sandbox"},
    {"Authorization": "Basic " + base64.b64encode(b"sandbox").decode()},
    {"X-CAP-API-OAUTH-TOKEN": "made-up"},
    {"Authorization": "Basic \u00e9t\u00e9".encode()},
    {"Authorization": b"Basic \xff\xfe"},
    {"Authorization": "Basic " + base64.b64encode(b"sandbox:\xff").decode()},
], ids=["none", "wrong-password", "unknown-user", "wrong-md5", "not-base64", "bearer", "no-colon", "bad-token",
        "non-ascii", "not-utf8", "password-not-utf8"])
def test_missing_or_wrong_credentials_are_401(sandbox: RunningSandbox, http: requests.Session,
                                              headers: dict[str, str | bytes]) -> None:
    answer = issue(http, sandbox, [101], auth=None, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["code"] == 401
    assert error_validator().is_valid(answer.json())


def test_credentials_are_checked_before_the_body(sandbox: RunningSandbox, http: requests.Session) -> None:
    assert http.post(sandbox.issue_url, data=b"not json", timeout=5).status_code == 401


@pytest.mark.parametrize("headers", [
    basic("sandbox", "sandbox"),
    basic("sandbox", MD5),
    basic("sandbox", MD5.upper()),
    {"Authorization": "basic " + base64.b64encode(b"sandbox:sandbox").decode()},
], ids=["plain", "md5", "md5-upper", "lower-case-scheme"])
def test_basic_accepts_plain_and_md5_password(sandbox: RunningSandbox, http: requests.Session,
                                              headers: dict[str, str]) -> None:
    assert issue(http, sandbox, [101], auth=None, headers=headers).status_code == 200


def test_oauth_token_is_accepted(sandbox: RunningSandbox, http: requests.Session) -> None:
    value = token(http, sandbox)
    assert value.count(".") == 2, "JWT-like"
    answer = issue(http, sandbox, [101], auth=None, headers={"X-CAP-API-OAUTH-TOKEN": value})
    assert answer.status_code == 200


def test_expired_token_is_401(http: requests.Session) -> None:
    with running_sandbox(SandboxConfig(token_ttl_s=0.3)) as sandbox:
        answer = http.post(sandbox.token_url, json={"key": "sandbox-key", "secret": "sandbox-secret"}, timeout=5)
        assert answer.json()["data"]["ttlSeconds"] == 0.3
        headers = {"X-CAP-API-OAUTH-TOKEN": answer.json()["data"]["accessToken"]}
        assert issue(http, sandbox, [101], auth=None, headers=headers).status_code == 200
        time.sleep(0.4)
        assert issue(http, sandbox, [101], auth=None, headers=headers).status_code == 401


@pytest.mark.parametrize(("body", "status"), [
    ({"key": "sandbox-key", "secret": "wrong"}, 401),
    ({"key": "nobody", "secret": "sandbox-secret"}, 401),
    ({"key": "sandbox-key"}, 400),
    ([], 400),
])
def test_token_endpoint_refuses_bad_requests(sandbox: RunningSandbox, http: requests.Session, body: Any,
                                             status: int) -> None:
    answer = http.post(sandbox.token_url, json=body, timeout=5)
    assert answer.status_code == status
    assert answer.json()["data"] is None and answer.json()["errors"][0]["code"] == status


def test_token_endpoint_answers_405_to_get(sandbox: RunningSandbox, http: requests.Session) -> None:
    answer = http.get(sandbox.token_url, timeout=5)
    assert answer.status_code == 405 and answer.headers["Allow"] == "POST"


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "HEAD", "QUERY",
                                    "PROPFIND"])
def test_other_methods_are_405_with_allow_post(sandbox: RunningSandbox, http: requests.Session,
                                               method: str) -> None:
    answer = http.request(method, sandbox.issue_url, auth=AUTH, timeout=5)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    if method != "HEAD":
        assert answer.json()["errors"][0]["code"] == 405


def test_405_needs_no_credentials(sandbox: RunningSandbox, http: requests.Session) -> None:
    assert http.get(sandbox.issue_url, timeout=5).status_code == 405


def test_unknown_path_is_404(sandbox: RunningSandbox, http: requests.Session) -> None:
    assert http.post(sandbox.base_url + "/v2/coupon/issue", json={}, auth=AUTH, timeout=5).status_code == 404


def test_sandbox_info_names_the_series_and_demo_user(sandbox: RunningSandbox, http: requests.Session) -> None:
    info = http.get(sandbox.base_url + "/sandbox/info", timeout=5).json()
    assert info["sandbox"] == "coupon-harness"
    assert info["validSeries"] == [101, 102, 103, 104, 105]
    assert info["invalidSeries"] == [201, 202, 999999]
    assert info["genericSeries"] == [104]
    assert (info["defaultUser"], info["defaultPassword"]) == ("sandbox", "sandbox")
