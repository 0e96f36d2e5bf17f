"""Every input is checked where it is parsed, before any request: one stderr line naming the flag, exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coupon_harness.cli.main import main
from coupon_harness.cli.option_table import Sources, resolve
from coupon_harness.config import parse_customer_ids, parse_int_list
from coupon_harness.errors import ConfigError
from coupon_harness.sandbox.server import running_sandbox

EXE = str(Path(sys.executable).with_name("coupon-harness"))
#: Nothing listens on port 1: a run that got past validation would fail with "cannot reach" instead.
DEAD = "http://127.0.0.1:1"
C = ["contract", "--base-url", DEAD]
L = ["load", "--base-url", DEAD, "--series-ids", "101", "--user", "u:p"]
R = ["run", "--base-url", DEAD, "--series-ids", "101", "--user", "u:p"]

CASES: list[tuple[list[str], str]] = [
    # --request-timeout: finite, > 0, at most an hour (contract, run and load share it)
    ([*C, "--request-timeout", "nan"], "--request-timeout"),
    ([*C, "--request-timeout", "inf"], "--request-timeout"),
    ([*C, "--request-timeout", "0"], "--request-timeout"),
    ([*C, "--request-timeout", "-1"], "--request-timeout"),
    ([*C, "--request-timeout", "1e9"], "--request-timeout"),
    ([*R, "--request-timeout", "nan"], "--request-timeout"),
    ([*L, "--request-timeout", "-1"], "--request-timeout"),
    # --base-url
    (["contract", "--base-url", "http://[::1"], "--base-url"),
    (["contract", "--base-url", "http://"], "--base-url"),
    (["contract", "--base-url", "http://:8080"], "has no host"),
    (["contract", "--base-url", "http://127.0.0.1:99999"], "port"),
    (["contract", "--base-url", "http://127.0.0.1:0"], "port"),
    (["contract", "--base-url", "http://127.0.0.1:1/#x"], "fragment"),
    (["contract", "--base-url", "http://127.0.0.1:1/prefix?a=1"], "query string"),
    (["contract", "--base-url", "http://127.0.0.1:1/a b"], "--base-url"),
    (["load", "--base-url", "http://[::1", "--series-ids", "101"], "--base-url"),
    (["run", "--base-url", "http://127.0.0.1:99999"], "port"),
    # generated passes
    ([*C, "--max-examples", "0"], "--max-examples"),
    ([*C, "--max-examples", "-5"], "--max-examples"),
    ([*C, "--max-examples", "99999999999999999999"], "--max-examples"),
    ([*C, "--seed", "-1"], "--seed"),
    ([*C, "--seed", str(2**64)], "--seed"),
    # the load run of `run`
    ([*R, "--load-users", "0"], "--load-users"),
    ([*R, "--load-users", "-3"], "--load-users"),
    ([*R, "--load-users", "99999999999999999999"], "--load-users"),
    ([*R, "--load-run-time", "0"], "--load-run-time"),
    ([*R, "--load-run-time", "31s"], "--load-run-time"),
    ([*R, "--max-coupons", "0"], "--max-coupons"),
    ([*R, "--max-coupons", "-1"], "--max-coupons"),
    ([*R, "--load-slo", "error-rate=nan"], "--load-slo"),
    ([*R, "--load-slo", "p95=0ms"], "--load-slo"),
    # load
    ([*L, "--users", "0"], "--users"),
    ([*L, "--users", "-1"], "--users"),
    ([*L, "--users", "99999999999999999999"], "--users"),
    ([*L, "--spawn-rate", "0"], "--spawn-rate"),
    ([*L, "--spawn-rate", "-1"], "--spawn-rate"),
    ([*L, "--spawn-rate", "nan"], "--spawn-rate"),
    ([*L, "--spawn-rate", "inf"], "--spawn-rate"),
    ([*L, "--run-time", "0"], "--run-time"),
    ([*L, "--run-time", "0s"], "--run-time"),
    ([*L, "--run-time", "-1"], "--run-time"),
    ([*L, "--run-time", "9" * 400], "--run-time"),
    ([*L, "--wait", "-1s"], "--wait"),
    ([*L, "--max-coupons", "0"], "--max-coupons"),
    ([*L, "--max-coupons", "-1"], "--max-coupons"),
    ([*L, "--workers", "-1"], "--workers"),
    ([*L, "--workers", "100000"], "--workers"),
    ([*L, "--master", "--expect-workers", "0"], "--expect-workers"),
    ([*L, "--master-port", "70000"], "--master-port"),
    ([*L, "--invalid-share", "1.5"], "--invalid-share"),
    ([*L, "--invalid-share", "-0.1"], "--invalid-share"),
    ([*L, "--invalid-share", "nan"], "--invalid-share"),
    ([*L, "--arrival-rate", "0"], "--arrival-rate"),
    ([*L, "--arrival-rate", "-1"], "--arrival-rate"),
    ([*L, "--arrival-rate", "nan"], "--arrival-rate"),
    ([*L, "--arrival-rate", "inf"], "--arrival-rate"),
    ([*L, "--arrival-rate", "1e12"], "--arrival-rate"),
    ([*L, "--batch-size", "x"], "--batch-size"),
    ([*L, "--batch-size", "3-1"], "--batch-size"),
    ([*L, "--batch-size", "0"], "--batch-size"),
    ([*L, "--batch-size", "1-"], "--batch-size"),
    ([*L, "--slo", "p95=0ms"], "--slo"),
    ([*L, "--slo", "p95=nan"], "--slo"),
    ([*L, "--slo", "p95=-1ms"], "--slo"),
    ([*L, "--slo", "error-rate=nan"], "--slo"),
    ([*L, "--slo", "error-rate=-1"], "--slo"),
    ([*L, "--slo", "failure-ratio=inf"], "--slo"),
    # credentials: text a request can carry; the message never shows them
    ([*C, "--user", "\udcffroot:pw"], "--user"),
    ([*C, "--user", "u:\udcff"], "--user (its password)"),
    ([*C, "--token", "\u20ac"], "--token"),
    ([*C, "--token", "a\r\nX-Evil: 1"], "--token"),
    ([*C, "--oauth-key", "\udcff", "--oauth-secret", "s"], "--oauth-key"),
    ([*L, "--token", "a b"], "--token"),
    # `--flag=--`: argparse (Python < 3.12) hands the handler [] for the value '--'
    ([*C, "--config=--"], "--config"),
    ([*C, "--user=--"], "--user"),
    ([*L, "--slo=--"], "--slo"),
    ([*R, "--load-users=--"], "--load-users"),
    ([*R, "--config=--"], "--config"),
    # series and customers
    ([*C, "--series-ids", "1,99999999999999999999"], "--series-ids"),
]

#: TOML files (written to a temporary folder) and the fragment their error names.
BAD_FILES: list[tuple[bytes, str]] = [
    (b'default-target = ["a"]\n[targets.a]\nbase-url = "http://127.0.0.1:1"\n', "default-target"),
    (b'default-target = 1\n[targets.a]\nbase-url = "http://127.0.0.1:1"\n', "default-target"),
    ('[targets.a]\nbase-url = "http://127.0.0.1:1"\n# caf\u00e9\n'.encode("latin-1"), "not UTF-8"),
    (b"[targets.a]\nbase-url = 5\n", "base-url"),
    (b'[targets.a]\nbase-url = ["http://127.0.0.1:1"]\n', "base-url"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\nrequest-timeout = nan\n', "request-timeout"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\nrequest-timeout = -inf\n', "request-timeout"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\nrequest-timeout = true\n', "request-timeout"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\nrequest-timeout = [1]\n', "request-timeout"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\nmax-examples = 0\n', "max-examples"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\nmax-examples = 1.5\n', "max-examples"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\nseed = -1\n', "seed"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\nmd5-password = "yes"\n', "md5-password"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\nseries-ids = [1, [2]]\n', "series-ids"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\nseries-ids = [1.5]\n', "series-ids"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\nseries-ids = {a = 1}\n', "series-ids"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\ncustomer-ids = [{a = 1}]\n', "customer-ids"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\ncustomer-ids = 5\n', "customer-ids"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1"\nreport-dir = 5\n', "report-dir"),
    (b'[targets.a]\nbase-url = "http://127.0.0.1:1/#frag"\n', "fragment"),
    ('[targets.a]\nbase-url = "http://127.0.0.1:1"\ntoken = "\u20ac"\n'.encode(), "token"),
]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Records (and refuses) every connection attempt: validation must fail before the first one."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise ConnectionRefusedError(111, "refused by the test: validation should have failed first")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts


def _assert_one_line_exit_2(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str],
                            attempts: list[Any]) -> str:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code  # type: ignore[assignment]
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2, captured.err
    assert len(lines) == 1, captured.err
    assert fragment in lines[0], lines[0]
    assert "cannot reach" not in lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert attempts == [], f"a request was attempted before validation: {attempts}"
    return lines[0]


@pytest.mark.parametrize(("argv", "fragment"), CASES, ids=[" ".join(a[3:] if a[0] != "contract" else a[1:])[:60]
                                                           for a, _ in CASES])
def test_bad_flags_exit_2_with_one_line_before_any_request(argv: list[str], fragment: str,
                                                          capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                          no_network: list[Any]) -> None:
    line = _assert_one_line_exit_2([*argv, "--report-dir", str(tmp_path / "r")], fragment, capsys, no_network)
    assert line.startswith(f"coupon-harness {argv[0]}: error: ")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(("text", "fragment"), BAD_FILES, ids=[str(i) for i in range(len(BAD_FILES))])
@pytest.mark.parametrize("command", ["contract", "run", "load"])
def test_bad_config_files_exit_2_with_one_line(text: bytes, fragment: str, command: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str], no_network: list[Any]) -> None:
    path = tmp_path / "targets.toml"
    path.write_bytes(text)
    if fragment != "fragment":  # the URL itself is checked where every source of it meets, not in the file
        with pytest.raises(ConfigError):
            resolve(Sources(flags={"config": str(path)}, environ={}), command)
    _assert_one_line_exit_2([command, "--config", str(path), "--report-dir", str(tmp_path / "r")], fragment,
                            capsys, no_network)


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1", "abc", "1e9"])
def test_request_timeout_from_the_environment(value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str], no_network: list[Any]) -> None:
    monkeypatch.setenv("COUPON_HARNESS_REQUEST_TIMEOUT", value)
    _assert_one_line_exit_2([*C, "--report-dir", str(tmp_path)], "COUPON_HARNESS_REQUEST_TIMEOUT", capsys,
                            no_network)


@pytest.mark.parametrize(("name", "value", "fragment"), [
    ("COUPON_HARNESS_TOKEN", "t\u20ac", "COUPON_HARNESS_TOKEN"),
    ("COUPON_HARNESS_USER", "u:\udcff", "COUPON_HARNESS_USER (its password)"),
    ("COUPON_HARNESS_PASSWORD", "\udcff", "COUPON_HARNESS_PASSWORD"),
    ("COUPON_HARNESS_OAUTH_SECRET", "\udcff", "COUPON_HARNESS_OAUTH_SECRET"),
])
def test_credentials_from_the_environment(name: str, value: str, fragment: str, monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          no_network: list[Any]) -> None:
    monkeypatch.setenv(name, value)
    line = _assert_one_line_exit_2([*C, "--report-dir", str(tmp_path)], fragment, capsys, no_network)
    assert value not in line


def test_the_flag_request_timeout_wins_over_a_sane_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from coupon_harness.cli.main import build_parser
    from coupon_harness.cli.option_table import resolve, sources_from_namespace

    monkeypatch.setenv("COUPON_HARNESS_REQUEST_TIMEOUT", "7")
    args = build_parser().parse_args(["contract", "--base-url", DEAD])
    assert resolve(sources_from_namespace(args, "contract"), "contract").get("request-timeout") == 7
    args = build_parser().parse_args(["load", "--base-url", DEAD, "--request-timeout", "2.5"])
    assert resolve(sources_from_namespace(args, "load"), "load").get("request-timeout") == 2.5


def test_good_values_still_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The bounds are inclusive where they should be: a valid run gets as far as the (dead) target."""
    code = main(["contract", "--request-timeout", "3600", "--max-examples", "100000", "--seed", "0",
                 "--report-dir", str(tmp_path), "--base-url", DEAD + "/prefix/"])
    assert code == 2
    assert "cannot reach http://127.0.0.1:1/prefix/v2/coupon/bulk/issue" in capsys.readouterr().err


