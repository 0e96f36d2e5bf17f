"""`pytest tests/contract` against a Capillary production host is refused before any request unless
--harness-allow-production is given (the CLI's --allow-production). Run in a pytest of its own, with every
name lookup and connection refused and recorded: nothing can leave the machine either way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: A pytest plugin for the inner run: every lookup and connection attempt is written down and refused.
NO_NETWORK = '''
import os
import socket

_LOG = os.environ["NO_NETWORK_LOG"]


def _refuse(*args, **kwargs):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(repr(args[:2]) + "\\n")
    raise OSError("network use in a test of the production guard")


socket.create_connection = _refuse
socket.getaddrinfo = _refuse
socket.socket.connect = _refuse
'''


def _inner_pytest(tmp_path: Path, *options: str, url: str = "https://eu.api.capillarytech.com"
                  ) -> tuple[subprocess.CompletedProcess[str], str]:
    (tmp_path / "no_network_plugin.py").write_text(NO_NETWORK)
    log = tmp_path / "network.log"
    env = {**os.environ, "NO_NETWORK_LOG": str(log),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    for name in list(env):
        if name.startswith("COUPON_HARNESS_"):
            env.pop(name)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/contract", "-p", "no:cacheprovider", "-p", "no_network_plugin",
         "-q", "-x", "--harness-base-url", url, "--harness-user", "till:pw",
         "--harness-series-ids", "101", *options],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    return done, log.read_text() if log.exists() else ""


def test_a_production_host_is_refused_before_any_request(tmp_path: Path) -> None:
    done, attempts = _inner_pytest(tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "eu.api.capillarytech.com is a Capillary production host" in output, output
    assert "--harness-allow-production" in output, output
    assert attempts == "", attempts


@pytest.mark.parametrize("url", ["https://\uff25\uff35.api.capillarytech.com", "https://sg.api.capillarytech.com/"])
def test_production_in_other_spellings_is_refused_too(url: str, tmp_path: Path) -> None:
    done, attempts = _inner_pytest(tmp_path, url=url)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is a Capillary production host" in done.stdout + done.stderr
    assert attempts == "", attempts


def test_an_option_given_twice_is_refused_naming_both_values(tmp_path: Path) -> None:
    """pytest keeps the last of `--harness-seed 1 --harness-seed 2`; the plugin refuses it, as the CLI does."""
    done, attempts = _inner_pytest(tmp_path, "--harness-seed", "1", "--harness-seed=2", url="http://127.0.0.1:1")
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "coupon-harness: --harness-seed given twice ('1', then '2'): give it once" in output, output
    assert attempts == "", attempts


def test_with_harness_allow_production_the_run_goes_ahead(tmp_path: Path) -> None:
    """The control: allowed, the run tries to reach the host (and is stopped by the plugin, not the guard)."""
    done, attempts = _inner_pytest(tmp_path, "--harness-allow-production")
    output = done.stdout + done.stderr
    assert "is a Capillary production host" not in output, output
    assert "eu.api.capillarytech.com" in attempts, (attempts, output)
    assert done.returncode != 0, output
