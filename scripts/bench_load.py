#!/usr/bin/env python3
"""Benchmarks of the load runner: what full checking costs the generator, and whether its latencies are true.

1. generator throughput: the harness's checked BulkIssueUser vs a plain FastHttpUser, both in Locust
   library mode pinned to core 1, against nginx answering a static 2-entry body pinned to core 0 (so the
   generator is the bottleneck). Sides alternate; target: median checked/plain >= 1.0 (issue 8: the checked
   generator must not fall behind plain Locust).
2. per-response cost: ResponseChecker.check (parsing included; target <= 15 us), Recorder.record,
   Recorder.take_delta + Aggregate.merge (per response, a delta holding one second of responses).
3. latency accuracy: run_load against the sandbox with a fixed injected latency (20 ms, 200 ms); the
   reported p50/p95 must lie within 5% + 1 ms of the truth, measured by wrk with as many connections
   against the same sandbox config, alternated with the harness (injected + the base service time of a
   1-user run without fault is shown beside it).
4. sandbox throughput: scripts/bench_sandbox.py --min-rps 8000 (wrk), run as is.

    .venv/bin/python scripts/bench_load.py            # 3 repetitions of everything, 10 s runs
    .venv/bin/python scripts/bench_load.py --quick    # 1 repetition, 5 s runs
    .venv/bin/python scripts/bench_load.py --only 1,2 # some of them

Exit status: 0 every target met, 1 a target missed, 2 nginx, taskset or wrk missing (or a setup failure).
All traffic goes to 127.0.0.1.
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
import timeit
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_sandbox import free_port, pinned, start_sandbox  # noqa: E402

from coupon_harness import ENDPOINT  # noqa: E402

SERVER_CORE, GENERATOR_CORE = "0", "1"
SERIES = (101, 102)
AUTHORIZATION = "Basic " + base64.b64encode(b"sandbox:sandbox").decode()
#: The static answer: a well-formed 2-entry bulk issue, validTill far in the future. Its codes never
#: change, so the checked side's ledger counts every response after the first as a duplicate (unique-codes):
#: that costs the same dictionary look-up as a fresh code, so the throughput figure holds.
STATIC_BODY: dict[str, Any] = {
    "response": [
        {"entityId": series, "result": {
            "code": f"BENCH{series}CODE", "seriesId": series, "description": "Bench coupon",
            "discountCode": "BENCH", "validTill": "2099-12-31T00:00:00Z", "discountType": "ABS",
            "discountValue": 500, "discountUpto": 0, "discountOn": "BILL", "detailedInfo": "static",
            "redemptionCount": 0, "id": index + 1}, "errors": [], "warnings": []}
        for index, series in enumerate(SERIES)
    ],
    "totalCount": 2, "failureCount": 0,
}

RATIO_TARGET = 1.0
CHECK_TARGET_US = 15.0
LATENCY_TOLERANCE, LATENCY_SLACK_MS = 0.05, 1.0
SANDBOX_TARGET_RPS = 8000

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 60s;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = {endpoint} {{
            default_type application/json;
            return 200 '{body}';
        }}
        location / {{ return 404; }}
    }}
}}
"""


# ---------------------------------------------------------------------------------------------- helpers


def nginx_conf(tmp: str, port: int, body: dict[str, Any]) -> str:
    """An nginx config that answers POST ENDPOINT with `body` (JSON, no single quote) on 127.0.0.1:port."""
    text = json.dumps(body, separators=(",", ":"))
    if "'" in text or "$" in text:
        raise ValueError("the static body must not hold ' or $ (nginx string syntax)")
    return NGINX_CONF.format(tmp=tmp, port=port, endpoint=ENDPOINT, body=text)


def median(values: list[float]) -> float:
    return statistics.median(values)


