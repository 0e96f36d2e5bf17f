"""Plain `locust -f locustfiles/bulk_issue.py` without --series-ids asks the target's /sandbox/info, as
`coupon-harness load` does: a coupon-harness sandbox names its series and demo user and the run is checked;
any other target is one line naming --series-ids, exit 2, no traceback (before: an AttributeError per user)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from coupon_harness.cli.sandbox_target import sandbox_settings
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.runners.load.discovery import INFO_PATH, sandbox_description
from coupon_harness.sandbox.info import INFO_PATH as SANDBOX_INFO_PATH
from coupon_harness.sandbox.server import running_sandbox
from coupon_harness.transport.outbound import OutboundPolicy

LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfiles" / "bulk_issue.py"
LOCUST = str(Path(sys.executable).with_name("locust"))


def _locust(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}
    return subprocess.run([LOCUST, "-f", str(LOCUSTFILE), "--headless", "-u", "2", "-r", "2", "-t", "2s", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


@contextmanager
def _not_a_sandbox(status: int, body: bytes) -> Iterator[str]:
    """A target that answers every GET with `status` and `body` (and so has no coupon-harness /sandbox/info)."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_info_path_is_the_sandboxs() -> None:
    assert INFO_PATH == SANDBOX_INFO_PATH


def _ask(base_url: str, timeout: float = 3.0) -> ContractSettings | None:
    """What the locustfile learns from a target: the settings its sandbox description gives, or None."""
    info = sandbox_description(base_url, OutboundPolicy(timeout=timeout, url_flag="--host"))
    return None if info is None else sandbox_settings(ContractSettings(base_url), info)


def test_the_sandbox_names_its_series_and_demo_user() -> None:
    with running_sandbox() as sandbox:
        known = _ask(sandbox.base_url + "/")
        config = sandbox.config
    assert known is not None
    assert known.expectations.valid_series == frozenset(config.valid_series)
    assert known.expectations.invalid_series == frozenset(config.invalid_series)
    assert known.expectations.generic_series == frozenset(config.generic_series)
    credentials = known.credentials
    assert (credentials.user, credentials.password) == next(iter(config.users.items()))


def test_other_targets_are_left_alone() -> None:
    assert _ask("http://127.0.0.1:1", timeout=1.0) is None
    for status, body in ((404, b'{"error": "not found"}'), (200, b'{"validSeries": [1]}'), (200, b"<html>")):
        with _not_a_sandbox(status, body) as base_url:
            assert _ask(base_url) is None, (status, body)


def test_a_description_with_other_than_integer_series_keeps_only_the_integers() -> None:
    body = json.dumps({"sandbox": "coupon-harness", "validSeries": [7, "x", True, 1.5, None], "invalidSeries": "9",
                       "defaultUser": "demo", "defaultPassword": 5}).encode()
    with _not_a_sandbox(200, body) as base_url:
        known = _ask(base_url)
    assert known is not None
    assert known.expectations.valid_series == frozenset({7}) and not known.expectations.invalid_series
    assert not known.credentials.any


def test_without_series_ids_the_sandbox_names_its_series_and_user(tmp_path: Path) -> None:
    report = tmp_path / "report"
    with running_sandbox() as sandbox:
        done = _locust(tmp_path, "--host", sandbox.base_url, "--harness-report-dir", str(report))
        issued = sum(sandbox.issuer.coupons_issued(series) for series in sandbox.config.valid_series)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    summary = json.loads((report / "summary.json").read_text())
    assert summary["requests"] > 10 and summary["error_rate"] == 0.0, summary
    assert summary["status_counts"] == {"200": summary["requests"]}, summary  # the demo user was accepted
    assert summary["coupons_issued"] == issued > 0, (summary, issued)


def test_without_series_ids_any_other_target_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for status, body in ((404, b'{"error": "not found"}'), (200, b'{"hello": "world"}')):
        with _not_a_sandbox(status, body) as base_url:
            done = _locust(tmp_path, "--host", base_url, "--user", "a:b")
        assert done.returncode == 2, done.stderr
        last = done.stderr.splitlines()[-1]
        assert last.startswith("coupon-harness locustfile: error: --series-ids is required"), last
        assert f"{base_url} is not a coupon-harness sandbox" in last, last
        assert "Traceback" not in done.stderr and "AttributeError" not in done.stderr, done.stderr
        assert not (tmp_path / "reports").exists()


def test_a_production_host_is_refused_before_the_sandbox_is_asked(tmp_path: Path) -> None:
    done = _locust(tmp_path, "--host", "https://eu.api.capillarytech.com")
    assert done.returncode == 2, done.stderr
    last = done.stderr.splitlines()[-1]
    assert "Capillary production host" in last and "--series-ids" not in last, last
    assert "Traceback" not in done.stderr, done.stderr
