"""Garbage in, one line out: whatever every subcommand is given (flags, COUPON_HARNESS_* variables, files: binary,
/dev/zero, a pipe, 10^5-level nesting, 30 MB), the harness exits 0 or 2 (argparse's refusals count as 2), never
with a traceback or a bug of its own; on exit 2 the last line of stderr says what to fix; no call takes 10 s.

Three tests:
- a Hypothesis property over all nine subcommands, run in-process (`coupon_harness.cli.main.main(argv)`: a call is
  milliseconds, a subprocess ~1 s), derandomized so CI runs the same examples every time;
- a sweep of every file a command reads (its --config, --baseline, --compare, serve's --config, replay's and
  export-tests' report folder, and their variables) against every hostile file, in-process;
- the inputs that hung a real process (/dev/zero, a pipe with no writer, --master with --worker), each in a
  subprocess bounded by 10 s plus 5 s of slack, all at once.

Nothing leaves 127.0.0.1: every command that takes a target is given http://127.0.0.1:1 (nothing listens there, so a
run that passes validation stops at "cannot reach", exit 2; `diff`'s other side is port 2), a generated URL that
parses as another host is discarded, sockets and name lookups to anything else are refused and recorded, and what
would run for long or serve forever (the load processes, a Locust worker, `serve`, `run`'s own sandbox) is replaced
by a stub that records what it was asked to do.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import io
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from coupon_harness.cli import load_cmd, run_cmd
from coupon_harness.cli import main as main_module
from coupon_harness.cli.main import build_parser, main
from coupon_harness.cli.option_table import OPTIONS, env_var
from coupon_harness.errors import HarnessError
from coupon_harness.runners.load import runner as load_runner
from coupon_harness.sandbox import server as sandbox_server

DEAD = "http://127.0.0.1:1"
OTHER_DEAD = "http://127.0.0.1:2"
#: Ports a call may connect to on 127.0.0.1 (both closed).
DEAD_PORTS = (1, 2)
COMMANDS = ("run", "contract", "load", "capacity", "diff", "serve", "locustfile-path", "replay", "export-tests")
#: Commands that take --base-url: given DEAD when the argv does not give one.
TARGETED = ("run", "contract", "load", "capacity", "diff", "replay")
#: A hang guard for the subprocess test (the spec's bound on any call is 10 s: what a test cannot judge on a
#: busy machine; a hang-prone input that is not refused never ends at all).
HANG_S = 120.0
EXE = str(Path(sys.executable).with_name("coupon-harness"))


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
#: Flags whose value is a file or folder to read.
READ_FLAGS = frozenset({"--config", "--baseline", "--compare"})
#: Flags whose value is a place to write: only relative names (the call runs in a temporary folder).
WRITE_FLAGS = frozenset({"--report-dir", "--output"})
#: The variables of every option (a command reads those of its scope).
ENV_NAMES = sorted(env_var(opt.name) for opt in OPTIONS)
PATH_ENV = frozenset(env_var(name) for name in ("config", "baseline", "compare", "report-dir"))

TRICKY = [
    "", " ", "-", "--", "0", "-0", "-1", "1", "2", "nan", "-nan", "NaN", "inf", "-inf", "Infinity", "1e999",
    "-1e999", "1e-999", "99999999999999999999", "-99999999999999999999", str(2**64), "0x10", "1_000", "1.5",
    "1,1", "1,,1", ",", "c1,c1", "c1", "c1,c1,c2", "0s", "1s", "-1s", "1ms", "999999999h", "9" * 400, "1-", "-1-2",
    "3-1", "1-2", "0-0", "1-99999999999", "1-1001", "p95=nan", "p95=0ms", "p95=-1ms", "p99=1s", "error-rate=nan",
    "error-rate=2", "failure-ratio=1%", "max=inf", "=", "x=", "u:p", ":p", "u:", "nocolon", "a\nb:p", "u:p\r",
    "u:p\x1b[2J", "steady", "ramp", "\u00e9", "\u202e", "\u200b", "\udcff", "\udcff:p", "u:\udcff", "\u20ac",
    "\u20ac:\u20ac", "\x00", "a\nb", "a\r\nX-Evil: 1", "\t", "http://[::1", "http://127.0.0.1:99999",
    "http://127.0.0.1:1/#x", "http://127.0.0.1:1/?a=1", "http://127.0.0.1:1/prefix/", "http://:1", "http://",
    "ftp://127.0.0.1:1", "https://127.0.0.1:1", DEAD, "http://127.0.0.1:0", "http://127.0.0.1:1 x",
    "http://u@127.0.0.1:1", "http://u:p@127.0.0.1:1", "/no/such.toml", ".", "a b", "::1", "[::1]",
]

values = st.one_of(
    st.sampled_from(TRICKY),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=12),
    st.integers().map(str),
    st.floats().map(repr),
    st.lists(st.sampled_from(["1", "-1", "c1", "101", " ", "x", "2147483648"]), max_size=4).map(",".join),
)

#: Hostile files, by name (made once per module by `hostile`); "zero" is /dev/zero, "missing" does not exist.
HOSTILE = ("binary", "zero", "null", "fifo", "folder", "deep.json", "deep.toml", "deep.yaml", "big", "missing",
           "config.toml", "report-deep", "report-binary", "report-big", "report-list")


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _make_hostile(folder: Path) -> dict[str, str]:
    paths: dict[str, str] = {"zero": "/dev/zero", "null": "/dev/null", "missing": str(folder / "missing.toml")}
    files = {"binary": bytes(range(256)) * 64,
             "deep.json": f'{{"format_version": 1, "entries": {_nested(100_000)}}}'.encode(),
             "deep.toml": f"[targets.a]\nx = {_nested(100_000)}\n".encode(),
             "deep.yaml": _nested(100_000).encode(),
             "big": b"[" * (30 * 1024 * 1024),
             "config.toml": f'[targets.a]\nbase-url = "{DEAD}"\nseries-ids = [101]\nuser = "u:p"\n'.encode()}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths[name] = str(folder / name)
    os.mkfifo(folder / "fifo")
    paths["fifo"] = str(folder / "fifo")
    (folder / "folder").mkdir()
    paths["folder"] = str(folder / "folder")
    for name, source in (("report-deep", "deep.json"), ("report-binary", "binary"), ("report-big", "big")):
        (folder / name).mkdir()
        (folder / name / "summary.json").symlink_to(folder / source)
        paths[name] = str(folder / name)
    (folder / "report-list").mkdir()
    (folder / "report-list" / "summary.json").write_text("[" * 500 + "]" * 500, encoding="utf-8")
    paths["report-list"] = str(folder / "report-list")
    assert set(paths) == set(HOSTILE)
    return paths


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _make_hostile(tmp_path_factory.mktemp("hostile"))


def _base_url(argv: list[str], flag: str = "--base-url") -> str | None:
    for i, item in enumerate(argv):
        if item.startswith(flag + "="):
            return item.split("=", 1)[1]
        if item == flag and i + 1 < len(argv):
            return argv[i + 1]
    return None


def _elsewhere(url: str | None) -> bool:
    """Whether a URL would be read as a host other than 127.0.0.1 on a closed port (such argvs are discarded)."""
    if url is None:
        return False
    try:
        parts = urlsplit(url.rpartition("@")[2] if "://" not in url else url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            return False
        return parts.hostname != "127.0.0.1" or parts.port not in DEAD_PORTS
    except ValueError:
        return False


class _Guard:
    """Refuses (and records) every connection and name lookup but 127.0.0.1 on a closed port; stubs what would run
    long (the load processes, a Locust worker, `serve`, `run`'s sandbox) and records the harness's own bugs."""

    def __init__(self) -> None:
        self.elsewhere: list[Any] = []
        self.loads: list[str] = []
        self.served: list[Any] = []
        self.bugs: list[BaseException] = []

    @contextlib.contextmanager
    def installed(self, environ: dict[str, str]) -> Iterator[None]:
        real_connect = socket.socket.connect
        real_getaddrinfo = socket.getaddrinfo

        def connect(sock: socket.socket, address: Any) -> None:
            if not (isinstance(address, tuple) and address[0] in ("127.0.0.1", "::1") and address[1] in DEAD_PORTS):
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

        def stub_serve(host: str, port: int, config: Any) -> None:
            self.served.append((host, port))

        def stub_sandbox(*args: Any, **kwargs: Any) -> NoReturn:
            raise HarnessError("sandbox stubbed by the test")

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
            mp.setattr(sandbox_server, "serve", stub_serve)
            mp.setattr(sandbox_server, "running_sandbox", stub_sandbox)
            mp.setattr(main_module, "report_harness_bug", bug)
            for name in [n for n in os.environ if n.startswith("COUPON_HARNESS_")] + ["NO_COLOR"]:
                mp.delenv(name, raising=False)
            for name, value in environ.items():
                mp.setenv(name, value)
            yield


#: Memory a call may take beyond what the process holds: a reader that regressed to reading /dev/zero whole
#: fails with MemoryError (a harness bug, so the test fails) instead of taking the machine.
HEADROOM = 2 * 1024**3
#: A call still running after this is a hang: faulthandler prints every thread's stack and ends the process, so a
#: regression fails CI (a crashed worker) instead of holding it until its own timeout.
WATCHDOG_S = 60


def _virtual_size() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


@contextlib.contextmanager
def _bounded() -> Iterator[None]:
    """The call's memory (RLIMIT_AS: what the process holds + HEADROOM) and time (WATCHDOG_S) bounded, in-process."""
    size = _virtual_size()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = None if size is None else size + HEADROOM
    if limit is not None and (hard == resource.RLIM_INFINITY or limit < hard):
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


#: The subprocess test's children: coupon-harness with its address space capped at 3 GiB (a refusal needs ~0.5 GiB),
#: set by a small exec wrapper (preexec_fn is not safe in a process with threads).
LIMITED = [sys.executable, "-c", "import os, resource, sys; resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, "
           "resource.getrlimit(resource.RLIMIT_AS)[1])); os.execv(sys.argv[1], sys.argv[1:])", EXE]


def _call(argv: list[str], environ: dict[str, str]) -> tuple[int, str, str, _Guard, float]:
    """main(argv) in a temporary working folder with `environ` set and the guard installed: (exit code, stdout,
    stderr, the guard, seconds)."""
    guard = _Guard()
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, guard.installed(environ), contextlib.chdir(tmp), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _bounded():
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: a bad flag or value, --help, --version
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue(), guard, time.monotonic() - started


def _assert_clean(argv: list[str], environ: dict[str, str], result: tuple[int, str, str, _Guard, float]) -> None:
    code, out, err, guard, _seconds = result
    where = (argv, environ, out[-400:], err[-600:])
    assert code in (0, 2), where
    assert "Traceback" not in out + err, where
    assert guard.bugs == [], (where, guard.bugs)
    assert guard.elsewhere == [], (where, guard.elsewhere)
    assert not any(_elsewhere(url) for url in guard.loads), (where, guard.loads)
    # No bound on `seconds` here (a busy machine stretches any): a call that hangs is ended by the watchdog.
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines, where
        last = lines[-1]
        assert last.startswith("coupon-harness") and ": error: " in last, where  # names the fix, as every error does
        assert "bug in coupon-harness" not in last, where


def _env_value(name: str, paths: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(paths) if name in PATH_ENV else values


@st.composite
def calls(draw: st.DrawFn, paths: list[str]) -> tuple[list[str], dict[str, str]]:
    command = draw(st.sampled_from(COMMANDS))
    flags = FLAGS[command]
    chosen = draw(st.lists(st.sampled_from(sorted(flags)), max_size=5)) if flags else []  # repeats: given twice
    argv = [command]
    if command in ("replay", "export-tests"):
        argv.append(draw(st.sampled_from(paths) | values))
    for flag in chosen:
        if not flags[flag]:
            argv.append(flag)
            continue
        if flag in READ_FLAGS:
            value = draw(st.sampled_from(paths) | values)
        elif flag in WRITE_FLAGS:
            value = draw(st.sampled_from(["out", "reports/x", ".", "a b", "--", ""]) | st.sampled_from(paths))
        else:
            value = draw(values)
        argv.extend([f"{flag}={value}"] if draw(st.booleans()) else [flag, value])
    if command in TARGETED and "--base-url" not in chosen:
        argv += ["--base-url", DEAD]
    if command == "diff" and "--against-url" not in chosen:
        argv += ["--against-url", OTHER_DEAD]
    if command == "export-tests" and "--output" not in chosen:
        argv += ["--output", "test_exported.py"]
    if "--report-dir" in flags and "--report-dir" not in chosen:
        argv += ["--report-dir", "reports/run"]
    names = draw(st.lists(st.sampled_from(ENV_NAMES), max_size=3, unique=True))
    environ = {name: draw(_env_value(name, paths)) for name in names}
    return argv, environ


def _settable(environ: dict[str, str]) -> bool:
    """Whether every value can be an environment variable (no NUL, encodable with surrogateescape)."""
    try:
        return all("\x00" not in value and value.encode("utf-8", "surrogateescape") is not None
                   for value in environ.values())
    except UnicodeEncodeError:
        return False


#: Examples of the property in CI: derandomized (the same every run), ~9 CPU-s; the extended tier draws 1500 more
#: under a seed of its own (`test_more_garbage_never_crashes`, `scripts/check --all`).
EXAMPLES = 500
EXTENDED_EXAMPLES, EXTENDED_SEED = 1500, 20261207
#: CLI_GARBAGE_SWEEP=N: N random examples instead (a seed sweep, by hand: each run draws others).
SWEEP = int(os.environ.get("CLI_GARBAGE_SWEEP", "0") or 0)
#: CLI_GARBAGE_OUTCOMES=FILE: write each example's exit code, command and last line there (to see what it reaches).
OUTCOMES: list[str] | None = [] if os.environ.get("CLI_GARBAGE_OUTCOMES") else None


def test_garbage_never_crashes(hostile: dict[str, str]) -> None:
    _garbage_never_crashes(hostile, SWEEP or EXAMPLES, derandomize=not SWEEP)


def test_more_garbage_never_crashes(hostile: dict[str, str]) -> None:
    """The extended tier's share: other examples than the CI tier's, the same every run."""
    _garbage_never_crashes(hostile, EXTENDED_EXAMPLES, derandomize=False, seed=EXTENDED_SEED)


def _garbage_never_crashes(hostile: dict[str, str], examples: int, *, derandomize: bool, seed: int | None = None
                           ) -> None:
    paths = sorted(set(hostile.values()) - {hostile["deep.yaml"]})  # ~1 s a parse: the sweep below reads it once

    @settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(call=calls(paths))
    def check(call: tuple[list[str], dict[str, str]]) -> None:
        argv, environ = call
        assume(not _elsewhere(_base_url(argv)) and not _elsewhere(_base_url(argv, "--against-url")))
        assume(_settable(environ))
        result = _call(argv, environ)
        if OUTCOMES is not None:
            lines = [line for line in result[2].splitlines() if line.strip()]
            OUTCOMES.append(f"{result[0]} {argv[0]} {lines[-1][:150] if lines else ''}")
        _assert_clean(argv, environ, result)

    if seed is not None:
        check = hypothesis_seed(seed)(check)
    try:
        check()
    finally:
        if OUTCOMES is not None:
            Path(os.environ["CLI_GARBAGE_OUTCOMES"]).write_text("\n".join(OUTCOMES) + "\n", encoding="utf-8",
                                                                errors="backslashreplace")


#: Each command and the flags (or the position, "REPORT") it reads a file from.
FILE_INPUTS: list[tuple[str, str]] = [
    ("contract", "--config"), ("contract", "--baseline"), ("run", "--config"), ("run", "--baseline"),
    ("run", "--compare"), ("load", "--config"), ("load", "--compare"), ("capacity", "--config"), ("diff", "--config"),
    ("serve", "--config"), ("replay", "REPORT"), ("replay", "--config"), ("export-tests", "REPORT"),
    ("contract", "COUPON_HARNESS_CONFIG"), ("contract", "COUPON_HARNESS_BASELINE"), ("load", "COUPON_HARNESS_COMPARE"),
]


def _file_call(command: str, where: str, path: str) -> tuple[list[str], dict[str, str]]:
    argv = [command]
    environ: dict[str, str] = {}
    if where == "REPORT":
        argv.append(path)
    elif command == "replay":  # its report folder first (none here: a good config ends at "no summary.json")
        argv.append(".")
    elif where.startswith("COUPON_HARNESS_"):
        environ[where] = path
    else:
        argv += [where, path]
    if command in TARGETED:
        argv += ["--base-url", DEAD]
    if command in ("load", "capacity", "run"):
        argv += ["--series-ids", "101", "--user", "u:p"]
    if command == "capacity":
        argv += ["--slo", "p95=1s"]
    if command == "diff":
        argv += ["--against-url", OTHER_DEAD]
    if command == "export-tests":
        argv += ["--output", "test_exported.py"]
    if command == "serve":
        argv += ["--port", "0"]
    if command not in ("serve", "replay", "export-tests"):
        argv += ["--report-dir", "reports/run"]
    return argv, environ


def test_every_file_input_against_every_hostile_file(hostile: dict[str, str]) -> None:
    """Exhaustive where the property draws: each file a command reads, given each hostile file."""
    for command, where in FILE_INPUTS:
        for name in HOSTILE:
            if name == "deep.yaml" and command != "serve":
                continue  # TOML and JSON readers fail on its first line; the YAML reader is the one to ask
            argv, environ = _file_call(command, where, hostile[name])
            result = _call(argv, environ)
            _assert_clean(argv, environ, result)
            code, _, err, _, _ = result
            if name not in ("config.toml", "missing") or command == "serve":
                assert code == 2, (argv, environ, err)
            if name == "config.toml" and command not in ("serve", "replay") and where.endswith(("-config", "_CONFIG")):
                reached = ("cannot reach", "Connection refused", "stubbed")  # a good file gets as far as the target
                assert any(text in err for text in reached), (argv, err)


#: What hung a real process before: read from /dev/zero or a pipe with no writer, a master that is its own worker.
HANG_PRONE = [
    ["contract", "--base-url", DEAD, "--config", "/dev/zero"],
    ["load", "--base-url", DEAD, "--series-ids", "101", "--user", "u:p", "--master", "--worker"],
    ["serve", "--port", "0", "--config", "/dev/zero"],
    ["contract", "--base-url", DEAD, "--config", "FIFO"],
    ["contract", "--base-url", DEAD, "--baseline", "FIFO"],
    ["replay", "REPORT-ZERO", "--base-url", DEAD],
]


def test_hang_prone_inputs_end_in_a_real_process(tmp_path: Path) -> None:
    """A FIFO or /dev/zero as an input would hold a command forever: each one ends, refused (exit 2, one line).
    HANG_S is a hang guard, not the spec's 10 s (the refusals take ~1 s, mostly imports; a busy machine
    stretches that, a hang does not end at all)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    report = tmp_path / "report"
    report.mkdir()
    (report / "summary.json").symlink_to("/dev/zero")
    environ = {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}
    children = []
    started = time.monotonic()
    for index, template in enumerate(HANG_PRONE):
        argv = [str(fifo) if item == "FIFO" else str(report) if item == "REPORT-ZERO" else item for item in template]
        if argv[0] not in ("serve", "replay"):
            argv += ["--report-dir", str(tmp_path / f"r{index}")]
        children.append((argv, subprocess.Popen([*LIMITED, *argv], env=environ, stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE, text=True, cwd=tmp_path)))
    for argv, child in children:
        try:
            out, err = child.communicate(timeout=max(0.1, HANG_S - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate()
            pytest.fail(f"{argv} still ran after {HANG_S:g} s: {err[-400:]}")
        lines = [line for line in err.splitlines() if line.strip()]
        assert child.returncode == 2, (argv, err)
        assert lines and lines[-1].startswith(f"coupon-harness {argv[0]}: error: "), (argv, err)
        assert "Traceback" not in out + err and "bug in coupon-harness" not in err, (argv, err)