def within(measured: float, truth: float, tolerance: float = LATENCY_TOLERANCE,
           slack_ms: float = LATENCY_SLACK_MS) -> bool:
    """`measured` lies within tolerance * truth + slack of `truth`."""
    return abs(measured - truth) <= tolerance * truth + slack_ms


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def raw(values: list[float], fmt: str = "{:,.0f}") -> str:
    return "[" + ", ".join(fmt.format(v) for v in values) + "]"


def say(text: str = "") -> None:
    print(text, flush=True)


def wait_port(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds:g} s")


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    summary: str


# ------------------------------------------------------------------------------- 1. generator throughput


@contextmanager
def nginx(tmp: Path) -> Iterator[str]:
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(nginx_conf(str(tmp), port, STATIC_BODY))
    process = subprocess.Popen(pinned(SERVER_CORE, ["nginx", "-p", str(tmp), "-c", str(conf), "-e",
                                                    str(tmp / "error.log")]),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        try:
            wait_port(port)
        except RuntimeError as exc:
            error = (tmp / "error.log").read_text() if (tmp / "error.log").exists() else ""
            raise RuntimeError(f"nginx did not start: {exc}; {error.strip()}") from None
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def check_static_answer(base_url: str) -> None:
    """The static answer, fetched by POST, must pass the contract: a benchmark of wrong answers is worthless."""
    from coupon_harness.contract.expectations import Expectations
    from coupon_harness.runners.load.checker import ResponseChecker

    body = json.dumps({"seriesIds": list(SERIES), "customer": {"id": "bench-check"}}).encode()
    request = urllib.request.Request(base_url + ENDPOINT, data=body, method="POST",
                                     headers={"Authorization": AUTHORIZATION, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        status, media, payload = answer.status, answer.headers.get("Content-Type", ""), answer.read()
    checker = ResponseChecker(Expectations(valid_series=frozenset(SERIES)))
    outcome = checker.check(status, media, payload, list(SERIES), "bench-check", datetime.now(UTC))
    if not outcome.ok:
        raise RuntimeError(f"nginx's static answer fails the contract: {status} {outcome.violations}")


def run_generator(side: str, base_url: str, users: int, seconds: float, warmup: float,
                  profile: str | None = None) -> dict[str, Any]:
    command = [sys.executable, str(HERE / "bench_load_generator.py"), "--side", side, "--host", base_url,
               "--users", str(users), "--seconds", str(seconds), "--warmup", str(warmup)]
    if profile:
        command += ["--profile", profile]
    done = subprocess.run(pinned(GENERATOR_CORE, command), capture_output=True, text=True, check=False,
                          timeout=seconds + warmup + 60)
    match = re.search(r"^GENERATOR (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"generator {side} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    figures: dict[str, Any] = json.loads(match.group(1))
    return figures


def bench_generator(reps: int, users: int, seconds: float, warmup: float, profile_dir: Path | None) -> CheckOutcome:
    say(f"== 1. generator throughput: checked BulkIssueUser vs plain FastHttpUser ({users} users, "
        f"{seconds:g} s after {warmup:g} s warm-up, {reps} alternating repetitions; nginx on core "
        f"{SERVER_CORE}, generator on core {GENERATOR_CORE})")
    plain: list[float] = []
    checked: list[float] = []
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-load-nginx-") as tmp, nginx(Path(tmp)) as base_url:
        check_static_answer(base_url)
        say(f"nginx at {base_url}: the static 2-entry answer passes the contract")
        for rep in range(1, reps + 1):
            # Alternate which side goes first, so a drift of the machine does not favour one side.
            order = ("plain", "checked") if rep % 2 else ("checked", "plain")
            run: dict[str, dict[str, Any]] = {}
            for side in order:
                run[side] = figures = run_generator(side, base_url, users, seconds, warmup)
                extra = ""
                if side == "checked":
                    extra = (f"  checked {figures['checked_requests']:,} violations {figures['violations']} "
                             f"(unique-codes expected: static codes)")
                say(f"  rep {rep} {side:7}: {figures['rps']:8,.0f} req/s  generator CPU "
                    f"{figures['cpu_share']:.0%}  {figures['cpu_us_per_request']:.0f} us CPU/request  "
                    f"failures {figures['failures']:,} {figures['failure_kinds']}{extra}")
            plain.append(run["plain"]["rps"])
            checked.append(run["checked"]["rps"])
            ratios.append(run["checked"]["rps"] / run["plain"]["rps"])
            # Requests per generator CPU-second: what one core yields, whatever share the machine's other
            # processes left to the generator during this run.
            cpu_ratios.append(run["plain"]["cpu_us_per_request"] / run["checked"]["cpu_us_per_request"])
            say(f"  rep {rep} ratio checked/plain: req/s {ratios[-1]:.3f}, requests per CPU-second "
                f"{cpu_ratios[-1]:.3f}")
        ratio, cpu_ratio = median(ratios), median(cpu_ratios)
        passed = ratio >= RATIO_TARGET and cpu_ratio >= RATIO_TARGET
        say(f"  plain   req/s {raw(plain)} median {median(plain):,.0f}")
        say(f"  checked req/s {raw(checked)} median {median(checked):,.0f}")
        say(f"  ratio checked/plain req/s {raw(ratios, '{:.3f}')} median {ratio:.3f} "
            f"(ratio of medians {median(checked) / median(plain):.3f})")
        say(f"  ratio checked/plain requests per CPU-second {raw(cpu_ratios, '{:.3f}')} median {cpu_ratio:.3f}")
        say(f"  target >= {RATIO_TARGET} (both ratios): {verdict(passed)}")
        if profile_dir is not None:
            path = profile_dir / "checked.prof"
            run_generator("checked", base_url, users, seconds, warmup, profile=str(path))
            say(f"  cProfile of the checked side: {path}")
            print_profile(path)
    return CheckOutcome("1. generator throughput", passed, f"checked/plain median req/s {ratio:.3f}, per CPU-second "
                   f"{cpu_ratio:.3f} (target >= {RATIO_TARGET})")


def print_profile(path: Path, top: int = 25) -> None:
    import pstats

    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(top)


# ----------------------------------------------------------------------------------- 2. per-response cost


def per_call_us(function: Callable[[], object], number: int, reps: int) -> list[float]:
    """CPU microseconds per call (process time: the shared machine's other processes do not count)."""
    timer = timeit.Timer(function, timer=time.process_time)
    timer.timeit(min(number, 1000))  # warm
    return [t / number * 1e6 for t in timer.repeat(repeat=reps, number=number)]


def bench_per_response(reps: int, number: int) -> CheckOutcome:
    import orjson

    from coupon_harness.contract.expectations import Expectations
    from coupon_harness.contract.invariants import EntityTally
    from coupon_harness.runners.load.checker import CheckOutcome, ResponseChecker
    from coupon_harness.runners.load.recorder import Aggregate, Recorder

    say(f"== 2. per-response cost (2-entry body, {number:,} calls x {reps} repetitions, pinned to core "
        f"{GENERATOR_CORE})")
    body = json.dumps(STATIC_BODY).encode()
    checker = ResponseChecker(Expectations(valid_series=frozenset(SERIES)))
    batch = list(SERIES)
    issued_at = datetime.now(UTC)
    outcome = checker.check(200, "application/json", body, batch, "cust-1", issued_at)
    if not outcome.ok or outcome.tally is None or len(outcome.tally.coupons) != 2:
        raise RuntimeError(f"the checker rejects the static body: {outcome.violations}")
    parse = per_call_us(lambda: orjson.loads(body), number, reps)
    check = per_call_us(lambda: checker.check(200, "application/json", body, batch, "cust-1", issued_at),
                        number, reps)
    recorder = Recorder(1.0)
    at = time.time()
    record = per_call_us(lambda: recorder.record(outcome, 0.0123, "cust-1", at), number, reps)

    # take_delta + merge, per response: deltas of one second of responses (per_delta), each coupon fresh,
    # so the ledger grows as in a real run.
    per_delta = 5000
    counter = iter(range(10**9))
    merge: list[float] = []
    for _ in range(reps):
        aggregate = Aggregate(1.0, frozenset(), None)
        spent = 0.0
        rounds = max(1, number // per_delta)
        for _ in range(rounds):
            rec = Recorder(1.0)
            for _ in range(per_delta):
                n = next(counter)
                tally = EntityTally(frozenset(), entities=2, other_entities=2,
                                    coupons=[(101, f"A{n}"), (102, f"B{n}")])
                fresh = CheckOutcome("200", entities=2, tally=tally)
                rec.record(fresh, 0.001 + (n % 1000) / 1e5, f"cust-{n}", at)
            started = time.process_time()
            aggregate.merge(rec.take_delta())
            spent += time.process_time() - started
        if aggregate.duplicates:
            raise RuntimeError("fresh codes were counted as duplicates")
        merge.append(spent / (rounds * per_delta) * 1e6)
    total = [c + r + m for c, r, m in zip(check, record, merge, strict=True)]
    passed = median(check) <= CHECK_TARGET_US
    say(f"  orjson.loads only           us {raw(parse, '{:.2f}')} median {median(parse):.2f}")
    say(f"  ResponseChecker.check       us {raw(check, '{:.2f}')} median {median(check):.2f} "
        f"(parsing included); target <= {CHECK_TARGET_US:g} us: {verdict(passed)}")
    say(f"  Recorder.record             us {raw(record, '{:.2f}')} median {median(record):.2f}")
    say(f"  take_delta + Aggregate.merge us {raw(merge, '{:.2f}')} median {median(merge):.2f} "
        f"(per response, {per_delta:,}-response deltas, fresh codes)")
    say(f"  check + record + merge      us {raw(total, '{:.2f}')} median {median(total):.2f}")
    return CheckOutcome("2. per-response cost", passed,
                   f"check+parse median {median(check):.2f} us (target <= {CHECK_TARGET_US:g}); "
                   f"record {median(record):.2f} us, merge {median(merge):.2f} us")


# ---------------------------------------------------------------------------------- 3. latency accuracy


#: wrk's Lua for the reference latencies: the harness's kind of request (2 series, a fresh customer each),
#: one JSON line with wrk's exact (microsecond) percentiles.
WRK_LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "%(authorization)s"
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"seriesIds":%(series)s,"customer":{"id":"wrk-%(tag)s-' .. counter .. '"}}')
end
done = function(summary, latency, requests)
  io.write(string.format('WRK {"requests":%%d,"non2xx":%%d,"errors":%%d,"p50_us":%%d,"p95_us":%%d}\n',
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95)))
end
"""


def sandbox_config(tmp: Path, latency_ms: float) -> str | None:
    if not latency_ms:
        return None
    path = tmp / f"sandbox-{latency_ms:g}ms.yaml"
    path.write_text(f"faults: {{latency_ms: {latency_ms:g}}}\n")
    return str(path)


@contextmanager
def sandbox(tmp: Path, latency_ms: float) -> Iterator[str]:
    port = free_port()
    process = start_sandbox(port, SERVER_CORE, sandbox_config(tmp, latency_ms), no_uvloop=False)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def harness_percentiles(tmp: Path, latency_ms: float, users: int, seconds: float) -> dict[str, Any]:
    """p50/p95 as run_load reports them (HDR histogram of unrounded times), and Locust's rounded ones."""
    from coupon_harness.runners.load.runner import run_load
    from coupon_harness.runners.load.settings import LoadSettings
    from coupon_harness.transport.auth import Credentials

    with sandbox(tmp, latency_ms) as base_url:
        settings = LoadSettings(base_url=base_url, series_ids=SERIES, batch_min=2, batch_max=2,
                                credentials=Credentials(user="sandbox", password="sandbox"), users=users,
                                spawn_rate=max(users, 1) * 10.0,
                                run_time_s=seconds)
        out = tmp / f"out-{latency_ms:g}-{users}-{time.monotonic_ns()}"
        result = run_load(settings, out)
    total = json.loads((out / "locust_stats.json").read_text())["entries"][-1]
    return {"p50": result.latency_ms.get("p50", float("nan")), "p95": result.latency_ms.get("p95", float("nan")),
            "requests": result.requests, "error_rate": result.error_rate, "cpu_max": result.generator_cpu_max,
            "saturated": result.generator_saturated, "locust_p50": total["median_ms"], "locust_p95": total["p95_ms"]}


def wrk_percentiles(tmp: Path, latency_ms: float, connections: int, seconds: float) -> dict[str, Any]:
    """The reference: wrk (C, one thread, microsecond latencies) with as many connections as users."""
    lua = tmp / f"latency-{time.monotonic_ns()}.lua"
    lua.write_text(WRK_LUA % {"authorization": AUTHORIZATION, "series": json.dumps(list(SERIES)).replace(" ", ""),
                              "tag": f"{os.getpid()}-{time.monotonic_ns()}"})
    with sandbox(tmp, latency_ms) as base_url:
        command = pinned(GENERATOR_CORE, ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s",
                                          "-s", str(lua), base_url + ENDPOINT])
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    match = re.search(r"^WRK (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    figures = json.loads(match.group(1))
    return {"p50": figures["p50_us"] / 1000, "p95": figures["p95_us"] / 1000, "requests": figures["requests"],
            "bad": figures["non2xx"] + figures["errors"]}


def bench_latency(reps: int, users: int, seconds: float) -> CheckOutcome:
    say(f"== 3. latency accuracy: run_load against the sandbox with a fixed injected latency ({users} users, "
        f"{seconds:g} s, {reps} repetitions; sandbox on core {SERVER_CORE}, generator on core {GENERATOR_CORE})")
    say("  truth: wrk (C) with as many connections as users against the same sandbox config, alternated with "
        "the harness; also shown: injected + the base service time of a 1-user run without fault")
    passed = True
    summaries: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-load-latency-") as folder:
        tmp = Path(folder)
        base = [harness_percentiles(tmp, 0, 1, seconds) for _ in range(reps)]
        base_p50 = median([b["p50"] for b in base])
        base_p95 = median([b["p95"] for b in base])
        say(f"  base service time (1 user, no fault): p50 {raw([b['p50'] for b in base], '{:.3f}')} ms, "
            f"p95 {raw([b['p95'] for b in base], '{:.3f}')} ms; medians {base_p50:.3f} / {base_p95:.3f} ms")
        for injected in (20.0, 200.0):
            runs: list[dict[str, Any]] = []
            refs: list[dict[str, Any]] = []
            for rep in range(reps):
                if rep % 2:
                    runs.append(harness_percentiles(tmp, injected, users, seconds))
                    refs.append(wrk_percentiles(tmp, injected, users, seconds))
                else:
                    refs.append(wrk_percentiles(tmp, injected, users, seconds))
                    runs.append(harness_percentiles(tmp, injected, users, seconds))
            for run, ref in zip(runs, refs, strict=True):
                if run["error_rate"] or run["saturated"] or not run["requests"] or ref["bad"]:
                    passed = False
                    say(f"  {injected:g} ms: a run is unusable: harness {run}, wrk {ref}")
            for key, base_value in (("p50", base_p50), ("p95", base_p95)):
                values = [r[key] for r in runs]
                truths = [r[key] for r in refs]
                measured, truth = median(values), median(truths)
                naive = injected + base_value
                ok = within(measured, truth)
                passed = passed and ok
                locust = [r[f"locust_{key}"] for r in runs]
                say(f"  {injected:5g} ms {key}: harness {raw(values, '{:.3f}')} median {measured:.3f} ms; wrk "
                    f"{raw(truths, '{:.3f}')} median {truth:.3f} ms; error {measured - truth:+.3f} ms (allowed +-"
                    f"{LATENCY_TOLERANCE * truth + LATENCY_SLACK_MS:.2f}): {verdict(ok)}")
                say(f"  {'':10}{key}: vs injected + 1-user base {naive:.3f} ms: error {measured - naive:+.3f} ms "
                    f"({verdict(within(measured, naive))}); Locust's rounded {key}: {raw(locust, '{:g}')}")
                summaries.append(f"{injected:g}ms {key} {measured:.2f} vs wrk {truth:.2f} {verdict(ok)}")
            say(f"  {injected:5g} ms requests harness {[r['requests'] for r in runs]} wrk "
                f"{[r['requests'] for r in refs]}; generator CPU max {[round(r['cpu_max']) for r in runs]}%")
    return CheckOutcome("3. latency accuracy", passed, "; ".join(summaries))


# -------------------------------------------------------------------------------- 4. sandbox throughput


def bench_sandbox(reps: int, duration: str) -> CheckOutcome:
    command = [sys.executable, str(HERE / "bench_sandbox.py"), "--runs", str(reps), "--duration", duration,
               "--min-rps", str(SANDBOX_TARGET_RPS)]
    say(f"== 4. sandbox throughput: {' '.join(command[1:])}")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in (done.stdout + done.stderr).splitlines():
        say(f"  {line}")
    rates = [float(m.replace(",", "")) for m in re.findall(r"^run \d+: ([\d,]+) req/s", done.stdout, re.MULTILINE)]
    passed = done.returncode == 0
    say(f"  target >= {SANDBOX_TARGET_RPS:,} req/s every run: {verdict(passed)} (exit {done.returncode})")
    figure = f"median {median(rates):,.0f} req/s {raw(rates)}" if rates else "no figure"
    return CheckOutcome("4. sandbox throughput", passed, f"{figure} (target >= {SANDBOX_TARGET_RPS:,} every run)")


# ------------------------------------------------------------------------------------------------- main


def missing_tools() -> str | None:
    for tool, package in (("nginx", "nginx"), ("taskset", "util-linux"), ("wrk", "wrk")):
        if shutil.which(tool) is None:
            return f"bench: {tool} is not installed; install it with: apt-get update && apt-get install -y {package}"
    if (os.cpu_count() or 1) < 2:
        return "bench: needs 2 cores (target and generator each pinned to one)"
    return None


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"nproc {os.cpu_count()}, {model}, Python {sys.version.split()[0]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmarks of the load runner (see the module docstring).")
    parser.add_argument("--quick", action="store_true", help="1 repetition and 5 s runs instead of 3 and 10 s")
    parser.add_argument("--only", default="1,2,3,4", help="benchmarks to run, e.g. 1,3 (default all)")
    parser.add_argument("--users", type=int, default=32, help="users of benchmark 1 (default 32)")
    parser.add_argument("--profile", type=Path, help="benchmark 1: also cProfile the checked side into this folder")
    args = parser.parse_args(argv)
    problem = missing_tools()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    reps = 1 if args.quick else 3
    seconds = 5.0 if args.quick else 10.0
    chosen = {part.strip() for part in args.only.split(",")}
    os.sched_setaffinity(0, {int(GENERATOR_CORE)})  # the micro-benchmarks and run_load's children
    say(f"bench_load {datetime.now(UTC).isoformat(timespec='seconds')}  {machine()}")
    outcomes: list[CheckOutcome] = []
    try:
        if "1" in chosen:
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
            outcomes.append(bench_generator(reps, args.users, seconds, 2.0, args.profile))
        if "2" in chosen:
            outcomes.append(bench_per_response(reps, 20_000 if args.quick else 100_000))
        if "3" in chosen:
            outcomes.append(bench_latency(reps, 10, seconds))
        if "4" in chosen:
            outcomes.append(bench_sandbox(reps, f"{seconds:g}s"))
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    say("== summary")
    for outcome in outcomes:
        say(f"  {verdict(outcome.passed)}  {outcome.name}: {outcome.summary}")
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
