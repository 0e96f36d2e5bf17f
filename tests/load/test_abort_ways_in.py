"""--abort-on-fail and --prometheus-port reach every way in through the one option table: `load` (flag,
variable, config key), `run`'s load stage, and plain `locust -f locustfiles/bulk_issue.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.children import Children
from tests.sockets import listening_port

from coupon_harness.cli.option_table import LOAD, RUN, Sources, resolve
from coupon_harness.cli.settings_builders import load_settings, run_load_settings
from coupon_harness.contract.expectations import Expectations
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.sandbox.config import Faults, SandboxConfig
from coupon_harness.sandbox.server import running_sandbox
from coupon_harness.transport.auth import Credentials
from load.support import VALID

LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfiles" / "bulk_issue.py"
LOCUST = str(Path(sys.executable).with_name("locust"))
BASE = {"base-url": "http://127.0.0.1:9", "series-ids": "101", "user": "u:p"}


def test_off_by_default() -> None:
    settings = load_settings(resolve(Sources(flags=BASE, environ={}), LOAD))
    assert not settings.abort_on_fail and settings.prometheus_port is None
    assert settings.prometheus_host == "127.0.0.1"


def test_the_load_options_come_from_flags_and_variables() -> None:
    flags = {**BASE, "abort-on-fail": True, "abort-violations": "4", "abort-grace": "2s", "prometheus-port": "9464"}
    settings = load_settings(resolve(Sources(flags=flags, environ={}), LOAD))
    assert settings.abort_on_fail and settings.abort_violations == 4 and settings.abort_grace_s == 2.0
    assert settings.prometheus_port == 9464 and settings.prometheus_host == "127.0.0.1"
    environ = {"COUPON_HARNESS_ABORT_ON_FAIL": "true", "COUPON_HARNESS_PROMETHEUS_PORT": "9465",
               "COUPON_HARNESS_PROMETHEUS_HOST": "0.0.0.0"}
    settings = load_settings(resolve(Sources(flags=BASE, environ=environ), LOAD))
    assert settings.abort_on_fail and settings.abort_violations == 1 and settings.abort_grace_s == 5.0
    assert settings.prometheus_port == 9465 and settings.prometheus_host == "0.0.0.0"


def test_runs_load_stage_takes_abort_on_fail() -> None:
    contract = ContractSettings("http://127.0.0.1:9", credentials=Credentials(user="u", password="p"),
                                expectations=Expectations(valid_series=frozenset({101})))
    flags = {"abort-on-fail": True, "abort-violations": "2"}
    settings = run_load_settings(contract, resolve(Sources(flags=flags, environ={}), RUN))
    assert settings.abort_on_fail and settings.abort_violations == 2
    assert not run_load_settings(contract, resolve(Sources(flags={}, environ={}), RUN)).abort_on_fail


def test_plain_locust_stops_early_with_the_reason_and_serves_metrics(tmp_path: Path, children: Children) -> None:
    """Stopped by --abort-on-fail well before its 60 s run time: the report's stopped_reason says so (the run's
    end is observed by its outcome, not timed); its figures were served at --prometheus-port (0: a free one)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}
    report = tmp_path / "report"
    config = SandboxConfig(faults=Faults(latency_ms=200.0))
    with running_sandbox(config) as sandbox:
        locust = children.start([LOCUST, "-f", str(LOCUSTFILE), "--host", sandbox.base_url, "--series-ids",
                                 ",".join(map(str, VALID)), "--user", "sandbox:sandbox", "--headless", "-u", "20",
                                 "-r", "100", "-t", "60s", "--slo", "p95=50ms", "--abort-on-fail", "--abort-grace",
                                 "2s", "--prometheus-port", "0", "--harness-report-dir", str(report)],
                                cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = listening_port(locust)
        scraped = ""
        while not scraped and locust.poll() is None:
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
                    text = answer.read().decode()
            except OSError:
                continue
            if 'coupon_harness_requests_total{status="200"}' in text:
                scraped = text
        _, err = locust.communicate(timeout=120)  # a hang guard: the abort ends it after ~2 s of traffic
    assert scraped, "plain locust served no figures at --prometheus-port"
    assert locust.returncode == 1, err[-2000:]
    summary = json.loads((report / "summary.json").read_text())
    assert summary["stopped_reason"].startswith("--abort-on-fail: p95<=50ms can no longer be met"), summary
    assert "Traceback" not in err
