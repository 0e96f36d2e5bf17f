"""The CI recipes in examples/ci/ parse, wire what CI reads (JUnit, the job summary, artifacts, a baseline), keep
every credential in the CI's secret store, and their shell steps run green against the sandbox, as written.

The shell of each job runs in order in a scratch folder (GitHub's `bash -e` per step, GitLab's script lines in one
`bash -e`), with the job's variables set to the sandbox's (the recipes take the target, series, credentials and the
run's length from COUPON_HARNESS_* variables; the test shortens the run to seconds). The nightly load job runs
twice, so the second night compares itself with the first, as the cache would have it. The install step runs
too, against this checkout's own commit, in a scratch environment; and the recipes pass the CI vendors' schemas
(check-jsonschema) and zizmor's security audit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from coupon_harness.cli.option_table import OPTIONS
from coupon_harness.sandbox.server import running_sandbox

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "examples" / "ci"
GITHUB_GATE = RECIPES / "github" / "contract-gate.yml"
GITHUB_LOAD = RECIPES / "github" / "nightly-load.yml"
GITLAB = RECIPES / "gitlab" / ".gitlab-ci.yml"
BIN = Path(sys.executable).parent
KNOWN_VARIABLES = {opt.env for opt in OPTIONS}
SECRET_VARIABLES = {"COUPON_HARNESS_USER", "COUPON_HARNESS_PASSWORD", "COUPON_HARNESS_OAUTH_KEY",
                    "COUPON_HARNESS_OAUTH_SECRET", "COUPON_HARNESS_TOKEN"}


def _yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def sandbox_env() -> Iterator[dict[str, str]]:
    with running_sandbox() as sandbox:
        yield {"COUPON_HARNESS_BASE_URL": sandbox.base_url, "COUPON_HARNESS_SERIES_IDS": "101,102,105",
               "COUPON_HARNESS_INVALID_SERIES_IDS": "999999", "COUPON_HARNESS_USER": "sandbox:sandbox",
               "COUPON_HARNESS_ARRIVAL_RATE": "15", "COUPON_HARNESS_RUN_TIME": "3s",
               "COUPON_HARNESS_MAX_COUPONS": "2000",
               # where the install step (skipped here: the test runs this environment's package) would pin it
               "HARNESS_REPO": ROOT.as_uri(), "HARNESS_REF": "0" * 40}


def _workspace(tmp_path: Path) -> Path:
    """A checkout of the user's repository: the baseline where the recipes look for it."""
    work = tmp_path / "repo"
    (work / "ci").mkdir(parents=True)
    shutil.copy(RECIPES / "coupon-harness-baseline.json", work / "ci" / "coupon-harness-baseline.json")
    return work


def _env(job_env: dict[str, Any], values: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    missing = set(job_env) - set(values)
    assert not missing, f"the test has no value for {missing}"
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1",
            **{name: values[name] for name in job_env}, **(extra or {})}


#: The recipes' latency gate, and what the test runs instead: the sandbox beside a busy CI machine's suite can take
#: 300 ms at p95 over a 3 s run of ~60 requests (seen: 407 ms); the gate's threshold is the recipe's business, that
#: the job runs green and wires its reports is this test's.
RECIPE_P95, BUSY_MACHINE_P95 = "--slo p95=300ms", "--slo p95=5s"


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-e", "-c", script.replace(RECIPE_P95, BUSY_MACHINE_P95)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240, check=False)


def test_the_recipes_gate_on_the_latency_the_test_relaxes() -> None:
    """The substitution above is not a no-op: both load recipes carry that gate."""
    assert RECIPE_P95 in GITHUB_LOAD.read_text(encoding="utf-8") and RECIPE_P95 in GITLAB.read_text(encoding="utf-8")


def _is_install(script: str) -> bool:
    return "pip install" in script or "HARNESS_REF" in script  # the test runs the installed package


def test_the_recipes_pass_the_vendors_schemas() -> None:
    for schema, paths in (("vendor.github-workflows", [GITHUB_GATE, GITHUB_LOAD]), ("vendor.gitlab-ci", [GITLAB])):
        done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema,
                               *map(str, paths)], capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing_in_the_github_recipes() -> None:
    """Pinned actions, least privilege, no persisted credentials, no template injection: zizmor's pedantic audit."""
    done = subprocess.run([str(BIN / "zizmor"), "--offline", "--persona", "pedantic", "--format", "json",
                           str(GITHUB_GATE), str(GITHUB_LOAD)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == [], done.stdout


def test_the_audits_fire_on_a_recipe_gone_wrong(tmp_path: Path) -> None:
    """The two checks above can fail: an unpinned action, a job that may write everything, a misspelt key."""
    text = GITHUB_GATE.read_text(encoding="utf-8")
    loose = tmp_path / "loose.yml"
    loose.write_text(re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v4", text)
                     .replace("permissions: {}\n", ""), encoding="utf-8")
    audit = subprocess.run([str(BIN / "zizmor"), "--offline", "--format", "json", str(loose)],
                           capture_output=True, text=True, timeout=120, check=False)
    found = {finding["ident"] for finding in json.loads(audit.stdout)}
    assert "unpinned-uses" in found, audit.stdout + audit.stderr
    misspelt = tmp_path / "misspelt.yml"
    misspelt.write_text(text.replace("runs-on:", "run-on:"), encoding="utf-8")
    schema = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                             str(misspelt)], capture_output=True, text=True, timeout=120, check=False)
    assert schema.returncode == 1, schema.stdout + schema.stderr


