"""Every input is checked where it is parsed, before any request: one stderr line naming the flag, exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
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
    # --passes: names of passes only, at least one
    ([*C, "--passes", "clasics"], "did you mean classics"),
    ([*C, "--passes", ""], "--passes is empty"),
    ([*C, "--passes", ",,"], "--passes"),
    # an empty value: a pasted "$COUPON_HARNESS_*" that is not set, named (issue 18)
    ([*C, "--user", ""], 'a variable the command line gives it ("$COUPON_HARNESS_USER"?) is not set'),
    ([*L, "--slo", "p95=1s", "--slo", ""], '"$COUPON_HARNESS_SLO"?'),
    ([*R, "--passes", "load"], "--passes"),
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
    # issue 15's unclean cases, by flag (the variables, keys, plain Locust and pytest ways in are below)
    ([*L, "--master", "--worker"], "--master and --worker exclude each other"),
    ([*L, "--worker", "--workers", "2"], "--workers starts local workers under a master of its own"),
    ([*L, "--master", "--workers", "2"], "--workers starts local workers under a master of its own"),
    ([*C, "--user", "nocolon"], "--user gives a user but no password: write USER:PASSWORD, or give the password "
                                "with --password"),
    ([*C, "--user", ":p"], "--user has no user before ':'"),
    (["contract", "--base-url", "http://nocolon@127.0.0.1:1"], "--base-url holds a user but no password"),
    ([*C, "--user", "a\nb:p"], "--user holds a control character"),
    ([*C, "--user", "ab:p\r"], "--user (its password) holds a control character"),
    ([*C, "--user", "u:p\x00"], "--user (its password) holds a control character"),
    ([*C, "--user", "u", "--password", "p\n"], "--password holds a control character"),
    ([*C, "--oauth-key", "k\t", "--oauth-secret", "s"], "--oauth-key holds a control character"),
    ([*C, "--oauth-key", "k", "--oauth-secret", "s\x7f"], "--oauth-secret holds a control character"),
    ([*C, "--user", "u:p", "--token", "t", "--oauth-key", "k", "--oauth-secret", "s"],
     "--user and --oauth-key are two kinds of credentials: give one of them"),
    ([*C, "--user", "u:p", "--token", "t"], "--user and --token are two kinds of credentials"),
    ([*C, "--token", "t", "--oauth-secret", "s"], "--oauth-secret and --token are two kinds of credentials"),
    ([*C, "--oauth-secret", "s"], "--oauth-secret is the secret of --oauth-key: give --oauth-key KEY too"),
    ([*L, "--batch-size", "1-99999999999"], "at most 1,000 series a request"),
    ([*L, "--batch-size", "1001"], "at most 1,000 series a request"),
    ([*L, "--run-time", "5s", "--run-time", "10s"], "argument --run-time: given twice ('5s', then '10s'): give it "
                                                    "once"),
    ([*L, "--run-t", "5s", "--run-time=10s"], "argument --run-time: given twice ('5s', then '10s')"),
    ([*C, "--seed", "1", "--seed=2"], "argument --seed: given twice ('1', then '2')"),
    ([*C, "--report-dir", "a", "--max-examples", "5"], "argument --report-dir: given twice ('a', then"),
    ([*L, "--user", "other:secret-2"], "argument --user: given twice (its values are not shown)"),
    (["diff", "--base-url", DEAD, "--against-url", "http://127.0.0.1:2", "--against-user", "x"],
     "--against-user gives a user but no password"),
    (["diff", "--base-url", DEAD, "--against-url", "http://127.0.0.1:2", "--against-user", "x:y", "--against-token",
      "t"], "--against-user and --against-token are two kinds of credentials"),
    (["diff", "--base-url", DEAD, "--against-url", "http://127.0.0.1:2", "--against-url", "http://127.0.0.1:3"],
     "argument --against-url: given twice"),
    ([*C, "--config", "/dev/zero"], "config file /dev/zero is not a regular file (a character device): give "
                                    "--config a TOML file of targets"),
    ([*L, "--config", "/dev/zero"], "config file /dev/zero is not a regular file"),
    ([*C, "--baseline", "/dev/zero"], "--baseline /dev/zero is not a regular file"),
    # an input's newline or escape sequence never splits (or paints) the line: it is shown escaped
    ([*C, "--config", "no\nsuch\x1b[2J.toml"], "config file no\\nsuch\\x1b[2J.toml does not exist"),
    ([*L, "--master-host", "a b", "--worker"], "--master-host 'a b' is not a host name or an IP address"),
    ([*L, "--master", "--master-bind-host", "http://0.0.0.0"], "--master-bind-host 'http://0.0.0.0' is not a host"),
    ([*L, "--prometheus-port", "9999", "--prometheus-host", ""], "--prometheus-host is empty"),
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


def test_passes_run_in_the_order_of_the_full_list() -> None:
    resolved = resolve(Sources(flags={"passes": "malformed, classics,malformed"}, environ={}), "contract")
    assert resolved.get("passes") == ("classics", "malformed")


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
    """It used to hammer the closed port for the whole run time and end as SLO breaches (exit 1). The preflight
    stops it before any load; the claimed folder gets the setup error's junit.xml, summary.json and report.md."""
    code = main(["load", "--base-url", "http://u:secret@127.0.0.1:1/prefix", "--series-ids", "101", "--user", "u:p",
                 "--run-time", "30s", "--slo", "p95=1s", "--report-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert "cannot reach http://127.0.0.1:1/prefix/v2/coupon/bulk/issue " in lines[-1], err
    assert "secret" not in err
    reports = {path.name for path in (tmp_path / "r").iterdir()}
    assert {"junit.xml", "summary.json", "report.md"} <= reports, reports
    assert "secret" not in "".join(path.read_text() for path in (tmp_path / "r").iterdir())


# --- issue 15's unclean cases through the variables, the config keys, the pytest plugin and every file ---------

#: (variables, extra flags, the fragment of the one line): each a case of the issue given by COUPON_HARNESS_*.
ENV_CASES: list[tuple[dict[str, str], list[str], str]] = [
    ({"COUPON_HARNESS_USER": "nocolon"}, [], "COUPON_HARNESS_USER gives a user but no password"),
    ({"COUPON_HARNESS_USER": "u:p\n"}, [], "COUPON_HARNESS_USER (its password) holds a control character"),
    ({"COUPON_HARNESS_TOKEN": "t"}, ["--user", "u:p"], "--user and COUPON_HARNESS_TOKEN are two kinds of credentials"),
    ({"COUPON_HARNESS_OAUTH_KEY": "k", "COUPON_HARNESS_OAUTH_SECRET": "s", "COUPON_HARNESS_USER": "u:p"}, [],
     "COUPON_HARNESS_USER and COUPON_HARNESS_OAUTH_KEY are two kinds of credentials"),
    ({"COUPON_HARNESS_CONFIG": "/dev/zero"}, [], "config file /dev/zero is not a regular file"),
    ({"COUPON_HARNESS_BASELINE": "/dev/zero"}, [], "--baseline /dev/zero is not a regular file"),
]
LOAD_ENV_CASES: list[tuple[dict[str, str], list[str], str]] = [
    ({"COUPON_HARNESS_BATCH_SIZE": "1-99999999999"}, [], "COUPON_HARNESS_BATCH_SIZE '1-99999999999': at most 1,000"),
    ({"COUPON_HARNESS_MASTER": "1"}, ["--worker"], "COUPON_HARNESS_MASTER and --worker exclude each other"),
    ({"COUPON_HARNESS_WORKERS": "3"}, ["--master"], "COUPON_HARNESS_WORKERS starts local workers"),
]


@pytest.mark.parametrize(("env", "flags", "fragment"), ENV_CASES + LOAD_ENV_CASES,
                         ids=[f"{sorted(e)[0]}-{i}" for i, (e, _, _) in enumerate(ENV_CASES + LOAD_ENV_CASES)])
def test_the_cases_by_variable(env: dict[str, str], flags: list[str], fragment: str, monkeypatch: pytest.MonkeyPatch,
                               tmp_path: Path, capsys: pytest.CaptureFixture[str], no_network: list[Any]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    base = ["load", "--base-url", DEAD, "--series-ids", "101"] if (env, flags, fragment) in LOAD_ENV_CASES else C
    if "--user" not in flags and "COUPON_HARNESS_USER" not in env and base[0] == "load":
        base = [*base, "--user", "u:p"]
    line = _assert_one_line_exit_2([*base, *flags, "--report-dir", str(tmp_path / "r")], fragment, capsys, no_network)
    assert "\n" not in line


#: (a target table's keys, the fragment): each a case of the issue given by a config-file key.
KEY_CASES: list[tuple[str, str]] = [
    ('user = "nocolon"', "[targets.a] user gives a user but no password"),
    ('user = "a\\nb:p"', "[targets.a] user holds a control character"),
    ('user = "u:p"\ntoken = "t"', "[targets.a] user and "),
    ('oauth-secret = "s"', "[targets.a] oauth-secret is the secret of --oauth-key"),
    ('batch-size = "1-99999999999"', "[targets.a] batch-size '1-99999999999': at most 1,000"),
    ("master = true\nworker = true", "[targets.a] master and "),
    ("series-ids = " + "[" * 200 + "]" * 200, "[targets.a] series-ids: [[[["),  # parsed: the value is refused
]


@pytest.mark.parametrize(("keys", "fragment"), KEY_CASES, ids=[str(i) for i in range(len(KEY_CASES))])
def test_the_cases_by_config_key(keys: str, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 no_network: list[Any]) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(f'[targets.a]\nbase-url = "{DEAD}"\n{keys}\n', encoding="utf-8")
    command = "load" if "batch-size" in keys or "master" in keys else "contract"
    extra = ["--series-ids", "101"] + (["--user", "u:p"] if "user" not in keys else []) if command == "load" else []
    _assert_one_line_exit_2([command, "--config", str(path), *extra, "--report-dir", str(tmp_path / "r")], fragment,
                            capsys, no_network)


def _nested(depth: int, opening: str = "[", closing: str = "]") -> str:
    return opening * depth + closing * depth


#: (file name, its bytes or a path to use as is, the fragment). 10^5-level nesting, binary, a device, a pipe, 30 MB.
def _hostile_files(folder: Path) -> dict[str, Path]:
    files = {"deep.toml": f"[targets.a]\nx = {_nested(100_000)}\n".encode(),
             "deep.json": f'{{"format_version": 1, "entries": {_nested(100_000)}}}'.encode(),
             "deep.yaml": _nested(100_000).encode(),
             "binary": bytes(range(256)) * 64,
             "big": b"#" * (30 * 1024 * 1024)}
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    fifo = folder / "fifo"
    os.mkfifo(fifo)
    return {**paths, "fifo": fifo, "zero": Path("/dev/zero"), "folder": folder}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _hostile_files(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize(("which", "fragment"), [
    ("deep.toml", "is nested too deeply to read"), ("binary", "is not UTF-8 text"), ("zero", "(a character device)"),
    ("fifo", "is not a regular file (a pipe)"), ("folder", "is not a regular file (a folder)"),
    ("big", "is larger than 1 MiB"),
])
def test_config_files_that_are_not_configs(which: str, fragment: str, hostile: dict[str, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str], no_network: list[Any]) -> None:
    line = _assert_one_line_exit_2([*C, "--config", str(hostile[which]), "--report-dir", str(tmp_path / "r")],
                                   fragment, capsys, no_network)
    assert line.startswith(f"coupon-harness contract: error: config file {hostile[which]} ")


@pytest.mark.parametrize(("which", "fragment"), [
    ("deep.json", "is nested too deeply to read"), ("binary", "is not UTF-8 text"), ("zero", "(a character device)"),
    ("fifo", "(a pipe)"), ("big", "is larger than 16 MiB"),
])
def test_baselines_that_are_not_baselines(which: str, fragment: str, hostile: dict[str, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str], no_network: list[Any]) -> None:
    line = _assert_one_line_exit_2([*C, "--baseline", str(hostile[which]), "--report-dir", str(tmp_path / "r")],
                                   fragment, capsys, no_network)
    assert f"--baseline {hostile[which]}" in line


@pytest.mark.parametrize("which", ["deep.yaml", "deep.json", "binary", "zero", "fifo", "big"])
def test_sandbox_configs_that_are_not_configs(which: str, hostile: dict[str, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str], no_network: list[Any]) -> None:
    """`serve --config` refuses before it listens: one line, exit 2 (a binary file was a harness error)."""
    path = hostile[which]
    if which == "deep.json":  # the sandbox reads JSON by its suffix
        path = tmp_path / "deep.json"
        path.write_bytes(hostile["deep.json"].read_bytes())
    line = _assert_one_line_exit_2(["serve", "--port", "0", "--config", str(path)], str(path), capsys, no_network)
    assert "give a sandbox config file" in line or "not valid" in line


@pytest.mark.parametrize("command", ["replay", "export-tests", "load --compare", "run --compare"])
@pytest.mark.parametrize(("which", "fragment"), [
    ("deep.json", "is nested too deeply to read"), ("binary", "is not UTF-8 text"), ("zero", "(a character device)"),
    ("fifo", "(a pipe)"), ("big", "is larger than 16 MiB"), ("list", "summary.json"),
])
def test_report_folders_that_are_not_reports(command: str, which: str, fragment: str, hostile: dict[str, Path],
                                             tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             no_network: list[Any]) -> None:
    """replay, export-tests and --compare read a report folder's summary.json: whatever it is, one line."""
    folder = tmp_path / "report"
    folder.mkdir()
    summary = folder / "summary.json"
    if which == "list":
        summary.write_text("[1, 2]", encoding="utf-8")
    else:
        summary.symlink_to(hostile[which])
    argv = {"replay": ["replay", str(folder), "--base-url", DEAD],
            "export-tests": ["export-tests", str(folder), "-o", str(tmp_path / "test_x.py")],
            "load --compare": [*L, "--compare", str(folder), "--report-dir", str(tmp_path / "r")],
            "run --compare": [*R, "--compare", str(folder), "--report-dir", str(tmp_path / "r")]}[command]
    line = _assert_one_line_exit_2(argv, fragment, capsys, no_network)
    assert "bug in coupon-harness" not in line and str(folder) in line


def test_the_pytest_plugin_refuses_the_cases(no_network: list[Any]) -> None:
    """The plugin's way in (`_resolved`, what pytest_configure calls) with the options pytest parsed and the command
    line it was given: each case is `pytest.exit(..., returncode=2)` with the one line."""
    from types import SimpleNamespace

    from coupon_harness.cli import pytest_plugin
    from coupon_harness.cli.option_table import PYTEST, options_of

    def refusal(flags: dict[str, str], args: list[str] | None = None) -> str:
        options = {f"harness_{opt.dest}": flags.get(opt.name) for opt in options_of(PYTEST)}
        config = SimpleNamespace(getoption=options.__getitem__,
                                 invocation_params=SimpleNamespace(args=tuple(args or ())))
        with pytest.raises(pytest.exit.Exception) as caught:
            pytest_plugin._resolved(config)  # type: ignore[arg-type]
        assert caught.value.returncode == 2
        return str(caught.value.msg)

    assert "--harness-user gives a user but no password" in refusal({"base-url": DEAD, "user": "nocolon"})
    assert "--harness-user holds a control character" in refusal({"base-url": DEAD, "user": "a\nb:p"})
    assert "--harness-user and --harness-token are two kinds of credentials" in refusal(
        {"base-url": DEAD, "user": "u:p", "token": "t"})
    assert "config file /dev/zero is not a regular file" in refusal({"base-url": DEAD, "config": "/dev/zero"})
    twice = refusal({"base-url": DEAD, "seed": "2"}, ["-q", "--harness-seed", "1", "--harness-seed=2"])
    assert twice == "coupon-harness: --harness-seed given twice ('1', then '2'): give it once"
    hidden = refusal({"base-url": DEAD, "token": "t2"}, ["--harness-token=t1", "--harness-token", "t2"])
    assert "given twice (its values are not shown)" in hidden and "t1" not in hidden


def test_given_twice_reads_a_command_line_as_pytest_does() -> None:
    from coupon_harness.cli.option_table import PYTEST, given_twice

    given_twice(["--harness-seed", "1", "-k", "harness-seed"], PYTEST, "--harness-")
    given_twice(["--harness-seed", "1", "--", "--harness-seed", "2"], PYTEST, "--harness-")  # after --: arguments
    given_twice(["--harness-md5-password", "--harness-md5-password"], PYTEST, "--harness-")  # no value: harmless
    with pytest.raises(ConfigError, match=r"--harness-base-url given twice \('http://a', then 'http://b'\)"):
        given_twice(["--harness-base-url=http://a", "x", "--harness-base-url", "http://b"], PYTEST, "--harness-")


def test_flags_that_may_repeat_still_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--slo, --load-slo, --max-regression and replay's --finding add up; a flag without a value may be repeated."""
    code = main([*L, "--slo", "p95=1s", "--slo", "error-rate=0.1", "--no-color", "--no-color", "--report-dir",
                 str(tmp_path / "r")])
    assert code == 2 and "cannot reach" in capsys.readouterr().err
