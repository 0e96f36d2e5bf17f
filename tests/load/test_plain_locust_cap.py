"""Plain `locust -f locustfiles/bulk_issue.py` keeps the coupon cap exactly, alone and as a master with two
workers (the master hands each worker its share before the users start); the report lists coupons.csv.

With workers the sandbox answers the first requests (the workers' preflights) late: a worker is connected, and
its master may start, while it still tries the target. That once lost the share (the master's message came
before the worker listened for it): that worker settled a cap of 0 and sent nothing, the master never reached
the cap, and 16 requests were all the run made (CI, on a busy machine)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from tests.sockets import listening_port

from coupon_harness.sandbox.app import Before
from coupon_harness.sandbox.server import running_sandbox
from load.support import VALID, coupon_rows

LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfiles" / "bulk_issue.py"
LOCUST = str(Path(sys.executable).with_name("locust"))
#: How late the sandbox answers the first requests of a distributed run (the workers' preflights).
SLOW_PREFLIGHT_S = 1.5


def _slow_first(count: int) -> Before:
    """A sandbox hook: the first `count` requests are answered SLOW_PREFLIGHT_S late."""
    seen = itertools.count()

    async def before(_request: web.Request) -> None:
        if next(seen) < count:
            await asyncio.sleep(SLOW_PREFLIGHT_S)

    return before


@pytest.mark.parametrize("workers", [0, 2])
def test_plain_locust_stops_at_the_cap_exactly(workers: int, tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}
    report = tmp_path / "report"
    with running_sandbox(before=_slow_first(workers) if workers else None) as sandbox:
        common = ["-f", str(LOCUSTFILE), "--host", sandbox.base_url, "--series-ids", ",".join(map(str, VALID)),
                  "--batch-size", "3-3", "--user", "sandbox:sandbox", "--max-coupons", "101"]
        distributed = ["--master", "--expect-workers", str(workers), "--master-bind-port", "0"] if workers else []
        master = subprocess.Popen([LOCUST, *common, *distributed, "--headless", "-u", "20", "-r", "200", "-t", "15s",
                                   "--harness-report-dir", str(report)], cwd=tmp_path, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = listening_port(master) if workers else 0  # it bound a free port itself (--master-bind-port 0)
        helpers = [subprocess.Popen([LOCUST, *common, "--worker", "--master-port", str(port)], cwd=tmp_path, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
        try:
            _, err = master.communicate(timeout=60)
            for helper in helpers:
                helper.wait(timeout=90)
        finally:
            for process in (master, *helpers):
                if process.poll() is None:
                    process.kill()
                    process.wait()
        issued = sum(sandbox.issuer.coupons_issued(series) for series in VALID)
    assert master.returncode == 0, err
    summary = json.loads((report / "summary.json").read_text())
    assert issued == 101 == len(coupon_rows(report)) - 1, (issued, summary)
    assert summary["stopped_reason"] == "--max-coupons reached (101)", summary
    assert "coupons.csv was written" not in (report / "report.md").read_text()
