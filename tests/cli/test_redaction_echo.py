"""A target that echoes the credentials back in every form a server might (plain, base64, md5, JSON-escaped
with `\\/`, URL-encoded, across the report's excerpt cut, inside a violation's received text): no byte of
any form reaches the console or any report file."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest

from coupon_harness.cli.main import main
from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.config import default_config
from coupon_harness.sandbox.server import running_sandbox

USER, PASSWORD = "till01", "Hunter2/pw+ö"
PLAIN_HEADER = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
MD5_HEADER = base64.b64encode(f"{USER}:{MD5}".encode()).decode()


def _forms(secret: str) -> list[str]:
    escaped = json.dumps(secret)[1:-1]
    return [secret, escaped, escaped.replace("/", "\\/"), quote(secret, safe="")]


SECRETS = sorted({form for secret in (PASSWORD, f"{USER}:{PASSWORD}", PLAIN_HEADER, MD5, MD5_HEADER)
                  for form in _forms(secret)}, key=len, reverse=True)


def _echo(answer: Answer) -> Answer:
    header = answer.request.headers.get("Authorization", "")
    echoed = header.removeprefix("Basic ")
    if answer.status == 200 and isinstance(answer.body, dict):
        # A wrong type whose value is the credential: the schema violation quotes it in "received".
        for entity in answer.body["response"]:
            if isinstance(entity.get("result"), dict):
                entity["result"]["discountValue"] = f"{header} {PASSWORD}"
    elif answer.status == 400:
        # The secret straddles the 300-character excerpt, JSON-escaped with \/ as some encoders write it.
        padding = "x" * (300 - len('{"message":"') - 5)
        text = '{"message":"' + padding + json.dumps(echoed)[1:-1].replace("/", "\\/") + " " + \
            quote(PASSWORD, safe="") + " " + json.dumps(PASSWORD)[1:-1].replace("/", "\\/") + '"}'
        return Answer(400, text.encode(), answer.request, {"Content-Type": "application/json"})
    return answer


@pytest.mark.parametrize("md5", [False, True], ids=["plain", "md5"])
def test_no_form_of_a_credential_leaves_the_process(md5: bool, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    stored = MD5 if md5 else PASSWORD
    config = replace(default_config(), users={USER: stored})
    report_dir = tmp_path / "reports"
    with running_sandbox(config, mutate=_echo) as sandbox:
        code = main(["contract", "--base-url", sandbox.base_url, "--user", f"{USER}:{PASSWORD}",
                     *(["--md5-password"] if md5 else []), "--max-examples", "5", "--no-color",
                     "--report-dir", str(report_dir)])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    outputs = {"stdout": out, "stderr": err, **{p.name: p.read_text() for p in report_dir.iterdir()}}
    leaks = [(name, secret) for name, text in outputs.items() for secret in SECRETS if secret in text]
    assert leaks == [], leaks
    assert "<redacted>" in outputs["summary.json"]
    assert "response-schema" in out  # the echoing 200s were judged, so their received text was written
