"""Plain `locust -f locustfiles/bulk_issue.py`: a refusal is one line naming Locust's own flags (`--host`,
`--allow-production`, `--series-ids`), exit 2, before any user starts; no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfiles" / "bulk_issue.py"
LOCUST = str(Path(sys.executable).with_name("locust"))


def _locust(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}
    return subprocess.run([LOCUST, "-f", str(LOCUSTFILE), "--headless", "-u", "2", "-t", "3s", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_a_refused_production_host_names_locusts_host_flag(tmp_path: Path) -> None:
    done = _locust(tmp_path, "--host", "https://eu.api.capillarytech.com", "--series-ids", "101", "--user", "a:b")
    assert done.returncode == 2, done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("coupon-harness locustfile: error: --host: eu.api.capillarytech.com is a Capillary "
                           "production host"), last
    assert "--allow-production" in last and "--base-url" not in last, last
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "reports").exists()


def test_without_series_ids_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    """Before: every user died with an AttributeError traceback (BulkIssueUser.state was None), exit 0/1."""
    done = _locust(tmp_path, "--host", "http://127.0.0.1:1", "--user", "a:b")
    assert done.returncode == 2, done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("coupon-harness locustfile: error: --series-ids is required"), last
    assert "Traceback" not in done.stderr and "AttributeError" not in done.stderr, done.stderr
    assert not (tmp_path / "reports").exists()


def test_a_bad_series_list_is_one_line_too(tmp_path: Path) -> None:
    done = _locust(tmp_path, "--host", "http://127.0.0.1:1", "--series-ids", "101,x", "--user", "a:b")
    assert done.returncode == 2, done.stderr
    assert "--series-ids" in done.stderr.splitlines()[-1], done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def test_the_issues_bad_inputs_are_one_line_too(tmp_path: Path) -> None:
    """A user without a password and a flag given twice: exit 2, the last line names the fix, no user starts."""
    done = _locust(tmp_path, "--host", "http://127.0.0.1:1", "--series-ids", "101", "--user", "nocolon")
    assert done.returncode == 2, done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("coupon-harness locustfile: error: --user gives a user but no password"), last
    assert "Traceback" not in done.stderr, done.stderr
    done = _locust(tmp_path, "--host", "http://127.0.0.1:1", "--series-ids", "101", "--series-ids", "102")
    assert done.returncode == 2, done.stderr
    assert "argument --series-ids: given twice ('101', then '102')" in done.stderr.splitlines()[-1], done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "reports").exists()
