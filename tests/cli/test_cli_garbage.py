"""Garbage on the command line: whatever the flags of `contract`, `load` and `run` are given, the harness
exits 0, 1 or 2 (argparse's refusals count as 2), never with a traceback or a bug of its own.

The argv lists are built from the real flags of the parser. Nothing leaves 127.0.0.1: every run targets
http://127.0.0.1:1 (nothing listens there, so a run that passes validation stops at "cannot reach", exit
2), a generated --base-url that parses as another host is discarded, sockets and name lookups to anything
else are refused and recorded, and the load run itself (Locust processes) is replaced by a stub that
records what it was asked to do: a generated argv that passes every check reaches the stub, never a
target."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from coupon_harness.cli import load_cmd, run_cmd
from coupon_harness.cli import main as main_module
from coupon_harness.cli.main import build_parser, main
from coupon_harness.errors import HarnessError
from coupon_harness.runners.load import runner as load_runner

DEAD = "http://127.0.0.1:1"
COMMANDS = ("contract", "load", "run")


def _flags(command: str) -> dict[str, bool]:
    """The long flags of a subcommand: flag -> whether it takes a value."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {}
    for action in sub.choices[command]._actions:
        longs = [o for o in action.option_strings if o.startswith("--")]
        if not longs or isinstance(action, argparse._HelpAction):
            continue
        flags[longs[0]] = action.nargs != 0
    return flags


FLAGS = {command: _flags(command) for command in COMMANDS}

TRICKY = [
    "", " ", "-", "--", "0", "-0", "-1", "1", "2", "nan", "-nan", "NaN", "inf", "-inf", "Infinity", "1e999",
    "-1e999", "1e-999", "99999999999999999999", "-99999999999999999999", str(2**64), "0x10", "1_000", "1.5",
    "1,1", "1,,1", ",", "c1,c1", "c1", "c1,c1,c2", "0s", "1s", "-1s", "1ms", "999999999h", "9" * 400, "1-", "-1-2",
    "3-1", "1-2", "0-0", "p95=nan", "p95=0ms", "p95=-1ms", "p99=1s", "error-rate=nan", "error-rate=2",
    "failure-ratio=1%", "max=inf", "=", "x=", "u:p", ":p", "u:", "steady", "ramp", "\u00e9", "\u202e", "\u200b",
    "\udcff", "\udcff:p", "u:\udcff", "\u20ac", "\u20ac:\u20ac", "\x00", "a\nb", "a\r\nX-Evil: 1", "\t",
    "http://[::1", "http://127.0.0.1:99999", "http://127.0.0.1:1/#x",
    "http://127.0.0.1:1/?a=1", "http://127.0.0.1:1/prefix/", "http://:1", "http://", "ftp://127.0.0.1:1",
    "https://127.0.0.1:1", DEAD, "http://127.0.0.1:0", "http://127.0.0.1:1 x", "/no/such.toml", ".",
]

values = st.one_of(
    st.sampled_from(TRICKY),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=12),
    st.integers().map(str),
    st.floats().map(repr),
    st.lists(st.sampled_from(["1", "-1", "c1", "101", " ", "x", "2147483648"]), max_size=4).map(",".join),
)


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(COMMANDS))
    flags = FLAGS[command]
    chosen = draw(st.lists(st.sampled_from(sorted(flags)), max_size=5, unique=True))
    argv = [command]
    for flag in chosen:
        if not flags[flag]:
            argv.append(flag)
            continue
        value = draw(values)
        argv.extend([f"{flag}={value}"] if draw(st.booleans()) else [flag, value])
    if "--base-url" not in chosen:
        argv += ["--base-url", DEAD]
    return argv


def _base_url(argv: list[str]) -> str | None:
    for i, item in enumerate(argv):
        if item.startswith("--base-url="):
            return item.split("=", 1)[1]
        if item == "--base-url" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def _elsewhere(url: str | None) -> bool:
    """Whether a base URL would be read as a host other than 127.0.0.1:1 (such argvs are discarded)."""
    if url is None:
        return False
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            return False
        return (parts.hostname, parts.port) != ("127.0.0.1", 1)
    except ValueError:
        return False


class _Guard:
    def __init__(self) -> None:
        self.elsewhere: list[Any] = []
        self.loads: list[str] = []
        self.bugs: list[BaseException] = []

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        real_connect = socket.socket.connect
        real_getaddrinfo = socket.getaddrinfo

        def connect(sock: socket.socket, address: Any) -> None:
            if not (isinstance(address, tuple) and address[0] in ("127.0.0.1", "::1") and address[1] == 1):
                self.elsewhere.append(address)
                raise ConnectionRefusedError(111, "refused by the test")
            real_connect(sock, address)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host not in ("127.0.0.1", "localhost", "::1", b"127.0.0.1"):
                self.elsewhere.append(host)
                raise socket.gaierror(socket.EAI_NONAME, "refused by the test")
            return real_getaddrinfo(host, *args, **kwargs)

        def stub_load(settings: Any, *args: Any, **kwargs: Any) -> NoReturn:
            self.loads.append(settings.base_url)
            raise HarnessError("load run stubbed by the test")

        real_bug = main_module.report_harness_bug

        def bug(args: argparse.Namespace, exc: Exception, *rest: Any) -> int:
            self.bugs.append(exc)
            return real_bug(args, exc, *rest)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(socket.socket, "connect", connect)
            mp.setattr(socket, "getaddrinfo", getaddrinfo)
            mp.setattr(load_cmd, "execute_load", stub_load)
            mp.setattr(run_cmd, "execute_load", stub_load)
            mp.setattr(load_runner, "run_worker", stub_load)
            mp.setattr(main_module, "report_harness_bug", bug)
            for name in [n for n in os.environ if n.startswith("COUPON_HARNESS_")]:
                mp.delenv(name)
            yield


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(argv=argvs())
def test_garbage_flags_never_crash(argv: list[str]) -> None:
    assume(not _elsewhere(_base_url(argv)))
    guard = _Guard()
    out, err = io.StringIO(), io.StringIO()
    with tempfile.TemporaryDirectory() as tmp, guard.installed(), contextlib.chdir(tmp), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        given_dir = any(item == "--report-dir" or item.startswith("--report-dir=") for item in argv)
        full = argv if given_dir else [*argv, "--report-dir", str(Path(tmp) / "reports")]
        try:
            code = main(full)
        except SystemExit as exc:  # argparse: a bad flag or value
            code = exc.code if isinstance(exc.code, int) else 2
    text = err.getvalue() + out.getvalue()
    assert code in (0, 1, 2), (full, code, text)
    assert "Traceback" not in text, (full, text)
    assert guard.bugs == [], (full, guard.bugs, text)
    assert guard.elsewhere == [], (full, guard.elsewhere)
    assert not any(_elsewhere(url) for url in guard.loads), guard.loads
