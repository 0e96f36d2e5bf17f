"""Extra headers (-H) and TLS in the replay and rerun lines and the curls: the header by name, its value a
`${COUPON_HARNESS_HEADER_*}` reference and never written into any report file; TLS flags as given."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from tests.reporting.capacity_builders import knee_result
from tests.reporting.load_builders import load_result
from tests.reporting.reporting_builders import URL, build, finding

from coupon_harness.contract.catalog import get_rule
from coupon_harness.reporting.contract.common import replay_command
from coupon_harness.reporting.contract.document import write_contract_reports
from coupon_harness.reporting.diff.common import replay_command as diff_replay_command
from coupon_harness.reporting.load.document import write_load_reports
from coupon_harness.reporting.load.rerun import capacity_rerun_command, rerun_command
from coupon_harness.results.codec import decode
from coupon_harness.results.contract import ContractRunResult, Outcome, RuleResult, RunShape
from coupon_harness.results.diff import DiffRunResult
from coupon_harness.results.load import LoadReplay
from coupon_harness.results.request import RequestSample, header_variable
from coupon_harness.transport.auth import Redactor
from coupon_harness.transport.credentials import Credentials, TlsOptions

SECRET = "gw-S3CRET-value-42"
CREDENTIALS = Credentials(user="till", password="pw-secret", headers=(("X-Api-Key", SECRET), ("X-Tenant", "t-77x")),
                          tls=TlsOptions(verify=False, cacert="ca.pem", client_cert="/etc/c.pem",
                                         client_key="/etc/c.key"))
KEY = '-H "X-Api-Key: ${COUPON_HARNESS_HEADER_X_API_KEY}"'


def test_the_variable_of_a_header_name() -> None:
    assert header_variable("X-Api-Key") == "COUPON_HARNESS_HEADER_X_API_KEY"
    assert header_variable("x.tenant") == "COUPON_HARNESS_HEADER_X_TENANT"


def test_the_shape_keeps_names_and_tls_never_values() -> None:
    access = CREDENTIALS.access()
    assert access["header_names"] == ("X-Api-Key", "X-Tenant")
    assert access["cacert"] == str(Path("ca.pem").absolute())  # runs as pasted from any directory
    line = replay_command(5, RunShape(base_url="http://127.0.0.1:1", credentials="basic", **access))
    assert KEY in line and '-H "X-Tenant: ${COUPON_HARNESS_HEADER_X_TENANT}"' in line
    assert f"--no-tls-verify --cacert {access['cacert']} --client-cert /etc/c.pem --client-key /etc/c.key" in line
    assert SECRET not in line and "t-77x" not in line


def test_a_shape_without_headers_or_tls_gives_no_flag() -> None:
    line = replay_command(5, RunShape(base_url="http://127.0.0.1:1"))
    assert line == "coupon-harness contract --base-url http://127.0.0.1:1 --seed 5"


def test_an_older_summary_reads_with_the_defaults() -> None:
    old = {"base_url": "http://127.0.0.1:1", "series_ids": [101]}
    shape = decode(RunShape, old)
    assert (shape.header_names, shape.tls_verify, shape.cacert) == ((), True, None)
    replay = decode(LoadReplay, {"series_ids": [101]})
    assert (replay.header_names, replay.tls_verify, replay.client_cert) == ((), True, None)


def test_load_capacity_and_diff_lines_carry_the_header_and_tls() -> None:
    replay = LoadReplay(series_ids=(101,), credentials="basic", **CREDENTIALS.access())
    line = rerun_command(load_result(replay=replay))
    assert line is not None and KEY in line and "--no-tls-verify" in line and SECRET not in line
    capacity = capacity_rerun_command(replace(knee_result(), replay=replay))
    assert capacity is not None and KEY in capacity and "--client-key /etc/c.key" in capacity
    shape = RunShape(base_url="http://127.0.0.1:1", **CREDENTIALS.access())
    diff = diff_replay_command(DiffRunResult(base_target="http://127.0.0.1:1", against_target="http://127.0.0.1:2",
                                             started_at="2026-12-07T00:00:00+00:00", duration_s=1.0, seed=5,
                                             cases=1, shape=shape))
    assert KEY in diff and "--cacert" in diff


def test_a_curl_reads_the_header_from_its_variable() -> None:
    sample = RequestSample("POST", URL, Redactor(CREDENTIALS).headers({"X-Api-Key": SECRET}), None)
    assert sample.curl == f"curl -X POST {KEY} {URL}"


def _result_with_header() -> ContractRunResult:
    sent = RequestSample("POST", URL, Redactor(CREDENTIALS).headers(
        {"Content-Type": "application/json", "Authorization": CREDENTIALS.basic_header() or "",
         "X-Api-Key": SECRET, "X-Tenant": "t-77x"}), '{"seriesIds":[101]}')
    failed = replace(finding("no-server-error", "k", "no 5xx", "500"), request=sent, response_status=500)
    result = build({"no-server-error": RuleResult(rule=get_rule("no-server-error"), outcome=Outcome.FAILED,
                                                  checks=3, findings=[failed])})
    result.shape = RunShape(base_url="http://127.0.0.1:8080", credentials="basic", **CREDENTIALS.access())
    return result


def test_no_header_value_reaches_any_report_file(tmp_path: Path) -> None:
    """Every file of a contract and a load report of a run with -H: the variable named, the values nowhere."""
    write_contract_reports(_result_with_header(), tmp_path / "contract")
    replay = LoadReplay(credentials="basic", **CREDENTIALS.access())
    write_load_reports(load_result(replay=replay), tmp_path / "load")
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(files) > 4
    for path in files:
        data = path.read_bytes()
        assert SECRET.encode() not in data and b"t-77x" not in data, path
    markdown = (tmp_path / "contract" / "report.md").read_text("utf-8").replace("\\_", "_")
    assert "COUPON_HARNESS_HEADER_X_API_KEY (X-Api-Key)" in markdown  # the report names the variables
    summary = json.loads((tmp_path / "contract" / "summary.json").read_text("utf-8"))
    curls = [f["curl"] for rule in summary["rules"] for f in rule["findings"]]
    assert any(KEY in curl for curl in curls), curls