def test_actions_are_pinned_by_commit_and_jobs_hold_least_privilege() -> None:
    for path in (GITHUB_GATE, GITHUB_LOAD):
        uses = re.findall(r"uses: (\S+)(.*)", path.read_text(encoding="utf-8"))
        assert uses, path
        for ref, comment in uses:
            assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned by commit"
            assert re.search(r"# v\d", comment), f"{path.name}: {ref} does not name its release"
        data = _yaml(path)
        assert data["permissions"] == {}, path
        for job in data["jobs"].values():
            others = {name: level for name, level in job["permissions"].items() if name != "checks"}
            assert job["permissions"].get("checks") == "write", "the JUnit action publishes a check run"
            assert set(others.values()) <= {"read"}, f"{path.name}: only the checks are written"
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, path


def _install_scripts() -> dict[str, str]:
    scripts = {}
    for path, job in ((GITHUB_GATE, "contract"), (GITHUB_LOAD, "load")):
        (step,) = [step for step in _yaml(path)["jobs"][job]["steps"] if "pip install" in step.get("run", "")]
        scripts[f"{path.name}:{job}"] = step["run"]
    lines = _yaml(GITLAB)[".coupon-harness"]["before_script"]
    scripts["gitlab"] = "\n".join(line for line in lines if not line.startswith("apt-get"))
    return scripts


