"""Big answers: peak memory of the property passes against a target that answers N MB to every request.

Starts two targets on 127.0.0.1: one answering every request (any method, any path) with `--mb` MB of
JSON-looking bytes (Content-Length set, streamed from a generator, so the target holds one 64 KiB chunk),
and the plain sandbox. Against each, a child process runs the two property passes (`property-positive`,
`property-negative`) with the default body cap (`ContractSettings.max_body_bytes`, 8 MiB) and reports
what it sent and found; the parent prints each child's peak RSS (`ru_maxrss` of that child's rusage, from
`os.wait4`: `getrusage(RUSAGE_CHILDREN)` keeps the largest of all children waited for, so it could not tell
the two runs apart) side by side, with their ratio.

Every big answer is a transport failure, so the child lifts `max_transport_failures` (the run would stop
after 4 in a row) and both targets get the whole example budget.

    .venv/bin/python scripts/bench_big_answers.py                 # 400 MB answers, 100 examples per phase
    .venv/bin/python scripts/bench_big_answers.py --mb 50 --max-examples 10
    .venv/bin/python scripts/bench_big_answers.py --pythonpath /tmp/old/src   # another tree's coupon_harness
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PASSES = ("property-positive", "property-negative")
CHUNK = 65536


def _answer_chunks(size: int) -> Iterator[bytes]:
    """`size` bytes that start like a bulk-issue answer, one reused chunk at a time."""
    chunk = b'{"response": [' + b" " * (CHUNK - 14)
    sent = 0
    while sent < size:
        part = chunk if size - sent >= CHUNK else chunk[: size - sent]
        yield part
        sent += len(part)


class _BigAnswers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    size = 0

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        # Every method gets the big answer, QUERY and TRACE included (http.server would answer them 501).
        if name.startswith("do_"):
            return self._answer
        raise AttributeError(name)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(self.size))
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            for part in _answer_chunks(self.size):
                self.wfile.write(part)
        except (BrokenPipeError, ConnectionResetError):  # the client read what it wanted and left
            self.close_connection = True


def _serve_big(size: int) -> tuple[ThreadingHTTPServer, str]:
    handler = type("BigAnswers", (_BigAnswers,), {"size": size})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="big-answers", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _child(base_url: str, max_examples: int, seed: int) -> int:
    """Run the property passes against `base_url` as the CLI would against a sandbox-like target; print JSON."""
    from coupon_harness.cli.sandbox_target import sandbox_settings
    from coupon_harness.contract.catalog import RuleId
    from coupon_harness.runners.contract import ContractSettings, run_contract
    from coupon_harness.sandbox.config import default_config
    from coupon_harness.sandbox.info import sandbox_info

    settings = sandbox_settings(ContractSettings(base_url=base_url, seed=seed, max_examples=max_examples),
                                sandbox_info(default_config()))
    settings = replace(settings, passes=PASSES, max_transport_failures=1_000_000)
    started = time.perf_counter()
    result = run_contract(settings)
    elapsed = time.perf_counter() - started
    findings = [f for r in result.rules for f in r.findings]
    print(json.dumps({
        "requests": result.requests,
        "seconds": round(elapsed, 2),
        "max_body_bytes": settings.max_body_bytes,
        "failed": sorted({r.rule.id for r in result.failed}),
        "too_large": sum(f.occurrences for f in findings if f.rule_id == RuleId.TRANSPORT and f.key == "too-large"),
        "faults": len(result.faults),
    }))
    return 0


def _measure(base_url: str, args: argparse.Namespace) -> tuple[dict[str, Any], float]:
    """One child run: what it printed, and its peak RSS in MB."""
    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.pythonpath, env.get("PYTHONPATH")]))
    command = [sys.executable, str(Path(__file__).resolve()), "--child", base_url,
               "--max-examples", str(args.max_examples), "--seed", str(args.seed)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, env=env) as child:
        assert child.stdout is not None
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"child against {base_url} exited {child.returncode}")
    lines = out.decode().strip().splitlines()
    return json.loads(lines[-1]), usage.ru_maxrss / 1024  # Linux: kilobytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mb", type=float, default=400.0, help="size of every big answer in MB (default 400)")
    parser.add_argument("--max-examples", type=int, default=100, help="examples per phase (default 100)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pythonpath", default="", help="import coupon_harness from here in the children")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child, args.max_examples, args.seed)

    from coupon_harness.sandbox.server import running_sandbox

    size = int(args.mb * 1_000_000)
    rows: list[tuple[str, dict[str, Any], float]] = []
    with running_sandbox(None) as sandbox:
        report, rss = _measure(sandbox.base_url, args)
        rows.append(("plain sandbox", report, rss))
    server, url = _serve_big(size)
    try:
        report, rss = _measure(url, args)
        rows.append((f"{args.mb:g} MB answers", report, rss))
    finally:
        server.shutdown()
        server.server_close()

    cap = rows[0][1]["max_body_bytes"]
    print(f"property passes {', '.join(PASSES)}; --max-examples {args.max_examples}, seed {args.seed}, "
          f"body cap {cap} bytes ({cap / 2**20:g} MiB)")
    print(f"{'target':<18} {'requests':>8} {'time':>8} {'too-large':>9} {'peak RSS':>10}  failed rules")
    for name, report, rss in rows:
        print(f"{name:<18} {report['requests']:>8} {report['seconds']:>7.1f}s {report['too_large']:>9} "
              f"{rss:>7.1f} MB  {', '.join(report['failed']) or '-'}")
    print(f"peak RSS ratio (big / sandbox): {rows[1][2] / rows[0][2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
