#!/usr/bin/env python3
"""Benchmark the sandbox: bulk-issue requests per second on one core, measured by wrk.

The sandbox runs as a subprocess pinned to one core (`taskset -c 0`), wrk to another (`taskset -c 1`).
Every request POSTs a 2-series body with a customer id never used before, with Basic auth. Before the
measurement one request is checked against the contract, so the figure is for correct answers.

    .venv/bin/python scripts/bench_sandbox.py                 # 1 run of 10 s
    .venv/bin/python scripts/bench_sandbox.py --runs 3 --min-rps 8000

Exit status: 0 done (and every run reached --min-rps), 1 a run fell short or answered non-2xx,
2 wrk (or the sandbox) is missing or broken.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from coupon_harness import ENDPOINT
from coupon_harness.contract import Expectations, IssueCall, check_response
from coupon_harness.sandbox import default_config

# wrk's Lua: a distinct customer per request (per thread, then a counter); done() prints one JSON line.
LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "%(authorization)s"
local threads = {}
local next_thread = 1
setup = function(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"seriesIds":%(series)s,"customer":{"id":"bench-%(run)s-' .. tid .. '-' .. counter .. '"}}'
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests":%%d,"duration_us":%%d,"non2xx":%%d,' ..
    '"connect":%%d,"read":%%d,"write":%%d,"timeout":%%d,' ..
    '"p50_us":%%d,"p99_us":%%d}\n',
    summary.requests, summary.duration, errors.status, errors.connect, errors.read, errors.write,
    errors.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(core: str, command: list[str]) -> list[str]:
    return ["taskset", "-c", core, *command] if core and shutil.which("taskset") else command


def start_sandbox(port: int, core: str, config: str | None, no_uvloop: bool) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "coupon_harness.sandbox", "--host", "127.0.0.1", "--port", str(port)]
    if config:
        command += ["--config", config]
    if no_uvloop:
        command.append("--no-uvloop")
    process = subprocess.Popen(pinned(core, command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if "sandbox listening on" not in line:
        process.kill()
        rest = process.communicate()[0]
        sys.exit(f"bench: the sandbox did not start: {line}{rest}")
    return process


def check_one(base_url: str, authorization: str, series: list[int]) -> None:
    """One request, judged by the contract: a benchmark of wrong answers would be worthless."""
    body = json.dumps({"seriesIds": series, "customer": {"id": "bench-check"}}).encode()
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    request = urllib.request.Request(base_url + ENDPOINT, data=body, method="POST", headers=headers)
    issued_at = datetime.now(UTC)
    with urllib.request.urlopen(request, timeout=5) as answer:
        status, payload = answer.status, json.loads(answer.read())
    config = default_config()
    expectations = Expectations(config.valid_series, config.invalid_series, config.generic_series)
    violations = check_response(IssueCall(series, "bench-check", issued_at, fresh_customer=True), payload,
                                expectations)
    if status != 200 or violations:
        sys.exit(f"bench: the sandbox answered {status} with violations {violations}")


def run_wrk(args: argparse.Namespace, url: str, lua: Path, duration: str) -> dict[str, int]:
    command = pinned(args.wrk_core, ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}",
                                     "--timeout", "5s", "-s", str(lua), url])
    output = subprocess.run(command, capture_output=True, text=True, check=False)
    match = re.search(r"^BENCH (\{.*\})$", output.stdout, re.MULTILINE)
    if output.returncode != 0 or match is None:
        sys.exit(f"bench: wrk failed ({output.returncode}): {output.stderr.strip() or output.stdout.strip()}")
    figures: dict[str, int] = json.loads(match.group(1))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Requests/s of the sandbox on one core, measured with wrk.")
    parser.add_argument("--runs", type=int, default=1, help="measurements, each on a new sandbox (default 1)")
    parser.add_argument("--duration", default="10s", help="wrk duration per run (default 10s)")
    parser.add_argument("--warmup", default="2s", help="wrk warm-up before each run, 0 for none (default 2s)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--series", default="101,102", help="series ids per request (default 101,102)")
    parser.add_argument("--server-core", default="0", help="taskset cores for the sandbox ('' = unpinned)")
    parser.add_argument("--wrk-core", default="1", help="taskset core list for wrk ('' = no pinning)")
    parser.add_argument("--config", help="sandbox config file (default: the built-in catalog)")
    parser.add_argument("--no-uvloop", action="store_true", help="run the sandbox on asyncio's own loop")
    parser.add_argument("--min-rps", type=float, default=0.0, help="exit 1 below this rate (default: off)")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print("bench: wrk is not installed; install it with: apt-get update && apt-get install -y wrk",
              file=sys.stderr)
        return 2
    if not shutil.which("taskset"):
        print("bench: taskset not found (util-linux); running unpinned", file=sys.stderr)
    if (os.cpu_count() or 1) < 2:
        print("bench: fewer than 2 cores: wrk and the sandbox share one, the figure is low", file=sys.stderr)

    series = [int(s) for s in args.series.split(",") if s.strip()]
    authorization = "Basic " + base64.b64encode(b"sandbox:sandbox").decode()
    rates: list[float] = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        for run in range(1, args.runs + 1):
            lua = Path(tmp) / f"run{run}.lua"
            series_json = json.dumps(series, separators=(",", ":"))
            tag = f"{os.getpid()}-{run}"
            lua.write_text(LUA % {"authorization": authorization, "series": series_json, "run": tag})
            port = free_port()
            sandbox = start_sandbox(port, args.server_core, args.config, args.no_uvloop)
            try:
                base_url = f"http://127.0.0.1:{port}"
                check_one(base_url, authorization, series)
                if args.warmup not in ("", "0", "0s"):
                    run_wrk(args, base_url + ENDPOINT, lua, args.warmup)
                figures = run_wrk(args, base_url + ENDPOINT, lua, args.duration)
            finally:
                sandbox.terminate()
                try:
                    sandbox.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    sandbox.kill()
            rate = figures["requests"] / (figures["duration_us"] / 1e6)
            socket_errors = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
            rates.append(rate)
            print(f"run {run}: {rate:,.0f} req/s  requests {figures['requests']:,}  "
                  f"non-2xx {figures['non2xx']}  "
                  f"socket errors {socket_errors}  p50 {figures['p50_us'] / 1000:.2f} ms  "
                  f"p99 {figures['p99_us'] / 1000:.2f} ms", flush=True)
            if figures["non2xx"] or socket_errors or rate < args.min_rps:
                failed = True
            time.sleep(0.5)
    if len(rates) > 1:
        print(f"median {statistics.median(rates):,.0f} req/s over {len(rates)} runs "
              f"(min {min(rates):,.0f}, max {max(rates):,.0f})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