def _scratch_env(tmp_path: Path) -> Path:
    """An environment of its own that sees this one's packages (the dependencies) but installs into itself."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "env")], check=True, timeout=120)
    (site,) = (tmp_path / "env" / "lib").glob("python3*/site-packages")
    parent = next(Path(entry) for entry in sys.path if entry.endswith("site-packages") and Path(entry).is_dir())
    (site / "parent.pth").write_text(f"{parent}\n", encoding="utf-8")
    return site


def test_the_install_step_installs_the_pinned_commit_and_refuses_a_moving_ref(tmp_path: Path) -> None:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    if head.returncode != 0:
        pytest.skip("not a git checkout: no commit to pin")
    sha = head.stdout.strip()
    scripts = _install_scripts()
    assert len(scripts) == 3
    for name, script in scripts.items():
        refused = _bash(script, tmp_path, {**os.environ, "HARNESS_REPO": ROOT.as_uri(), "HARNESS_REF": "main"})
        assert refused.returncode == 2 and "HARNESS_REF" in refused.stdout + refused.stderr, name
    site = _scratch_env(tmp_path)
    env = {**os.environ, "PATH": f"{site.parents[2] / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "HARNESS_REPO": ROOT.as_uri(), "HARNESS_REF": sha, "PIP_QUIET": "1"}
    done = _bash(scripts["contract-gate.yml:contract"], tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    (dist,) = site.glob("coupon_harness-*.dist-info")
    origin = json.loads((dist / "direct_url.json").read_text(encoding="utf-8"))
    assert origin["vcs_info"]["commit_id"] == sha, origin
    assert (site / "coupon_harness" / "cli" / "main.py").is_file()


def test_recipes_parse_and_take_secrets_only_from_the_store() -> None:
    for path in (GITHUB_GATE, GITHUB_LOAD, GITLAB):
        text = path.read_text(encoding="utf-8")
        data = _yaml(path)
        assert data, path
        for name in set(re.findall(r"\bCOUPON_HARNESS_[A-Z_]+", text)):
            assert name in KNOWN_VARIABLES, f"{path.name}: {name} is no option's variable"
        for job in (data.get("jobs") or {}).values():
            for name, value in (job.get("env") or {}).items():
                if name in SECRET_VARIABLES:
                    assert str(value).startswith("${{ secrets."), f"{path.name}: {name} not from secrets"
    gitlab = _yaml(GITLAB)
    for job in ("contract-gate", "nightly-load"):
        assert not SECRET_VARIABLES & set(gitlab[job].get("variables") or {}), "a credential in the file"


def test_the_recipes_wire_junit_the_summary_and_the_reports() -> None:
    gate = _yaml(GITHUB_GATE)["jobs"]["contract"]["steps"]
    uses = {step.get("uses", "").split("@")[0]: step for step in gate}
    assert uses["mikepenz/action-junit-report"]["with"]["report_paths"] == "reports/contract/junit.xml"
    assert uses["actions/upload-artifact"]["with"]["path"] == "reports/contract/"
    assert any("GITHUB_STEP_SUMMARY" in step.get("run", "") and "report.md" in step["run"] for step in gate)
    assert all(step.get("if") == "always()" for step in gate if "uses" in step and "junit" in step["uses"])
    assert "--baseline ci/coupon-harness-baseline.json" in " ".join(step.get("run", "") for step in gate)
    gitlab = _yaml(GITLAB)
    assert gitlab["contract-gate"]["artifacts"]["reports"]["junit"] == "reports/contract/junit.xml"
    assert gitlab["nightly-load"]["artifacts"]["reports"]["junit"] == "reports/load/junit.xml"
    assert {"key": "coupon-harness-load", "paths": ["previous-load/"]} in gitlab["nightly-load"]["cache"]
    for name in ("contract-gate", "nightly-load"):  # GitLab's job summary: a link on the MR, a section in the log
        assert gitlab[name]["artifacts"]["expose_as"].startswith("coupon-harness"), name
        assert any("section_start" in line for line in gitlab[name]["after_script"]), name


def test_every_recipe_caches_pip_keyed_by_the_pinned_commit() -> None:
    for path, job in ((GITHUB_GATE, "contract"), (GITHUB_LOAD, "load")):
        caches = [step["with"] for step in _yaml(path)["jobs"][job]["steps"]
                  if step.get("uses", "").startswith("actions/cache@")]
        key = "pip-coupon-harness-${{ runner.os }}-${{ vars.HARNESS_REF }}"
        assert caches == [{"path": "~/.cache/pip", "key": key}], path
    gitlab = _yaml(GITLAB)
    assert gitlab["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pip"
    pip_cache = {"key": "pip-coupon-harness-$HARNESS_REF", "paths": [".cache/pip/"]}
    assert pip_cache in gitlab[".coupon-harness"]["cache"] and pip_cache in gitlab["nightly-load"]["cache"]


def test_the_github_contract_gate_runs_green_against_the_sandbox(tmp_path: Path,
                                                                 sandbox_env: dict[str, str]) -> None:
    job = _yaml(GITHUB_GATE)["jobs"]["contract"]
    work = _workspace(tmp_path)
    summary = tmp_path / "step-summary.md"
    env = _env(job["env"], sandbox_env, {"GITHUB_STEP_SUMMARY": str(summary)})
    for step in job["steps"]:
        script = step.get("run")
        if script is None or _is_install(script):
            continue
        done = _bash(script, work, env)
        assert done.returncode == 0, f"{step.get('name')}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert (work / "reports" / "contract" / "junit.xml").is_file()
    assert "coupon-harness" in summary.read_text(encoding="utf-8").lower()


def test_the_github_nightly_load_runs_twice_and_compares(tmp_path: Path, sandbox_env: dict[str, str]) -> None:
    job = _yaml(GITHUB_LOAD)["jobs"]["load"]
    work = _workspace(tmp_path)
    env = _env(job["env"], sandbox_env, {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")})
    for night in (1, 2):
        shutil.rmtree(work / "reports", ignore_errors=True)
        for step in job["steps"]:
            script = step.get("run")
            if script is None or _is_install(script):
                continue
            done = _bash(script, work, env)
            assert done.returncode == 0, f"night {night}, {step.get('name')}: {done.stdout}\n{done.stderr}"
        summary = (work / "reports" / "load" / "summary.json").read_text(encoding="utf-8")
        assert ('"comparison": null' in summary) == (night == 1), f"night {night}"
    assert (work / "previous-load" / "summary.json").is_file()
    assert (work / "reports" / "load" / "junit.xml").is_file()


def test_the_gitlab_jobs_run_green_against_the_sandbox(tmp_path: Path, sandbox_env: dict[str, str]) -> None:
    gitlab = _yaml(GITLAB)
    for name in ("contract-gate", "nightly-load"):
        job = gitlab[name]
        work = _workspace(tmp_path / name)
        variables = {key: sandbox_env[key] for key in sandbox_env}
        env = _env(job.get("variables") or {}, sandbox_env, variables)
        script = "\n".join(line for line in job["script"] if not _is_install(line))
        done = _bash(script, work, env)
        assert done.returncode == 0, f"{name}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        after = _bash("\n".join(job.get("after_script", [])), work, env)
        assert after.returncode == 0 and "coupon-harness" in after.stdout.lower(), name
    assert (tmp_path / "contract-gate" / "repo" / "reports" / "contract" / "junit.xml").is_file()
