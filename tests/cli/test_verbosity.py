"""-v/-q on every command: diagnostics through logging on stderr, -q keeps the errors and the verdict line.

What a user reads by default is held by the other CLI tests (unchanged); here: -v adds INFO lines (a pass's start),
-vv DEBUG lines, -q drops the progress and informational lines but keeps the verdict and the exit code, -v with -q
is a usage error, and the variables do what the flags do.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from coupon_harness.cli.main import main
from coupon_harness.log_setup import FORMAT, LINE, configure, level_for, redact_with
from coupon_harness.sandbox.server import running_sandbox
from coupon_harness.transport.auth import Credentials, Redactor
from targets.broken import BROKEN

PASS_START = "coupon-harness: INFO coupon_harness.runners.contract.runner: pass classics: started"
PROGRESS = re.compile(r"^\[ *\d+\.\ds\] ", re.MULTILINE)


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with running_sandbox() as sandbox:
        yield sandbox.base_url


@pytest.fixture(autouse=True)
def _default_level() -> Iterator[None]:
    yield
    configure(logging.WARNING)  # in-process runs leave the level they set


def _contract(url: str, tmp_path: Path, *flags: str) -> list[str]:
    return ["contract", "--base-url", url, "--passes", "classics", "--seed", "3", "--no-color",
            "--report-dir", str(tmp_path / "r"), *flags]


def test_default_output_has_no_log_line(sandbox_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_contract(sandbox_url, tmp_path)) == 0
    out, err = capsys.readouterr()
    assert "coupon-harness: INFO" not in err and "coupon-harness: DEBUG" not in err
    assert PROGRESS.search(err) and "reports: " in err
    assert out.rstrip().splitlines()[-1].startswith("PASS: ")


def test_v_shows_a_pass_start_and_vv_a_debug_line(sandbox_url: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_contract(sandbox_url, tmp_path, "-v")) == 0
    err = capsys.readouterr().err
    assert PASS_START in err
    assert re.search(r"pass classics: done, \d+ requests", err)
    assert "coupon-harness: INFO coupon_harness.cli.lifecycle: reports written: " in err
    assert "DEBUG" not in err
    assert main(_contract(sandbox_url, tmp_path, "-vv", "--overwrite")) == 0
    err = capsys.readouterr().err
    assert PASS_START in err
    assert "coupon-harness: DEBUG coupon_harness.runners.contract.preflight: first answer: 200" in err


def test_q_keeps_the_verdict_and_the_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = next(b for b in BROKEN if b.name == "500-on-65-char-customer-id")
    assert broken.make_mutate is not None
    with running_sandbox(mutate=broken.make_mutate()) as sandbox:
        argv = ["contract", "--base-url", sandbox.base_url, "--passes", "classics", "--seed", "3", "--no-color"]
        assert main([*argv, "--report-dir", str(tmp_path / "loud")]) == 1
        loud_out, loud_err = capsys.readouterr()
        assert main([*argv, "-q", "--report-dir", str(tmp_path / "quiet")]) == 1
        out, err = capsys.readouterr()
    verdict = loud_out.rstrip().splitlines()[-1]
    assert verdict.startswith("FAIL: ")
    assert len(out.splitlines()) == 1  # the one verdict line, nothing else (its figures but the timings alike)
    assert out.split(" requests in ")[0] == verdict.split(" requests in ")[0]
    assert PROGRESS.search(loud_err) and not PROGRESS.search(err)
    assert "reports: " in loud_err and err == ""
    assert (tmp_path / "quiet" / "report.md").is_file()  # the reports are written all the same


def test_q_keeps_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract", "-q", "--base-url", "http://127.0.0.1:1", "--series-ids", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("coupon-harness contract: error: ") and err.count("\n") == 1


@pytest.mark.parametrize("command", ["contract", "load", "run", "capacity", "diff", "serve", "replay", "export-tests",
                                     "locustfile-path"])
def test_v_with_q_is_a_one_line_usage_error(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "-v", "-q"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "-q/--quiet: not allowed with argument -v/--verbose" in err


def test_the_variables_and_the_flags(sandbox_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUPON_HARNESS_VERBOSE", "1")
    assert main(_contract(sandbox_url, tmp_path)) == 0
    assert PASS_START in capsys.readouterr().err
    assert main(_contract(sandbox_url, tmp_path, "-q", "--overwrite")) == 0  # a flag wins over the variables
    out, err = capsys.readouterr()
    assert err == "" and len(out.splitlines()) == 1
    monkeypatch.setenv("COUPON_HARNESS_QUIET", "true")
    assert main(_contract(sandbox_url, tmp_path, "--overwrite")) == 2
    err = capsys.readouterr().err
    assert "COUPON_HARNESS_VERBOSE and COUPON_HARNESS_QUIET are both set" in err and err.count("\n") == 1
    monkeypatch.setenv("COUPON_HARNESS_VERBOSE", "3")
    assert main(_contract(sandbox_url, tmp_path, "--overwrite")) == 2
    assert "COUPON_HARNESS_VERBOSE" in capsys.readouterr().err


def test_levels_and_format() -> None:
    assert [level_for(v) for v in (-1, 0, 1, 2, 5)] == [logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG,
                                                         logging.DEBUG]
    stream = io.StringIO()
    configure(logging.INFO, stream)
    logging.getLogger("coupon_harness.some.module").info("hello %d", 1)
    logging.getLogger("coupon_harness.some.module").debug("not shown")
    logging.getLogger("urllib3.connectionpool").warning("not ours")  # only the package's loggers get the handler
    assert stream.getvalue() == "coupon-harness: INFO coupon_harness.some.module: hello 1\n"
    assert LINE.match(stream.getvalue()) and FORMAT.startswith("coupon-harness: ")
    assert not LINE.match("coupon-harness: error: a setup error")  # the load process's own lines stay its own


def test_the_handler_redacts_every_registered_secret() -> None:
    """A net under the call sites: a secret (percent-encoded, base64 of USER:PASSWORD) in a log line is redacted."""
    stream = io.StringIO()
    configure(logging.DEBUG, stream)
    creds = Credentials(user="till", password="s3cr3t pw/ö")
    redact_with(creds, Redactor(creds).text)
    header = Credentials(user="till", password="s3cr3t pw/ö").basic_header() or ""
    logging.getLogger("coupon_harness.x").debug("echoed %s and %s", "s3cr3t%20pw%2F%C3%B6", header)
    text = stream.getvalue()
    assert "s3cr3t" not in text and header.split()[1] not in text and text.count("<redacted>") == 2


def test_the_load_process_logs_at_the_cli_level(sandbox_url: str, tmp_path: Path,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    """The level reaches the load process (`--log-level`); its lines reach this process's stderr."""
    argv = ["load", "--base-url", sandbox_url, "--run-time", "1s", "--users", "1", "--no-color"]
    assert main([*argv, "-v", "--report-dir", str(tmp_path / "v")]) == 0
    err = capfd.readouterr().err
    assert re.search(r"coupon-harness: INFO coupon_harness\.runners\.load\.process: local load process \d+: 1 users "
                     "against http://127", err), err
    assert re.search(r"local load process \d+: \d+ requests, \d+ coupons; .*result\.json written", err)
    assert re.search(r"coupon_harness\.runners\.load\.runner: load process \d+ exited \(0\)", err)
    assert main([*argv, "-q", "--report-dir", str(tmp_path / "q")]) == 0
    out, err = capfd.readouterr()
    assert err == "" and out.startswith("PASS: ") and len(out.splitlines()) == 1
