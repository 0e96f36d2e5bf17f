"""Through the CLI (issue 16, items 3 and 5): a gateway that lets a route past its auth filter makes `contract`
exit 1 naming `auth-required` and the class of the route, one gateway per class, and its exported test fails there
and passes on the sandbox; a CORS gateway that answers OPTIONS 204 with `Allow: OPTIONS, POST` exits 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coupon_harness.cli.main import main
from coupon_harness.sandbox.server import running_sandbox
from targets.broken_routes import BROKEN_ROUTES, BrokenRoute
from targets.legit import LEGIT
from targets.serving import serving_app

#: The first gateway of each class.
ONE_PER_CLASS = list({broken.probe: broken for broken in reversed(BROKEN_ROUTES)}.values())


def _contract(url: str, report_dir: Path) -> int:
    return main(["contract", "--base-url", url, "--max-examples", "5", "--no-color", "--report-dir", str(report_dir)])


@pytest.mark.parametrize("broken", ONE_PER_CLASS, ids=lambda b: b.probe)
def test_a_route_past_the_auth_filter_fails_the_gate_naming_its_class(broken: BrokenRoute, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    with serving_app(broken.app()) as url:
        code = _contract(url, tmp_path)
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert "auth-required" in out and f"probe:    {broken.probe}" in out and "an auth bypass" in out, out
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    failed = {r["id"]: r for r in summary["rules"] if r["outcome"] == "failed"}
    assert list(failed) == ["auth-required"], list(failed)
    assert failed["auth-required"]["severity"] == "critical"
    assert broken.probe in {f["probe"] for f in failed["auth-required"]["findings"]}
    assert "routes" in [entry["name"] for entry in summary["passes"]]


def test_options_204_with_allow_options_post_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cors = next(legit for legit in LEGIT if legit.name == "cors-gateway")
    with cors.serving() as url:
        code = _contract(url, tmp_path)
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert cors.answered["OPTIONS"] > 0  # the run asked OPTIONS, and 204 with Allow: OPTIONS, POST passed
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    by_id = {r["id"]: r for r in summary["rules"]}
    assert by_id["method-not-allowed"]["outcome"] == "passed" and by_id["auth-required"]["outcome"] == "passed"


def test_an_exported_route_finding_fails_on_the_gateway_and_passes_on_the_sandbox(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The exported test sends the route as recorded (the dot segments too), to whichever target pytest is given."""
    broken = next(b for b in BROKEN_ROUTES if b.name == "resolves-dot-segments")
    with serving_app(broken.app()) as url:
        assert _contract(url, tmp_path / "report") == 1
        test_file = tmp_path / "regressions" / "test_routes_findings.py"
        assert main(["export-tests", str(tmp_path / "report"), "-o", str(test_file)]) == 0
        assert "routes:dot-segment" in test_file.read_text(encoding="utf-8")
        still = _pytest(test_file, url)
    assert still.returncode == 1 and "rule auth-required (" in still.stdout, still.stdout + still.stderr
    with running_sandbox() as sandbox:
        fixed = _pytest(test_file, sandbox.base_url)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    capsys.readouterr()


def _pytest(test_file: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COUPON_HARNESS_")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           str(test_file), "--harness-base-url", base_url], capture_output=True, text=True,
                          cwd=test_file.parent, env=env, timeout=120, check=False)
