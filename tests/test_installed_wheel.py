"""The package as a user gets it: the wheel, installed where the source tree cannot be seen, used from an
empty folder. `pytest --harness-base-url URL` runs one test per rule of the contract against a running
sandbox, and `locust -f "$(coupon-harness locustfile-path)"` runs the checked user (exit 0).

The wheel is installed with `pip install --no-deps --target DIR` and put first on PYTHONPATH: the
dependencies come from this environment, the package and its entry points from DIR. This environment's own
(editable) install stays visible after it; pytest registers an entry point's plugin once per name, so the
wheel's plugin, found first, is the one registered (the test checks where each module came from).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from coupon_harness.contract.catalog import rules
from coupon_harness.sandbox.info import sandbox_info
from coupon_harness.sandbox.server import running_sandbox

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the freshly built wheel is installed in."""
    wheels = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = wheels.glob("coupon_harness-*.whl")
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                           str(wheel)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, list[int]]]:
    with running_sandbox() as served:
        valid = sandbox_info(served.config)["validSeries"]
        assert isinstance(valid, list)
        yield served.base_url, [int(series) for series in valid]


def _run(args: list[str], installed: Path, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("COUPON_HARNESS_", "PYTEST_", "HYPOTHESIS_"))}
    env["PYTHONPATH"] = str(installed)
    env["NO_COLOR"] = "1"
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_the_installed_package_is_the_one_used(installed: Path, tmp_path: Path) -> None:
    code = ("import json, importlib.metadata as md, coupon_harness, coupon_harness.cli.pytest_plugin as plugin\n"
            "eps = [ep for ep in md.entry_points(group='pytest11') if ep.name == 'coupon_harness']\n"
            "print(json.dumps([coupon_harness.__file__, plugin.__file__, str(eps[0].dist._path)]))\n")
    done = _run(["-c", code], installed, tmp_path)
    assert done.returncode == 0, done.stderr
    for path in json.loads(done.stdout):
        assert Path(path).is_relative_to(installed), path


def test_pytest_in_an_empty_folder_runs_one_test_per_rule(installed: Path, sandbox: tuple[str, list[int]],
                                                          tmp_path: Path) -> None:
    base_url, _ = sandbox
    done = _run(["-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-q", "-rs",
                 "--harness-base-url", base_url, "--harness-max-examples", "5"], installed, tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    expected = len(rules()) + 1  # a test per rule, and the harness's own faults
    assert f"{expected} passed" in out, out
    assert not any(path.name != ".hypothesis" for path in tmp_path.iterdir()), list(tmp_path.iterdir())


def test_pytest_without_a_target_adds_nothing(installed: Path, tmp_path: Path) -> None:
    done = _run(["-m", "pytest", "-p", "no:cacheprovider", "-q"], installed, tmp_path)
    assert done.returncode == 5, done.stdout + done.stderr  # no tests collected
    assert "no tests ran" in done.stdout, done.stdout


def test_locust_runs_the_installed_locustfile(installed: Path, sandbox: tuple[str, list[int]],
                                              tmp_path: Path) -> None:
    base_url, series = sandbox
    where = _run(["-m", "coupon_harness.cli.main", "locustfile-path"], installed, tmp_path)
    assert where.returncode == 0, where.stderr
    locustfile = Path(where.stdout.strip())
    assert locustfile.is_file() and locustfile.is_relative_to(installed), locustfile
    done = _run(["-m", "locust", "-f", str(locustfile), "--headless", "--host", base_url, "-u", "2", "-r", "2",
                 "-t", "3s", "--series-ids", ",".join(map(str, series[:2])), "--user", "sandbox:sandbox",
                 "--harness-report-dir", str(tmp_path / "reports")], installed, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "reports" / "summary.json").is_file()
