"""The command line: exit codes, one-line errors, reports written, no credential in any output."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.progress_lines import assert_plain_progress

from coupon_harness.cli.main import main
from coupon_harness.sandbox.app import Answer
from coupon_harness.sandbox.config import default_config
from coupon_harness.sandbox.server import running_sandbox

EXE = str(Path(sys.executable).with_name("coupon-harness"))


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with running_sandbox() as sandbox:
        yield sandbox.base_url


@pytest.mark.parametrize(("argv", "fragment"), [
    (["contract", "--bogus"], "unrecognized arguments: --bogus"),
    (["contract"], "give --base-url URL"),
    (["contract", "--base-url", "ftp://x"], "is not an http(s) URL"),
    (["contract", "--base-url", "http://127.0.0.1:1", "--user", "u:p"], "cannot reach"),
    (["contract", "--base-url", "http://127.0.0.1:1", "--config", "/no/such.toml"], "does not exist"),
    (["contract", "--base-url", "http://127.0.0.1:1", "--series-ids", "1,x"], "is not an integer"),
    # What a shell hands Python for the bytes c\xff: a lone surrogate that no JSON body can carry as is.
    (["contract", "--base-url", "http://127.0.0.1:1", "--customer-ids", "c1,c\udcff"], "is not valid UTF-8"),
    (["contract", "--base-url", "http://127.0.0.1:1", "--series-ids", "1", "--invalid-series-ids", "1"],
     "in both"),
    (["serve", "--port", "70000"], "not a port number"),
])
def test_harness_errors_exit_2_with_one_line(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
                                              ) -> None:
    with pytest.raises(SystemExit) if "--bogus" in argv else _nothing():
        code = main(argv)
        assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert fragment in err[-1]
    assert "Traceback" not in "\n".join(err)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        if exc[0] is SystemExit:
            assert exc[1].code == 2  # type: ignore[union-attr]
            return True
        return False


def test_wrong_credentials_exit_2(sandbox_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract", "--base-url", sandbox_url, "--user", "sandbox:wrong-pw", "--series-ids", "101"]) == 2
    err = capsys.readouterr().err
    assert "refused the configured credentials" in err
    assert "wrong-pw" not in err


def test_contract_against_a_served_sandbox_exits_0_and_writes_reports(sandbox_url: str, tmp_path: Path) -> None:
    report_dir = tmp_path / "reports"
    done = subprocess.run([EXE, "contract", "--base-url", sandbox_url, "--max-examples", "20", "--seed", "7",
                           "--report-dir", str(report_dir)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.name for p in report_dir.iterdir()} == {"junit.xml", "summary.json", "report.md", "report.html",
                                                     "coupons.csv"}
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["seed"] == 7
    assert "Traceback" not in done.stderr
    lines = assert_plain_progress(done.stderr)  # captured: plain lines, one clock each
    assert any(line.endswith("] classics: started") for line in lines), lines


def _echo_credentials(answer: Answer) -> Answer:
    """Breaks no-server-error and echoes the caller's credentials into the body."""
    if answer.status == 200:
        answer.status = 500
        answer.body = {"echo": answer.request.headers.get("Authorization", ""), "password": "sandbox-pw"}
    return answer


def test_no_credential_reaches_reports_or_console(tmp_path: Path) -> None:
    """A broken target that echoes the credentials back: reports and console carry only <redacted>."""
    config = replace(default_config(), users={"sandbox": "sandbox-pw"})
    report_dir = tmp_path / "reports"
    with running_sandbox(config, mutate=_echo_credentials) as sandbox:
        done = subprocess.run([EXE, "contract", "--base-url", sandbox.base_url, "--user", "sandbox:sandbox-pw",
                               "--series-ids", "101", "--max-examples", "5", "--report-dir", str(report_dir)],
                              capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    secret_b64 = base64.b64encode(b"sandbox:sandbox-pw").decode()
    texts = {"stdout": done.stdout, "stderr": done.stderr}
    texts.update({p.name: p.read_text() for p in report_dir.iterdir()})
    for name, text in texts.items():
        assert secret_b64 not in text, name
        assert "sandbox-pw" not in text, name
    assert "<redacted>" in texts["summary.json"]
    assert "no-server-error" in texts["report.md"]


def test_run_starts_the_sandbox_and_writes_an_index(tmp_path: Path) -> None:
    done = subprocess.run([EXE, "run", "--max-examples", "10", "--report-dir", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    index = (tmp_path / "run" / "index.html").read_text()
    assert "contract/report.html" in index
    assert "PASS" in done.stdout
    assert_plain_progress(done.stderr)
