"""Starting and stopping: running_sandbox in-process, `python -m coupon_harness.sandbox` as a subprocess."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from tests.sandbox.sandbox_helpers import issue

from coupon_harness.sandbox import running_sandbox


def test_several_sandboxes_start_and_stop_in_one_process(http: requests.Session) -> None:
    with running_sandbox() as first, running_sandbox() as second:
        assert first.port != second.port
        assert first.base_url == f"http://127.0.0.1:{first.port}"
        assert issue(http, first, [101]).status_code == 200
        assert issue(http, second, [101]).status_code == 200
        assert first.issuer is not second.issuer
    http.close()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", first.port), timeout=1):
        pass
    with running_sandbox() as third:
        assert issue(http, third, [101]).status_code == 200


def test_a_taken_port_fails_at_start() -> None:
    with running_sandbox() as first, pytest.raises(OSError), running_sandbox(port=first.port):
        pass


@pytest.mark.parametrize("loop", [[], ["--no-uvloop"]], ids=["uvloop", "asyncio"])
def test_module_serves_until_sigterm(loop: list[str]) -> None:
    process = subprocess.Popen([sys.executable, "-m", "coupon_harness.sandbox", "--port", "0", *loop],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"sandbox listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert match, line
        with requests.Session() as http:
            answer = http.post(match.group(1) + "/v2/coupon/bulk/issue", auth=("sandbox", "sandbox"),
                               json={"seriesIds": [101], "customer": {"id": "c1"}}, timeout=5)
        assert answer.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_module_reports_a_bad_config_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("seriez: []\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "coupon_harness.sandbox", "--config", str(path)],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "did you mean 'series'" in done.stderr
