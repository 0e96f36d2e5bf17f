"""Every replay line and every curl a report prints runs as pasted into bash and reproduces what the report said.

Each command's report (contract, diff, run; the Rerun lines of load and capacity) is read in every format that
prints them (the console, report.md, summary.json); each line goes to `bash -c` with `COUPON_HARNESS_*` set to the
sandbox's demo credentials, against sandboxes this test starts: it must exit 0, or the 1 of a finding, never the
2 of a usage or setup error, and say what the report said (the same failed rules, the same differences, the same
statuses, the same search). Targets behind a gateway that demands an extra header (-H) and over HTTPS trusted
only with --cacert show that the lines give both again, the header's value from its variable. A load report's
sample curls are pasted by tests/load/test_curl_paste.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from cli.tls_sandbox import HAVE_OPENSSL, https_sandbox
from coupon_harness.cli.main import main
from coupon_harness.sandbox.server import running_sandbox
from targets.broken import BROKEN

#: A bug the classics find at once (a 500 on a 65-character customer id): a finding, exit 1, in a second.
_BROKEN = {variant.name: variant for variant in BROKEN}["500-on-65-char-customer-id"]
_DEMO = "sandbox:sandbox"
_REPLAY = re.compile(r"coupon-harness (?:contract|diff|run) [^`\n]*--seed \d+")
_RERUN = re.compile(r"coupon-harness load [^`\n]*--run-time [^`\s]+[^`\n]*")
_STATUS = re.compile(r"^status (\d{3})$", re.MULTILINE)
#: A gateway key the target demands (`-H`): a secret, never written into a report; the pasted line reads it from
#: the variable the report names.
_KEY_NAME, _KEY_VALUE = "X-Api-Key", "gw-k3y-0f-the-gateway"
_KEY_VARIABLE = "COUPON_HARNESS_HEADER_X_API_KEY"


async def _needs_key(request: web.Request) -> web.StreamResponse | None:
    """A gateway in front of the sandbox: a request without the key is refused 403 before the service sees it."""
    if request.headers.get(_KEY_NAME) != _KEY_VALUE:
        return web.json_response({"message": "missing or wrong X-Api-Key"}, status=403)
    return None


def _no_key_value_in(folder: Path, console: str) -> None:
    assert _KEY_VALUE not in console
    for path in folder.rglob("*"):
        if path.is_file():
            assert _KEY_VALUE.encode() not in path.read_bytes(), path


def _environment(home: Path) -> dict[str, str]:
    """The user's shell: the harness on PATH, the demo credentials in both targets' variables, and a curlrc that
    makes curl print each answer's status (the pasted line itself is left as it is)."""
    home.mkdir(exist_ok=True)
    (home / ".curlrc").write_text('silent\nwrite-out = "\\nstatus %{http_code}\\n"\n', encoding="utf-8")
    harness = shutil.which("coupon-harness", path=str(Path(sys.executable).parent)) or shutil.which("coupon-harness")
    assert harness, "coupon-harness is not installed next to the interpreter"
    env = {key: value for key, value in os.environ.items() if not key.startswith("COUPON_HARNESS_")}
    env.update(PATH=f"{Path(harness).parent}{os.pathsep}{env.get('PATH', '')}", CURL_HOME=str(home), NO_COLOR="1",
               COUPON_HARNESS_USER=_DEMO, COUPON_HARNESS_AGAINST_USER=_DEMO, **{_KEY_VARIABLE: _KEY_VALUE})
    return env


def _paste(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["bash", "-c", line], cwd=cwd, env=_environment(cwd / "home"), capture_output=True,
                          text=True, timeout=180, check=False)


def _replay_lines(console: str, folder: Path, pattern: re.Pattern[str] = _REPLAY) -> dict[str, set[str]]:
    """The replay lines of each format: the console, report.md (code spans), summary.json (every "replay")."""
    found: dict[str, set[str]] = {"console": set(pattern.findall(console)),
                                  "report.md": set(pattern.findall((folder / "report.md").read_text("utf-8")))}
    lines: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "replay" and isinstance(item, str) and item.startswith("coupon-harness "):
                    lines.add(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads((folder / "summary.json").read_text("utf-8")))
    found["summary.json"] = lines
    return found


