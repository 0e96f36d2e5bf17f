"""One registry of secret options: `Option.secret` in the option table. A new row marked secret (added here by
monkeypatching the table, as a new row in option_table.py would be) is redacted, in every form, from the crash
guard's line and file (whether it came as a flag, a variable or a config key) and from a contract and a load
run's outputs, with no other edit: the crash guard, the settings builders and the load process read the table."""

from __future__ import annotations

import argparse
import base64
import html
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import pytest

from coupon_harness.cli import contract_cmd, option_table
from coupon_harness.cli.harness_bug import secret_flags
from coupon_harness.cli.main import main
from coupon_harness.cli.option_table import SCOPES, Option
from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.config import default_config
from coupon_harness.sandbox.server import running_sandbox

FLAG_PIN, ENV_PIN, FILE_PIN = "vault'PIN&<7>/flag", "vault'PIN&<8>/env", "vault'PIN&<9>/file"


def _forms(secret: str) -> list[str]:
    return [secret, json.dumps(secret)[1:-1], "".join(f"\\u{ord(char):04x}" for char in secret), html.escape(secret),
            "".join(f"&#{ord(char)};" for char in secret), quote(secret, safe=""), repr(secret)[1:-1],
            base64.b64encode(secret.encode()).decode(), base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")]


def _leaks(texts: dict[str, str], *secrets: str) -> list[str]:
    return [f"{name}: {form!r}" for name, text in texts.items() for secret in secrets for form in _forms(secret)
            if form in text]


@pytest.fixture
def vault_pin(monkeypatch: pytest.MonkeyPatch) -> Iterator[Option]:
    """A new option, `--vault-pin`, marked secret: the table's row, and the lookups the module derives from its
    rows when it is imported."""
    row = Option("vault-pin", frozenset(SCOPES), lambda value, what: str(value), "the PIN of the vault", "PIN",
                 group="credentials", secret=True)
    rows = (*option_table.OPTIONS, row)
    monkeypatch.setattr(option_table, "OPTIONS", rows)
    monkeypatch.setattr(option_table, "_BY_NAME", {opt.name: opt for opt in rows})
    monkeypatch.setattr(option_table, "_FILE_KEYS", tuple(opt.name for opt in rows if opt.in_file))
    yield row


def test_the_crash_guard_takes_its_secrets_from_the_table(vault_pin: Option, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert "--vault-pin" in secret_flags() and "--oauth-secret" in secret_flags()
    config = tmp_path / "targets.toml"
    config.write_text(f'[targets.staging]\nbase-url = "http://127.0.0.1:1"\nvault-pin = "{FILE_PIN}"\n',
                      encoding="utf-8")
    monkeypatch.setenv(vault_pin.env, ENV_PIN)

    def broken(args: argparse.Namespace) -> NoReturn:
        quoted = " ".join(form for pin in (FLAG_PIN, ENV_PIN, FILE_PIN) for form in _forms(pin))
        raise ValueError(f"the vault answered {quoted}")

    monkeypatch.setattr(contract_cmd, "_handle", broken)
    report = tmp_path / "reports"
    code = main(["contract", "--config", str(config), "--target", "staging", "--vault-p", FLAG_PIN, "--report-dir",
                 str(report)])
    out, err = capsys.readouterr()
    assert code == 2
    file = (report / "harness-error.txt").read_text(encoding="utf-8")
    assert "--vault-p <redacted>" in file and "ValueError: the vault answered <redacted>" in file
    assert "ValueError: the vault answered <redacted>" in err
    leaks = _leaks({"stdout": out, "stderr": err, "harness-error.txt": file}, FLAG_PIN, ENV_PIN, FILE_PIN)
    assert leaks == []


class EchoPin:
    """A target that knows the PIN and echoes it, in several forms, in 4xx bodies, a 200's field and codes."""

    def __init__(self) -> None:
        self.forms = _forms(FLAG_PIN)
        self.answers = 0

    def __call__(self, answer: Answer) -> Answer:
        self.answers += 1
        echoed = " | ".join(self.forms)
        if answer.status == 200 and isinstance(answer.body, dict):
            for entity in answer.body["response"]:
                if isinstance(entity.get("result"), dict):
                    entity["result"]["discountValue"] = echoed
                    entity["result"]["code"] += "-" + self.forms[self.answers % len(self.forms)]
            return answer
        if answer.status >= 400:
            return Answer(answer.status, ('{"message":"' + echoed + '"}').encode(), answer.request,
                          {"Content-Type": "application/json"})
        return answer


@pytest.mark.parametrize("command", ["contract", "load"])
def test_a_runs_outputs_hide_a_new_secret_option(command: str, vault_pin: Option, tmp_path: Path,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    """The value reaches the run's Redactor (Credentials.extra, built from the table), in the load process too."""
    echo = EchoPin()
    report = tmp_path / "reports"
    config = replace(default_config(), users={"till01": "pw-till-01"})
    run = ["--max-examples", "2"] if command == "contract" else ["--run-time", "1s", "--users", "2"]
    with running_sandbox(config, mutate=echo) as sandbox:
        code = main([command, "--base-url", sandbox.base_url, "--user", "till01:pw-till-01", "--vault-pin", FLAG_PIN,
                     "--no-color", "--report-dir", str(report), *run])
    out, err = capfd.readouterr()
    assert code == 1, out + err
    texts: dict[str, Any] = {"stdout": out, "stderr": err}
    texts |= {path.name: path.read_text(encoding="utf-8") for path in report.rglob("*") if path.is_file()}
    assert echo.answers > 0 and "<redacted>" in texts["summary.json"]
    if command == "load":
        rows = texts["coupons.csv"].splitlines()[1:]
        assert rows and all("<redacted>" in row for row in rows), rows[:3]
    assert _leaks(texts, FLAG_PIN) == []


def test_a_new_secret_option_given_twice_shows_neither_value(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The "given twice" message reads the same mark (`is_secret`), whatever group the row sits in."""
    row = Option("vault-salt", frozenset(SCOPES), lambda value, what: str(value), "the salt of the vault", "SALT",
                 group="run", secret=True)
    monkeypatch.setattr(option_table, "OPTIONS", (*option_table.OPTIONS, row))
    assert option_table.is_secret(row) and not option_table.is_secret(option_table.option("seed"))
    with pytest.raises(SystemExit) as exit_info:
        main(["contract", "--base-url", "http://127.0.0.1:1", "--vault-salt", FLAG_PIN, "--vault-salt", ENV_PIN])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "--vault-salt: given twice (its values are not shown)" in err, err
    assert _leaks({"stderr": err}, FLAG_PIN, ENV_PIN) == []
