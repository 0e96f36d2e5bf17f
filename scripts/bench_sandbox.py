#!/usr/bin/env python3
"""Benchmark the sandbox: bulk-issue requests per second on one core, measured by wrk, side by side with a
bare aiohttp+orjson server of the same endpoint on the same core.

The sandbox and the bare server run as subprocesses pinned to one core (`taskset -c 0`), wrk to another
(`taskset -c 1`). Every request POSTs a 2-series body with a customer id never used before, with Basic auth.
Before the measurement one request to each is checked against the contract, so the figures are for correct
answers. The bare server (`--serve-bare`, below) answers the same endpoint with the same body shape and nothing
else: no auth, no validation, no record of the codes issued, no hooks. Each run measures both, the order
alternating from run to run, so noise from a shared machine hits both sides; the ratio sandbox/bare of each run
and their median are printed (`--no-bare`: the sandbox alone), in req/s and in requests per CPU-second of the
server process. On a quiet machine each server saturates its core and the two ratios agree; on a shared one the
req/s ratio follows whichever server the other processes left more of core 0 to, and the per-CPU-second ratio
is the figure to read (`--min-ratio` gates it). The load average is printed before and after.

    .venv/bin/python scripts/bench_sandbox.py                 # 1 run of 10 s per server
    .venv/bin/python scripts/bench_sandbox.py --runs 5 --duration 5s --min-ratio 0.78
    .venv/bin/python scripts/bench_sandbox.py --runs 3 --min-rps 8000 --no-bare

Exit status: 0 done (and every run reached --min-rps, the median ratio --min-ratio), 1 a run fell short or
answered non-2xx, 2 wrk (or a server) is missing or broken.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from coupon_harness import ENDPOINT
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.invariants import IssueCall, check_response
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
    return _started(pinned(core, command), "sandbox")


def start_bare(port: int, core: str, no_uvloop: bool) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "--serve-bare", str(port)] + (["--no-uvloop"] if no_uvloop else [])
    return _started(pinned(core, command), "bare server")


def _started(command: list[str], what: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on" not in line:
        process.kill()
        rest = process.communicate()[0]
        sys.exit(f"bench: the {what} did not start: {line}{rest}")
    return process


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def serve_bare(port: int, no_uvloop: bool) -> None:
    """The bare server: aiohttp + orjson, POST on the bulk-issue path, the sandbox's answer shape for the
    built-in catalog (a random code, validTill from the series), on the same event loop as the sandbox."""
    import orjson
    from aiohttp import web

    catalog = {series.id: series for series in default_config().series}
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    table = bytes(alphabet[i % len(alphabet)] for i in range(256))
    getrandbits = random.Random(1).getrandbits

    def template(series: Any) -> dict[str, Any]:
        return {"code": "", "seriesId": series.id, "description": series.description,
                "discountCode": series.discount_code, "validTill": "", "discountType": series.discount_type,
                "discountValue": series.discount_value, "discountUpto": series.discount_upto,
                "discountOn": series.discount_on, "detailedInfo": series.detailed_info, "redemptionCount": 0,
                "id": 0}

    templates = {series_id: template(series) for series_id, series in catalog.items()}
    tills: dict[int, tuple[int, str]] = {}

    def till(series: Any) -> str:
        """validTill, formatted once a second."""
        second = int(time.time())
        cached = tills.get(series.id)
        if cached is None or cached[0] != second:
            when = series.valid_till or datetime.fromtimestamp(second, UTC) + timedelta(days=series.valid_days or 0)
            cached = tills[series.id] = (second, when.strftime("%Y-%m-%dT%H:%M:%SZ"))
        return cached[1]

    def entity(series_id: int) -> dict[str, Any]:
        series = catalog[series_id]
        result = templates[series_id].copy()
        result["code"] = series.generic_code or series.code_prefix + getrandbits(8 * series.code_length).to_bytes(
            series.code_length, "little").translate(table).decode("ascii")
        result["validTill"] = till(series)
        return {"entityId": series_id, "result": result, "errors": [], "warnings": []}

    async def issue(request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        entities = [entity(series_id) for series_id in body["seriesIds"]]
        answer = {"response": entities, "totalCount": len(entities), "failureCount": 0}
        return web.Response(body=orjson.dumps(answer), content_type="application/json")

    async def run() -> None:
        app = web.Application()
        app.router.add_post(ENDPOINT, issue)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        print(f"bare server listening on http://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()

    factory = None
    if not no_uvloop:
        try:
            import uvloop
            factory = uvloop.new_event_loop
        except ImportError:
            pass
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=factory) as loop:
        loop.run(run())


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
    parser = argparse.ArgumentParser(description="Requests/s of the sandbox on one core, measured with wrk, and its "
                                                 "ratio to a bare aiohttp+orjson server of the same endpoint.")
    parser.add_argument("--runs", type=int, default=1, help="measurements of each server (default 1)")
    parser.add_argument("--duration", default="10s", help="wrk duration per measurement (default 10s)")
    parser.add_argument("--warmup", default="2s", help="wrk warm-up of each server, 0 for none (default 2s)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--series", default="101,102", help="series ids per request (default 101,102)")
    parser.add_argument("--server-core", default="0", help="taskset cores for the servers ('' = unpinned)")
    parser.add_argument("--wrk-core", default="1", help="taskset core list for wrk ('' = no pinning)")
    parser.add_argument("--config", help="sandbox config file (default: the built-in catalog)")
    parser.add_argument("--no-uvloop", action="store_true", help="run both servers on asyncio's own loop")
    parser.add_argument("--no-bare", action="store_true", help="measure the sandbox alone, a new one each run")
    parser.add_argument("--min-rps", type=float, default=0.0, help="exit 1 below this rate (default: off)")
    parser.add_argument("--min-ratio", type=float, default=0.0,
                        help="exit 1 when the median ratio sandbox/bare of requests per CPU-second is below this "
                             "(default: off)")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare is not None:
        serve_bare(args.serve_bare, args.no_uvloop)
        return 0

    if shutil.which("wrk") is None:
        print("bench: wrk is not installed; install it with: apt-get update && apt-get install -y wrk",
              file=sys.stderr)
        return 2
    if not shutil.which("taskset"):
        print("bench: taskset not found (util-linux); running unpinned", file=sys.stderr)
    if (os.cpu_count() or 1) < 2:
        print("bench: fewer than 2 cores: wrk and the servers share one, the figures are low", file=sys.stderr)
    if args.config and not args.no_bare:
        print("bench: the bare server answers the built-in catalog; compare with --config only if the series match",
              file=sys.stderr)

    print(f"load average before: {' '.join(f'{load:.2f}' for load in os.getloadavg())}", flush=True)
    series = [int(s) for s in args.series.split(",") if s.strip()]
    authorization = "Basic " + base64.b64encode(b"sandbox:sandbox").decode()
    bench = _Bench(args, authorization, series)
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        bench.tmp = Path(tmp)
        if args.no_bare:
            for run in range(1, args.runs + 1):
                with bench.server("sandbox") as url:
                    bench.measure(run, "sandbox", url)
                time.sleep(0.5)
        else:
            with bench.server("sandbox") as sandbox_url, bench.server("bare") as bare_url:
                for run in range(1, args.runs + 1):
                    # The order alternates, so a slower stretch of a shared machine does not favour one side.
                    order = [("sandbox", sandbox_url), ("bare", bare_url)]
                    for name, url in order if run % 2 else order[::-1]:
                        bench.measure(run, name, url)
                        time.sleep(0.5)
                    ratio = bench.rates["sandbox"][-1] / bench.rates["bare"][-1]
                    bench.ratios.append(ratio)
                    cpu_ratio = bench.per_cpu["sandbox"][-1] / bench.per_cpu["bare"][-1]
                    bench.cpu_ratios.append(cpu_ratio)
                    print(f"ratio {run}: {ratio:.3f} req/s, {cpu_ratio:.3f} requests per CPU-second "
                          "(sandbox / bare)", flush=True)
    print(f"load average after: {' '.join(f'{load:.2f}' for load in os.getloadavg())}", flush=True)
    return bench.summary()


class _Bench:
    """The measurements of one invocation: servers started on free ports, wrk against them, the figures."""

    def __init__(self, args: argparse.Namespace, authorization: str, series: list[int]) -> None:
        self.args = args
        self.authorization = authorization
        self.series = series
        self.tmp = Path()
        self.rates: dict[str, list[float]] = {"sandbox": [], "bare": []}
        #: Requests per CPU-second of the server process: what a shared machine disturbs least.
        self.per_cpu: dict[str, list[float]] = {"sandbox": [], "bare": []}
        self.ratios: list[float] = []
        self.cpu_ratios: list[float] = []
        self.processes: dict[str, psutil.Process] = {}
        self.failed = False
        self.lua_files = 0

    def lua(self) -> Path:
        """A wrk script whose customer ids no earlier measurement used."""
        self.lua_files += 1
        lua = self.tmp / f"run{self.lua_files}.lua"
        series_json = json.dumps(self.series, separators=(",", ":"))
        tag = f"{os.getpid()}-{self.lua_files}"
        lua.write_text(LUA % {"authorization": self.authorization, "series": series_json, "run": tag})
        return lua

    @contextlib.contextmanager
    def server(self, name: str) -> Any:
        port = free_port()
        args = self.args
        process = (start_sandbox(port, args.server_core, args.config, args.no_uvloop) if name == "sandbox"
                   else start_bare(port, args.server_core, args.no_uvloop))
        self.processes[name] = psutil.Process(process.pid)  # taskset execs the server: the same pid
        try:
            base_url = f"http://127.0.0.1:{port}"
            check_one(base_url, self.authorization, self.series)
            if args.warmup not in ("", "0", "0s"):
                run_wrk(args, base_url + ENDPOINT, self.lua(), args.warmup)
            yield base_url + ENDPOINT
        finally:
            stop(process)

    def measure(self, run: int, name: str, url: str) -> None:
        lua = self.lua()
        before = self.processes[name].cpu_times()
        figures = run_wrk(self.args, url, lua, self.args.duration)
        after = self.processes[name].cpu_times()
        cpu_s = (after.user + after.system) - (before.user + before.system)
        rate = figures["requests"] / (figures["duration_us"] / 1e6)
        socket_errors = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
        self.rates[name].append(rate)
        self.per_cpu[name].append(figures["requests"] / cpu_s if cpu_s > 0 else 0.0)
        label = "run" if name == "sandbox" else "bare"
        print(f"{label} {run}: {rate:,.0f} req/s  requests {figures['requests']:,}  non-2xx {figures['non2xx']}  "
              f"socket errors {socket_errors}  p50 {figures['p50_us'] / 1000:.2f} ms  "
              f"p99 {figures['p99_us'] / 1000:.2f} ms  CPU {cpu_s / max(figures['requests'], 1) * 1e6:.1f} µs/req",
              flush=True)
        if figures["non2xx"] or socket_errors or (name == "sandbox" and rate < self.args.min_rps):
            self.failed = True

    def summary(self) -> int:
        for name, rates in self.rates.items():
            if len(rates) > 1:
                print(f"{name}: median {statistics.median(rates):,.0f} req/s over {len(rates)} runs "
                      f"(min {min(rates):,.0f}, max {max(rates):,.0f})")
        if self.ratios:
            ratio = statistics.median(self.ratios)
            pooled = sum(self.rates["sandbox"]) / sum(self.rates["bare"])
            print(f"sandbox / bare aiohttp+orjson: median ratio {ratio:.3f} over {len(self.ratios)} runs "
                  f"(min {min(self.ratios):.3f}, max {max(self.ratios):.3f}; pooled {pooled:.3f})")
            cpu = statistics.median(self.cpu_ratios)
            print(f"requests per CPU-second, sandbox / bare: median ratio {cpu:.3f} "
                  f"(min {min(self.cpu_ratios):.3f}, max {max(self.cpu_ratios):.3f})")
            if cpu < self.args.min_ratio:
                self.failed = True
        return 1 if self.failed else 0


if __name__ == "__main__":
    sys.exit(main())