def _md_curls(folder: Path) -> list[str]:
    """The curl commands of report.md's code blocks (comment lines kept: they are pasted too)."""
    blocks = re.findall(r"```sh\n(.*?)\n```", (folder / "report.md").read_text("utf-8"), re.DOTALL)
    return [block for block in blocks if "curl " in block]


def _reports_under(cwd: Path) -> list[Path]:
    return sorted(path.parent for path in (cwd / "reports").glob("*/summary.json"))


def _outcomes(folder: Path) -> dict[str, str]:
    summary = json.loads((folder / "summary.json").read_text("utf-8"))
    return {rule["id"]: rule["outcome"] for rule in summary["rules"]}


def _one_line_per_format(found: dict[str, set[str]]) -> str:
    assert all(found.values()), found
    lines = set().union(*found.values())
    assert len(lines) == 1, lines  # one run, one replay line: the same in every format
    return lines.pop()


def test_contract_replay_and_curls_run_as_pasted(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    folder = tmp_path / "contract"
    with running_sandbox(mutate=_BROKEN.mutate(), before=_BROKEN.before) as sandbox:
        capsys.readouterr()
        code = main(["contract", "--base-url", sandbox.base_url, "--max-examples", "2", "--passes", "classics",
                     "--no-color", "--seed", "5", "--report-dir", str(folder)])
        console = capsys.readouterr().out
        assert code == 1 and _outcomes(folder)["no-server-error"] == "failed"
        line = _one_line_per_format(_replay_lines(console, folder))
        assert '--user "${COUPON_HARNESS_USER}"' in line and _DEMO not in line

        pasted = _paste(line, tmp_path / "replayed")
        assert pasted.returncode == 1, pasted.stdout + pasted.stderr  # the finding again, not a usage error (2)
        (again,) = _reports_under(tmp_path / "replayed")
        assert _outcomes(again) == _outcomes(folder)

        summary = json.loads((folder / "summary.json").read_text("utf-8"))
        findings = [f for rule in summary["rules"] for f in rule["findings"] if f["curl"]]
        md_curls = _md_curls(folder)
        assert findings and md_curls
        for finding in findings:
            assert any(finding["curl"] in block for block in md_curls), finding["curl"]
            sent = _paste(finding["curl"], tmp_path / "curl")
            assert sent.returncode == 0, sent.stderr
            assert _STATUS.findall(sent.stdout)[-1] == str(finding["response_status"]), sent.stdout
        for block in md_curls:
            assert _paste(block, tmp_path / "curl").returncode == 0


def test_contract_replay_and_curls_send_the_extra_header(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Against a target behind a gateway that demands `X-Api-Key`, the replay line and the curls carry the header
    as a reference to its variable (the report names it), and never its value: pasted, they pass the gateway."""
    monkeypatch.setenv("COLUMNS", "400")
    folder = tmp_path / "contract"
    with running_sandbox(mutate=_BROKEN.mutate(), before=_needs_key) as sandbox:
        capsys.readouterr()
        code = main(["contract", "--base-url", sandbox.base_url, "-H", f"{_KEY_NAME}: {_KEY_VALUE}", "-n", "2",
                     "--passes", "classics", "--no-color", "--seed", "5", "--report-dir", str(folder)])
        console = capsys.readouterr().out
        assert code == 1 and _outcomes(folder)["no-server-error"] == "failed"
        line = _one_line_per_format(_replay_lines(console, folder))
        assert f'-H "{_KEY_NAME}: ${{{_KEY_VARIABLE}}}"' in line, line
        named = f"{_KEY_VARIABLE} ({_KEY_NAME})"  # the report names the variable above its curls
        assert named in (folder / "report.md").read_text("utf-8").replace("\\_", "_")
        _no_key_value_in(folder, console)

        pasted = _paste(line, tmp_path / "replayed")
        assert pasted.returncode == 1, pasted.stdout + pasted.stderr
        (again,) = _reports_under(tmp_path / "replayed")
        assert _outcomes(again) == _outcomes(folder)

        summary = json.loads((folder / "summary.json").read_text("utf-8"))
        findings = [f for rule in summary["rules"] for f in rule["findings"] if f["curl"]]
        assert findings
        for finding in findings:
            assert _KEY_VARIABLE in finding["curl"], finding["curl"]
            sent = _paste(finding["curl"], tmp_path / "curl")
            assert _STATUS.findall(sent.stdout)[-1] == str(finding["response_status"]), sent.stdout


@pytest.mark.skipif(not HAVE_OPENSSL, reason="needs the openssl CLI to make a certificate")
def test_contract_replay_gives_the_ca_bundle_again(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Against an HTTPS target whose certificate only --cacert trusts, the replay line gives --cacert again (the
    path made absolute: given relative, it still runs from another directory); pasted, it passes the handshake."""
    monkeypatch.setenv("COLUMNS", "400")
    certs, folder = tmp_path / "certs", tmp_path / "contract"
    certs.mkdir()
    with https_sandbox(certs) as sandbox:
        monkeypatch.chdir(certs)
        capsys.readouterr()
        code = main(["contract", "--base-url", sandbox.base_url, "--cacert", sandbox.cert.name, "--user", _DEMO,
                     "-n", "2", "--passes", "classics", "--no-color", "--seed", "5", "--report-dir", str(folder)])
        console = capsys.readouterr().out
        assert code == 0, console
        line = _one_line_per_format(_replay_lines(console, folder))
        assert f"--cacert {sandbox.cert}" in line, line

        pasted = _paste(line, tmp_path / "replayed")
        assert pasted.returncode == 0, pasted.stdout + pasted.stderr
        (again,) = _reports_under(tmp_path / "replayed")
        assert _outcomes(again) == _outcomes(folder)


def test_diff_replay_keeps_every_flag_and_its_curls_run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    folder = tmp_path / "diff"
    with running_sandbox() as good, running_sandbox(mutate=_BROKEN.mutate(), before=_BROKEN.before) as bad:
        capsys.readouterr()
        code = main(["diff", "--base-url", good.base_url, "--against-url", bad.base_url, "--series-ids", "101,102",
                     "--invalid-series-ids", "999", "--max-examples", "1", "--user", _DEMO, "--against-user", _DEMO,
                     "--no-color", "--seed", "5", "--report-dir", str(folder)])
        console = capsys.readouterr().out
        summary = json.loads((folder / "summary.json").read_text("utf-8"))
        assert code == 1 and summary["differences"]
        line = _one_line_per_format(_replay_lines(console, folder))
        for flag in ("--series-ids 101,102", "--invalid-series-ids 999", "--max-examples 1",
                     '--user "${COUPON_HARNESS_USER}"', '--against-user "${COUPON_HARNESS_AGAINST_USER}"'):
            assert flag in line, line
        assert _DEMO not in line

        pasted = _paste(line, tmp_path / "replayed")
        assert pasted.returncode == 1, pasted.stdout + pasted.stderr
        (again,) = _reports_under(tmp_path / "replayed")
        replayed = json.loads((again / "summary.json").read_text("utf-8"))
        assert ({(d["category"], d["where"]) for d in replayed["differences"]}
                == {(d["category"], d["where"]) for d in summary["differences"]})

        md_curls = _md_curls(folder)
        for difference in summary["differences"]:
            reproducer = difference["reproducer"]
            for curl, status in ((reproducer["base_curl"], reproducer["base_status"]),
                                 (reproducer["against_curl"], reproducer["against_status"])):
                assert any(curl in block for block in md_curls), curl
                sent = _paste(curl, tmp_path / "curl")
                assert sent.returncode == 0, sent.stderr
                assert _STATUS.findall(sent.stdout)[-1] == str(status), (curl, sent.stdout)


def test_run_replays_against_a_new_sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`run` stops the sandbox it started: its replay line starts a new one (`run --no-load`), never names the
    port nobody listens on any more, and gives the same outcome."""
    monkeypatch.setenv("COLUMNS", "400")
    folder = tmp_path / "run"
    capsys.readouterr()
    code = main(["run", "--no-load", "--max-examples", "2", "--passes", "classics", "--no-color", "--seed", "5",
                 "--report-dir", str(folder)])
    console = capsys.readouterr().out
    assert code == 0
    contract = folder / "contract"
    found = _replay_lines(console, contract)
    found["run report.md"] = set(_REPLAY.findall((folder / "report.md").read_text("utf-8")))
    line = _one_line_per_format(found)
    assert line.startswith("coupon-harness run --no-load ") and "127.0.0.1" not in line and "--user" not in line

    pasted = _paste(line, tmp_path / "replayed")
    assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    (again,) = (tmp_path / "replayed" / "reports").glob("*/contract/summary.json")
    assert _outcomes(again.parent) == _outcomes(contract)


def test_load_rerun_line_runs_the_same_load_again(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A load report's Rerun line gives every flag again (users, time, SLOs, series, credentials and the gateway's
    header as references); pasted, it runs the same load (its sample curls: tests/load/test_curl_paste.py)."""
    monkeypatch.setenv("COLUMNS", "400")
    folder = tmp_path / "load"
    with running_sandbox(before=_needs_key) as sandbox:  # behind a gateway: the line must give -H again
        capsys.readouterr()
        code = main(["load", "--base-url", sandbox.base_url, "--user", _DEMO, "-H", f"{_KEY_NAME}: {_KEY_VALUE}",
                     "--series-ids", "101,102", "--users",
                     "2", "--run-time", "1s", "--slo", "p95=2s", "--slo", "error-rate=0.5", "--batch-size", "1-3",
                     "--no-color", "--report-dir", str(folder)])
        console = capsys.readouterr().out
        assert code == 0, console
        line = _one_line_per_format(_replay_lines(console, folder, _RERUN))
        for flag in ("--series-ids 101,102", '--user "${COUPON_HARNESS_USER}"', "--users 2", "--run-time 1s",
                     "--slo p95=2000ms", "--slo error-rate=0.5", "--batch-size 1-3",
                     f'-H "{_KEY_NAME}: ${{{_KEY_VARIABLE}}}"'):
            assert flag in line, line
        assert _DEMO not in line
        _no_key_value_in(folder, console)

        pasted = _paste(line, tmp_path / "replayed")
        assert pasted.returncode == 0, pasted.stdout + pasted.stderr
        (again,) = _reports_under(tmp_path / "replayed")
        summary = json.loads((again / "summary.json").read_text("utf-8"))
        first = json.loads((folder / "summary.json").read_text("utf-8"))
        assert summary["replay"] == first["replay"] and summary["holds"] and summary["requests"] > 0


def test_capacity_rerun_line_runs_the_same_search_again(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A capacity report's Rerun line gives the search's flags again; pasted, it searches the same way."""
    monkeypatch.setenv("COLUMNS", "400")
    folder = tmp_path / "capacity"
    with running_sandbox() as sandbox:
        capsys.readouterr()
        code = main(["capacity", "--base-url", sandbox.base_url, "--user", _DEMO, "--series-ids", "101", "--slo",
                     "p95=2s", "--start-rate", "5", "--max-rate", "5", "--step-time", "1s", "--warmup", "0s",
                     "--max-steps", "2", "--no-color", "--report-dir", str(folder)])
        console = capsys.readouterr().out
        assert code == 0, console
        found = _replay_lines(console, folder, re.compile(r"coupon-harness capacity [^`\n]*--precision [^`\n]*"))
        line = _one_line_per_format(found)
        for flag in ("--series-ids 101", '--user "${COUPON_HARNESS_USER}"', "--slo p95=2000ms", "--start-rate 5",
                     "--max-rate 5", "--step-time 1s", "--warmup 0s", "--max-steps 2"):
            assert flag in line, line
        pasted = _paste(line, tmp_path / "replayed")
        assert pasted.returncode == 0, pasted.stdout + pasted.stderr
        (again,) = _reports_under(tmp_path / "replayed")
        summary = json.loads((again / "summary.json").read_text("utf-8"))
        first = json.loads((folder / "summary.json").read_text("utf-8"))
        assert summary["replay"] == first["replay"] and summary["verdict"] == first["verdict"]
