"""Self-tests of `coupon-harness replay` and `export-tests` against broken targets on 127.0.0.1: "still failing"
while the break is there, "fixed" once it is gone; the exported pytest file fails against the broken target
(naming the rule) and passes against the sandbox."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from coupon_harness.cli.main import main
from coupon_harness.sandbox.server import running_sandbox
from targets.broken import BROKEN

_BY_NAME = {variant.name: variant for variant in BROKEN}
#: A probe's finding (a 500 on a 65-character customer id) and a cross-request one (one code per series).
_TARGETS = ("500-on-65-char-customer-id", "same-code-for-two-customers")
_CUSTOMER = re.compile(r'"customer":\s*\{"id":\s*"([^"]+)"')


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One contract report per broken target."""
    out = {}
    for name in _TARGETS:
        variant = _BY_NAME[name]
        folder = tmp_path_factory.mktemp(name)
        with running_sandbox(mutate=variant.mutate(), before=variant.before) as sandbox:
            code = main(["contract", "--base-url", sandbox.base_url, "--max-examples", "5", "--no-color",
                         "--seed", "5", "--report-dir", str(folder), "--overwrite"])
        assert code == 1
        out[name] = folder
    return out


@pytest.mark.parametrize("name", _TARGETS)
def test_replay_says_still_failing_before_and_fixed_after(name: str, reports: dict[str, Path], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    variant = _BY_NAME[name]
    capsys.readouterr()
    with running_sandbox(mutate=variant.mutate(), before=variant.before) as sandbox:
        code = main(["replay", str(reports[name]), "--base-url", sandbox.base_url, "--report-dir",
                     str(tmp_path / "before")])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    lines = [line for line in out.splitlines() if variant.rule in line]
    assert lines and all(line.startswith("still failing") for line in lines), out
    with running_sandbox() as sandbox:
        code = main(["replay", str(reports[name]), "--base-url", sandbox.base_url, "--report-dir",
                     str(tmp_path / "after")])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert out.strip() and all(line.startswith("fixed") for line in out.splitlines()), out


def test_replay_of_one_finding_by_its_id(reports: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    folder = reports["500-on-65-char-customer-id"]
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    finding = next(f for r in summary["rules"] for f in r["findings"] if r["id"] == "no-server-error")
    assert finding["probe_class"] == "string length in customer.id" and finding["judged"]["issue_call"]
    variant = _BY_NAME["500-on-65-char-customer-id"]
    with running_sandbox(mutate=variant.mutate()) as sandbox:
        code = main(["replay", str(folder), "--finding", finding["id"][:8], "--base-url", sandbox.base_url,
                     "--report-dir", str(tmp_path / "replay")])
    out, _ = capsys.readouterr()
    assert code == 1 and out.count("\n") == 1 and out.startswith(f"still failing  {finding['id']}  no-server-error")


def test_the_cross_request_finding_keeps_its_sequence(reports: dict[str, Path]) -> None:
    summary = json.loads((reports["same-code-for-two-customers"] / "summary.json").read_text(encoding="utf-8"))
    across = [f for r in summary["rules"] for f in r["findings"] if f["key"] == "across-customers"]
    assert across and all(f["sequence"] for f in across)
    for finding in across:
        earlier = _CUSTOMER.search(finding["sequence"][0]["body"])
        later = _CUSTOMER.search(finding["request"]["body"])
        assert earlier and later and earlier.group(1) != later.group(1)  # another customer
        assert all("<redacted>" in value for name, value in finding["sequence"][0]["headers"]
                   if name.lower() == "authorization")


@pytest.mark.parametrize(("args", "message"), [
    (["--finding", "ffffffffffff"], "names no finding"),
    (["--base-url", "http://127.0.0.1:9", "--user", "someone:secret"], "Connection refused"),
    (["--base-url", "http://127.0.0.1:9"], "used basic credentials, which reports never keep: give --user"),
])
def test_replay_refuses_in_one_line(reports: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                    args: list[str], message: str) -> None:
    code = main(["replay", str(reports["500-on-65-char-customer-id"]), *args, "--report-dir", str(tmp_path / "r")])
    _, err = capsys.readouterr()
    assert code == 2 and message in err and "Traceback" not in err, err


def test_replay_of_a_folder_without_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path)]) == 2
    assert "no summary.json there" in capsys.readouterr().err


def _pytest(test_file: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COUPON_HARNESS_")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           str(test_file), "--harness-base-url", base_url], capture_output=True, text=True,
                          cwd=test_file.parent, env=env, timeout=120, check=False)


@pytest.mark.parametrize("name", _TARGETS)
def test_exported_tests_fail_against_the_broken_target_and_pass_against_the_sandbox(
        name: str, reports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variant = _BY_NAME[name]
    test_file = tmp_path / "regressions" / "test_contract_findings.py"
    assert main(["export-tests", str(reports[name]), "-o", str(test_file)]) == 0
    text = test_file.read_text(encoding="utf-8")
    assert "<redacted>" in text or "Authorization" not in text  # never a credential
    assert "sandbox:" not in text.lower()
    compile(text, str(test_file), "exec")
    assert text.count("\ndef test_") == len({f["id"] for r in json.loads(
        (reports[name] / "summary.json").read_text(encoding="utf-8"))["rules"] for f in r["findings"]})
    with running_sandbox(mutate=variant.mutate(), before=variant.before) as sandbox:
        broken = _pytest(test_file, sandbox.base_url)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"rule {variant.rule} (" in broken.stdout and "still fails" in broken.stdout, broken.stdout
    with running_sandbox() as sandbox:
        fixed = _pytest(test_file, sandbox.base_url)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert " passed" in fixed.stdout and "coupon-harness::test_rule" not in fixed.stdout  # no suite of its own
    # Without a target the tests skip rather than pass.
    env = {key: value for key, value in os.environ.items() if not key.startswith("COUPON_HARNESS_")}
    alone = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                           capture_output=True, text=True, cwd=test_file.parent, env=env, timeout=120, check=False)
    assert alone.returncode == 0 and "skipped" in alone.stdout, alone.stdout
    capsys.readouterr()


def test_export_refuses_to_overwrite(reports: dict[str, Path], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "test_x.py"
    target.write_text("# mine\n", encoding="utf-8")
    assert main(["export-tests", str(reports["500-on-65-char-customer-id"]), "-o", str(target)]) == 2
    assert "exists: pass --overwrite" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "# mine\n"


def test_export_refuses_a_pipe_or_a_folder_as_its_file(reports: dict[str, Path], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A pipe would take the write and wait for a reader forever (--overwrite or not): one line, exit 2."""
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for output in (fifo, tmp_path):
        assert main(["export-tests", str(reports["500-on-65-char-customer-id"]), "-o", str(output),
                     "--overwrite"]) == 2
        assert f"-o {output} is not a regular file" in capsys.readouterr().err