def test_ids_are_deduplicated_keeping_order() -> None:
    assert parse_customer_ids("c2,c1,c2, c1 ,c3", "--customer-ids") == ("c2", "c1", "c3")
    assert parse_customer_ids(["c1", "c1"], "customer-ids") == ("c1",)
    assert parse_int_list("102,101,102,101", "--series-ids") == (102, 101)
    assert parse_int_list([5, 5, "5"], "series-ids") == (5,)


def test_help_says_repeated_ids_count_once(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["contract", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--customer-ids c1,c2 customers known to the target (default: fresh ids); an id given twice counts once" \
        in out


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with running_sandbox() as sandbox:
        yield sandbox.base_url


@pytest.mark.parametrize("customers", ["c1,c1", "c1", "c1,c1,c2"])
def test_repeated_customer_ids_finish(customers: str, sandbox_url: str, tmp_path: Path) -> None:
    """`--customer-ids c1,c1` looped forever in the two-customers scenario (it wants two distinct ids)."""
    done = subprocess.run([EXE, "contract", "--base-url", sandbox_url, "--customer-ids", customers,
                           "--max-examples", "8", "--seed", "3", "--report-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_a_load_run_against_nothing_is_a_setup_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It used to hammer the closed port for the whole run time and end as SLO breaches (exit 1)."""
    started = time.monotonic()
    code = main(["load", "--base-url", "http://u:secret@127.0.0.1:1/prefix", "--series-ids", "101", "--user", "u:p",
                 "--run-time", "30s", "--slo", "p95=1s", "--report-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and "cannot reach http://127.0.0.1:1 " in lines[0], err
    assert "secret" not in err
    assert time.monotonic() - started < 10
    assert not (tmp_path / "r").exists()
