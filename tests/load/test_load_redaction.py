"""The load process redacts what the target sends before it keeps it: a target that echoes the credential
(plain, `user:password`, base64 header, md5 form, JSON-escaped with `\\/`, URL-encoded) into coupon codes and
into values a rule quotes leaves no form of it in coupons.csv, locust_stats.json or the result."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path
from urllib.parse import quote

import pytest

from coupon_harness.runners.load.runner import run_load
from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.config import default_config
from coupon_harness.sandbox.server import running_sandbox
from load.support import coupon_rows, describe, load_settings

USER, PASSWORD = "till01", "Hunter2/pw+ö"
MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()


def _forms(secret: str) -> set[str]:
    escaped = json.dumps(secret)[1:-1]
    ascii_escaped = json.dumps(secret, ensure_ascii=True)[1:-1]
    return {secret, escaped, escaped.replace("/", "\\/"), ascii_escaped, ascii_escaped.replace("/", "\\/"),
            quote(secret, safe="")}


def _secrets() -> list[str]:
    raw = {PASSWORD, f"{USER}:{PASSWORD}", MD5, f"{USER}:{MD5}",
           base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
           base64.b64encode(f"{USER}:{MD5}".encode()).decode()}
    return sorted({form for secret in raw for form in _forms(secret)}, key=len, reverse=True)


SECRETS = _secrets()


def _echo(answer: Answer) -> Answer:
    """Codes carry the Authorization header, the password JSON-escaped with \\/ and URL-encoded; discountValue
    (a number by the schema) carries the header, so the rule's example quotes it."""
    basic = answer.request.headers.get("Authorization", "").removeprefix("Basic ")
    escaped = json.dumps(PASSWORD)[1:-1].replace("/", "\\/")
    if answer.status == 200 and isinstance(answer.body, dict):
        for entity in answer.body["response"]:
            result = entity.get("result")
            if isinstance(result, dict) and result.get("code"):
                result["code"] = f"{result['code']}-{basic}-{escaped}-{quote(PASSWORD, safe='')}-{MD5}"
                result["discountValue"] = f"Basic {basic}"
    return answer


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.mark.parametrize("md5", [False, True], ids=["plain", "md5"])
def test_no_form_of_the_credential_reaches_a_load_file(md5: bool, tmp_path: Path) -> None:
    config = replace(default_config(), users={USER: MD5 if md5 else PASSWORD})
    out = tmp_path / "out"
    with running_sandbox(config, mutate=_echo) as sandbox:
        result = run_load(load_settings(sandbox.base_url, user=USER, password=PASSWORD, md5_password=md5, users=4,
                                        run_time_s=2.0), out)
    why = describe(result)
    assert result.coupons_issued > 0, why
    assert "response-schema" in result.violation_counts, why  # the echoed value was judged and quoted
    rows = coupon_rows(out)
    assert len(rows) - 1 == result.coupons_issued, why
    assert all("<redacted>" in row[1] for row in rows[1:]), rows[:3]
    files = {path.name: path.read_text(encoding="utf-8") for path in out.rglob("*") if path.is_file()}
    assert "coupons.csv" in files and "locust_stats.json" in files, sorted(files)
    files["result"] = json.dumps(asdict(result), ensure_ascii=False)
    leaks = {name: _leaks(text) for name, text in files.items() if _leaks(text)}
    assert leaks == {}, leaks
    assert "<redacted>" in " ".join(result.violation_examples.values()), result.violation_examples


def test_the_echo_target_would_leak_without_redaction() -> None:
    """The test above can fire: what the target sends holds every form it greps for."""
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    code = f"ABC-{basic}-{json.dumps(PASSWORD)[1:-1].replace('/', chr(92) + '/')}-{quote(PASSWORD, safe='')}-{MD5}"
    assert _leaks(code)
