"""The last-resort guard: a bug in the harness is one line, a traceback file without credentials, exit 2."""

from __future__ import annotations

import argparse
import base64
import re
import tempfile
from pathlib import Path
from typing import NoReturn

import pytest

from coupon_harness.cli import contract_cmd, run_cmd
from coupon_harness.cli.exit_codes import EXIT_HARNESS_ERROR
from coupon_harness.cli.main import main
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.transport.auth import Credentials, TokenSource

PASSWORD = "s3cret-pw"
URL_PASSWORD = "url-pa55"
TOKEN = "tok-abc123"
OAUTH_KEY = "key-xyz789"
OAUTH_SECRET = "osecret-456"
ENV_TOKEN = "env-token-999"
FETCHED = "fetched-token-777"
SECRETS = (PASSWORD, URL_PASSWORD, TOKEN, OAUTH_KEY, OAUTH_SECRET, ENV_TOKEN, FETCHED,
           base64.b64encode(f"till01:{PASSWORD}".encode()).decode())

LINE = re.compile(r"^coupon-harness (?P<command>\w+): harness error \(a bug in coupon-harness, not a finding\): "
                  r"(?P<error>\w+: .*); seed (?P<seed>\d+|not chosen yet); traceback in (?P<path>.+)$")


def _argv(*extra: str) -> list[str]:
    return ["contract", "--base-url", f"http://till01:{URL_PASSWORD}@127.0.0.1:1", "--user", f"till01:{PASSWORD}",
            f"--token={TOKEN}", "--oauth-key", OAUTH_KEY, "--oauth-secret", OAUTH_SECRET, *extra]


def _broken_handler(args: argparse.Namespace) -> NoReturn:
    """A harness bug deep in a run, with credentials on the stack and in the message."""
    tokens = TokenSource("http://127.0.0.1:1", OAUTH_KEY, OAUTH_SECRET, 1.0)
    tokens.fetched.append(FETCHED)
    settings = ContractSettings(base_url="http://127.0.0.1:1", seed=4242,
                                credentials=Credentials(user="till01", password=PASSWORD, token=TOKEN))
    raise ValueError(f"bad value near {PASSWORD} and {FETCHED} and {ENV_TOKEN} "
                     f"(target http://till01:{URL_PASSWORD}@127.0.0.1:1, {settings.seed}, {tokens.fetched[0]})")


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch) -> None:
    """`contract` runs the broken handler, with a token in the environment as well."""
    monkeypatch.setattr(contract_cmd, "_handle", _broken_handler)
    monkeypatch.setenv("COUPON_HARNESS_TOKEN", ENV_TOKEN)


def _line(capsys: pytest.CaptureFixture[str]) -> re.Match[str]:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    match = LINE.match(lines[0])
    assert match is not None, lines[0]
    for secret in SECRETS:
        assert secret not in captured.err + captured.out
    return match


def _assert_clean_traceback_file(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert "ValueError: bad value near <redacted>" in text
    assert "--user <redacted>" in text
    assert "--token=<redacted>" in text
    assert "--oauth-key <redacted>" in text
    assert "--oauth-secret <redacted>" in text
    assert "http://<redacted>@127.0.0.1:1" in text
    for secret in SECRETS:
        assert secret not in text, secret
    return text


@pytest.mark.usefixtures("broken")
def test_a_harness_bug_is_one_line_a_clean_traceback_file_and_exit_2(capsys: pytest.CaptureFixture[str],
                                                                     tmp_path: Path) -> None:
    report_dir = tmp_path / "reports" / "run-1"

    assert main(_argv("--report-dir", str(report_dir))) == EXIT_HARNESS_ERROR == 2

    match = _line(capsys)
    assert match["command"] == "contract"
    assert match["error"].startswith("ValueError: bad value near <redacted>")
    assert match["seed"] == "4242"  # the seed of the settings on the stack, though no --seed was given
    assert Path(match["path"]) == report_dir / "harness-error.txt"
    text = _assert_clean_traceback_file(report_dir / "harness-error.txt")
    assert "seed: 4242" in text
    assert "_broken_handler" in text


@pytest.mark.usefixtures("broken")
def test_without_a_report_dir_the_file_goes_to_reports_with_time_and_pid(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(_argv()) == 2

    path = Path(_line(capsys)["path"])
    assert re.fullmatch(r"harness-error-\d{8}-\d{6}-\d+\.txt", path.name)
    assert path.parent == Path("reports")
    _assert_clean_traceback_file(tmp_path / path)


@pytest.mark.usefixtures("broken")
def test_a_report_dir_that_cannot_be_made_falls_back_to_a_temp_file(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    (tmp_path / "a-file").write_text("")

    assert main(_argv("--report-dir", str(tmp_path / "a-file" / "sub"))) == 2

    path = Path(_line(capsys)["path"])
    assert path.parent == tmp_path / "tmp"
    _assert_clean_traceback_file(path)


def test_the_seed_of_the_flag_or_none_yet(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    def early_bug(args: argparse.Namespace) -> int:
        return int("not a number")

    monkeypatch.setattr(contract_cmd, "_handle", early_bug)
    assert main(["contract", "--base-url", "http://127.0.0.1:1", "--seed", "77",
                 "--report-dir", str(tmp_path / "a")]) == 2
    match = _line(capsys)
    assert (match["seed"], match["error"]) == ("77", "ValueError: invalid literal for int() with base 10: "
                                                     "'not a number'")
    assert main(["contract", "--base-url", "http://127.0.0.1:1", "--report-dir", str(tmp_path / "b")]) == 2
    assert _line(capsys)["seed"] == "not chosen yet"


def test_run_keeps_its_report_dir_though_the_handler_clears_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    def run_bug(args: argparse.Namespace) -> int:
        args.report_dir = None  # as run_cmd does before its stages
        raise KeyError("stage")

    monkeypatch.setattr(run_cmd, "_handle", run_bug)
    assert main(["run", "--report-dir", str(tmp_path / "run")]) == 2
    match = _line(capsys)
    assert match["command"] == "run"
    assert Path(match["path"]) == tmp_path / "run" / "harness-error.txt"


def test_a_diff_bug_redacts_the_second_targets_credentials_too(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str],
                                                                tmp_path: Path) -> None:
    """`diff` holds two targets' secrets: flags, variables and the config's second target of both are removed."""
    from coupon_harness.cli import diff_cmd

    against_password, against_token, table_password = "b-s3cret-pw", "b-tok-4567", "tbl-pw-8910"
    config = tmp_path / "targets.toml"
    config.write_text(f'[targets.b]\nbase-url = "http://127.0.0.1:2"\nuser = "tb:{table_password}"\n',
                      encoding="utf-8")

    def bug(args: argparse.Namespace) -> NoReturn:
        raise ValueError(f"both near {PASSWORD}, {against_password}, {against_token} and {table_password}")

    monkeypatch.setattr(diff_cmd, "_handle", bug)
    monkeypatch.setenv("COUPON_HARNESS_AGAINST_TOKEN", against_token)
    report_dir = tmp_path / "r"
    argv = ["diff", "--base-url", "http://127.0.0.1:1", "--user", f"a:{PASSWORD}", "--config", str(config),
            "--against-target", "b", "--against-password", against_password, "--report-dir", str(report_dir)]
    assert main(argv) == EXIT_HARNESS_ERROR
    captured = capsys.readouterr()
    text = (report_dir / "harness-error.txt").read_text(encoding="utf-8")
    for secret in (PASSWORD, against_password, against_token, table_password):
        assert secret not in text + captured.err + captured.out, secret
    assert "--against-password <redacted>" in text
