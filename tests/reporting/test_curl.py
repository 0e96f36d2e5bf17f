"""The curl reproducers: credentials as variable references that run as pasted, everything else single-quoted,
cross-request sequences as a script with the relevant part of each answer, and never a secret."""

from __future__ import annotations

import shlex
from dataclasses import replace

import pytest

from coupon_harness.cli.option_table import OPTIONS
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.ledger import Ledger
from coupon_harness.results.request import (
    TOKEN_VARIABLE,
    USER_VARIABLE,
    RequestSample,
    credentials_help,
    cross_request_notes,
    finding_curl,
)
from coupon_harness.transport.auth import Credentials, Redactor

URL = "http://127.0.0.1:8080/v2/coupon/bulk/issue"
BODY = '{"seriesIds": [101], "customer": {"id": "it\'s $HOME `x`"}}'
USER, PASSWORD = "till01", "Hunter2/pw+ö $x'\""


def _sample(credentials: Credentials, headers: dict[str, str], body: str | None = BODY) -> RequestSample:
    """A sample as the runners make one: the headers through the run's Redactor."""
    return RequestSample("POST", URL, Redactor(credentials).headers(headers), body)


def test_the_variables_are_the_cli_s() -> None:
    envs = {option.name: option.env for option in OPTIONS}
    assert (envs["user"], envs["token"]) == (USER_VARIABLE, TOKEN_VARIABLE)


def test_basic_credentials_become_the_user_variable() -> None:
    credentials = Credentials(user=USER, password=PASSWORD)
    sample = _sample(credentials, {"Content-Type": "application/json",
                                   "Authorization": credentials.basic_header() or ""})
    curl = sample.curl
    assert curl == (f"curl -X POST -H 'Content-Type: application/json' -u \"$COUPON_HARNESS_USER\" "
                    f"--data-raw {shlex.quote(BODY)} {shlex.quote(URL)}")
    assert "redacted" not in curl and PASSWORD not in curl
    # The shell reads it back word for word: the body's quotes, $ and backticks stay literal.
    words = shlex.split(curl)
    assert words[words.index("--data-raw") + 1] == BODY
    assert words[words.index("-u") + 1] == "$COUPON_HARNESS_USER"  # shlex does not expand; bash does


def test_a_token_becomes_the_token_variable() -> None:
    credentials = Credentials(token="tok-SECRET-123")
    sample = _sample(credentials, {"X-CAP-API-OAUTH-TOKEN": "tok-SECRET-123"})
    assert '-H "X-CAP-API-OAUTH-TOKEN: $COUPON_HARNESS_TOKEN"' in sample.curl
    assert "tok-SECRET" not in sample.curl and "redacted" not in sample.curl


def test_a_header_that_only_holds_a_redacted_part_keeps_it_quoted() -> None:
    """A secret echoed inside another header is redacted there and stays as text (no variable to stand for it)."""
    sample = RequestSample("POST", URL, (("X-Trace", "a <redacted> b"),), None)
    assert sample.curl == f"curl -X POST -H 'X-Trace: a <redacted> b' {shlex.quote(URL)}"


def test_the_plain_form_is_unchanged_without_credentials() -> None:
    sample = RequestSample("GET", URL, (("Accept", "*/*"),), None)
    assert sample.curl == f"curl -X GET -H 'Accept: */*' {shlex.quote(URL)}"


def _duplicate_text() -> str:
    ledger = Ledger(Expectations(valid_series=frozenset({101})))
    body = {"response": [{"result": {"code": "DUP-1", "seriesId": 101}, "errors": []}]}
    assert ledger.observe([101], "c-1", body) == []
    (violation,) = ledger.observe([101], "c-2", body)
    return violation.received


def _changed_text() -> str:
    ledger = Ledger(Expectations(valid_series=frozenset({101})))
    first = {"response": [{"result": {"code": "A1", "discountValue": 10, "discountType": "ABS"}, "errors": []}]}
    second = {"response": [{"result": {"code": "A2", "discountValue": 20, "discountType": "ABS"}, "errors": []}]}
    assert ledger.observe([101], "c-1", first) == []
    (violation,) = ledger.observe([101], "c-2", second)
    return violation.received


def test_unique_codes_sequence_names_the_duplicated_code_in_both_answers() -> None:
    credentials = Credentials(user=USER, password=PASSWORD)
    header = {"Authorization": credentials.basic_header() or ""}
    first = _sample(credentials, header, '{"seriesIds": [101], "customer": {"id": "c-1"}}')
    second = _sample(credentials, header, '{"seriesIds": [101], "customer": {"id": "c-2"}}')
    notes = cross_request_notes("unique-codes", _duplicate_text(), 1)
    assert notes == ["series 101 answered code 'DUP-1' (its first holder)",
                     "series 101 answered the same code 'DUP-1' to customer 'c-2': a duplicate"]
    script = finding_curl("unique-codes", _duplicate_text(), [first], second)
    lines = script.splitlines()
    assert lines[0] == "# 1 of 2: series 101 answered code 'DUP-1' (its first holder)"
    assert lines[1] == first.curl and lines[3] == second.curl
    assert lines[2].startswith("# 2 of 2: ") and "DUP-1" in lines[2]


def test_series_attributes_sequence_shows_the_first_and_the_differing_values() -> None:
    notes = cross_request_notes("series-attributes-stable", _changed_text(), 1)
    assert notes == ["series 101 answered discountValue 10 (the series' first answer)",
                     "series 101 answered discountValue 20: the attributes changed"]


@pytest.mark.parametrize("rule, text", [("unique-codes", "something else"), ("entity-order", "series 1: x 1 -> 2")])
def test_notes_are_none_where_the_text_does_not_say(rule: str, text: str) -> None:
    assert cross_request_notes(rule, text, 2) == [None, None, None]


def test_a_note_cannot_break_out_of_its_comment() -> None:
    sample = RequestSample("GET", URL, (), None)
    script = finding_curl("", "", [sample], replace(sample, method="POST"), notes=["line one\nrm -rf /tmp/x", None])
    assert script.splitlines() == ["# 1 of 2: line one", "# rm -rf /tmp/x", sample.curl, "# 2 of 2",
                                   replace(sample, method="POST").curl]
    assert finding_curl("", "", [], sample) == sample.curl


@pytest.mark.parametrize("kind, needle", [("basic", "$COUPON_HARNESS_USER"), ("basic-md5", "md5"),
                                          ("token", "$COUPON_HARNESS_TOKEN"),
                                          ("oauth", "/v3/oauth/token/generate"), (None, None)])
def test_credentials_help(kind: str | None, needle: str | None) -> None:
    text = credentials_help(kind)
    assert (text is None) if needle is None else (text is not None and needle in text)


def test_the_credentials_name_their_kind_for_the_reports() -> None:
    assert [c.kind for c in (Credentials(user="u", password="p"),
                             Credentials(user="u", password="p", md5_password=True),
                             Credentials(token="t"), Credentials(oauth_key="k", oauth_secret="s"),
                             Credentials())] == ["basic", "basic-md5", "token", "oauth", None]


def test_finding_curl_renders_the_sequence_and_keeps_an_auth_probe_s_credentials() -> None:
    credentials = Credentials(user=USER, password=PASSWORD)
    header = {"Authorization": credentials.basic_header() or ""}
    first = _sample(credentials, header, '{"seriesIds": [101], "customer": {"id": "c-1"}}')
    second = _sample(credentials, header, '{"seriesIds": [101], "customer": {"id": "c-2"}}')
    script = finding_curl("unique-codes", _duplicate_text(), [first], second)
    assert script.splitlines() == ["# 1 of 2: series 101 answered code 'DUP-1' (its first holder)", first.curl,
                                   "# 2 of 2: series 101 answered the same code 'DUP-1' to customer 'c-2': a duplicate",
                                   second.curl]
    assert finding_curl("entity-order", "x", [], second) == second.curl
    # An auth probe's wrong credentials (redacted like any): kept as sent, never swapped for the user's own.
    probe = _sample(credentials, {"Authorization": "Basic Y291cG9uLWhhcm5lc3Mtbm9ib2R5Ondyb25n"})
    curl = finding_curl("auth-required", "status 200", [], probe, own_credentials=False)
    assert "-H 'Authorization: Basic <redacted>'" in curl and "COUPON_HARNESS_USER" not in curl
