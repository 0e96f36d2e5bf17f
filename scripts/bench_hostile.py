#!/usr/bin/env python3
"""Every command against every hostile target: does it finish within its deadline plus 5 s, never exit 0, and keep
the load process small? (issue 15: "one way out", "no verdict without evidence").

Targets (tests/targets/hostile.py, served on 127.0.0.1): an answer that never ends (chunked), a body dripped one byte
a second, the status line and headers dripped one byte a second, a gzip bomb (0.5 MB that decodes to 512 MiB). Each
answers its first --good-first bulk issues well (so that a preflight passes), then turns hostile.
Commands, each through the CLI with --request-timeout D: load, capacity, contract, run, diff.

The bound each command must finish within ("the deadline plus 5 s", wherever its own work ends):
- load:     run time + D + 5 s (the users finish the request in flight by its deadline);
- capacity: per step, warm-up + step time + D + 5 s;
- contract: requests sent x D + 5 s (requests go one after another, each ends by its deadline);
- diff:     cases x 2 x D + 5 s (each case goes to both targets);
- run:      the contract's bound plus the load's.
Peak RSS is the high-water mark (VmHWM) of every load process the command starts (the issue: under 300 MB).

    .venv/bin/python scripts/bench_hostile.py                       # every command x every target, D = 3 s
    .venv/bin/python scripts/bench_hostile.py --commands load,diff --targets drip-headers --deadline 2

Exit status: 0 when every row finished within its bound, exited non-zero and stayed under the RSS bound; 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from targets.hostile import HOSTILE_KINDS, Hostile, serving  # noqa: E402
from targets.peak_rss import LoadProcessPeak  # noqa: E402

EXE = str(Path(sys.executable).with_name("coupon-harness"))
COMMANDS = ("load", "capacity", "contract", "run", "diff")
PEAK_MB = 300.0
SLACK_S = 5.0


@dataclass(frozen=True, slots=True)
class Row:
    command: str
    target: str
    exit_code: int
    wall_s: float
    bound_s: float
    peak_mb: float
    load_processes: int

    @property
    def ok(self) -> bool:
        return self.exit_code != 0 and self.wall_s <= self.bound_s and self.peak_mb < PEAK_MB


def _read(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except (OSError, ValueError):
        return {}


def _bound(command: str, report: Path, args: argparse.Namespace) -> float:
    deadline = args.deadline
    load_bound = args.run_time + deadline + SLACK_S
    if command == "load":
        return load_bound
    if command == "capacity":
        steps = len(_read(report / "summary.json").get("steps", [])) or 1
        return steps * (args.warmup + args.step_time + deadline + SLACK_S)
    if command == "contract":
        return _read(report / "summary.json").get("requests", 0) * deadline + SLACK_S
    if command == "diff":
        return _read(report / "summary.json").get("cases", 0) * 2 * deadline + SLACK_S
    contract = _read(report / "contract" / "summary.json").get("requests", 0) * deadline + SLACK_S
    return contract + (load_bound if (report / "load" / "summary.json").is_file() else 0.0)


def _command(command: str, url: str, report: Path, args: argparse.Namespace) -> list[str]:
    common = ["--base-url", url, "--series-ids", "101,102", "--user", "someone:pw", "--request-timeout",
              f"{args.deadline:g}", "--no-color", "--overwrite", "--report-dir", str(report)]
    if command == "load":
        return ["load", *common, "--run-time", f"{args.run_time:g}s", "--users", str(args.users), "--slo", "p95=5s"]
    if command == "capacity":
        return ["capacity", *common, "--slo", "p95=5s", "--slo", "error-rate=0.01", "--start-rate", "5",
                "--step-time", f"{args.step_time:g}s", "--warmup", f"{args.warmup:g}s", "--max-steps", "3"]
    if command == "contract":
        return ["contract", *common, "--max-examples", "5"]
    if command == "run":
        return ["run", *common, "--max-examples", "5", "--load-run-time", f"{args.run_time:g}s",
                "--load-users", str(args.users)]
    # The same target under another name: two origins, as diff needs.
    return ["diff", *common, "--against-url", url.replace("127.0.0.1", "localhost"), "--against-user", "someone:pw",
            "--max-examples", "5"]


def measure(command: str, kind: str, args: argparse.Namespace, folder: Path) -> Row:
    report = folder / f"{command}-{kind}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}
    with serving(Hostile(kind, good_first=args.good_first, interval=args.interval)) as url:
        started = time.monotonic()
        with LoadProcessPeak() as peak:
            done = subprocess.run([EXE, *_command(command, url, report, args)], capture_output=True, text=True,
                                  timeout=args.give_up, check=False, cwd=folder, env=env)
        wall = time.monotonic() - started
    return Row(command, kind, done.returncode, wall, _bound(command, report, args), peak.mb, peak.seen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument("--targets", default=",".join(HOSTILE_KINDS))
    parser.add_argument("--deadline", type=float, default=3.0, help="--request-timeout, seconds (default 3)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between dripped bytes (default 1)")
    parser.add_argument("--good-first", type=int, default=5, help="good answers before the hostile ones")
    parser.add_argument("--run-time", type=float, default=5.0, help="load and run's load stage, seconds")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--step-time", type=float, default=2.0, help="capacity step, seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="capacity warm-up, seconds")
    parser.add_argument("--give-up", type=float, default=600.0, help="kill a command after this many seconds")
    args = parser.parse_args(argv)
    commands = [c for c in args.commands.split(",") if c]
    kinds = [k for k in args.targets.split(",") if k]
    unknown = sorted(set(commands) - set(COMMANDS)) + sorted(set(kinds) - set(HOSTILE_KINDS))
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")
    print(f"deadline (--request-timeout) {args.deadline:g} s, a dripped byte every {args.interval:g} s, "
          f"{args.good_first} good answers first; bound: see the docstring", flush=True)
    print(f"{'command':<9} {'target':<13} {'exit':>4} {'wall s':>7} {'bound s':>7} {'peak RSS MB':>11} "
          f"{'load procs':>10}  ok", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as folder:
        for command in commands:
            for kind in kinds:
                try:
                    row = measure(command, kind, args, Path(folder))
                except subprocess.TimeoutExpired:
                    row = Row(command, kind, -1, args.give_up, 0.0, 0.0, 0)
                rows.append(row)
                print(f"{row.command:<9} {row.target:<13} {row.exit_code:>4} {row.wall_s:>7.1f} {row.bound_s:>7.1f} "
                      f"{row.peak_mb:>11.0f} {row.load_processes:>10}  {'yes' if row.ok else 'NO'}", flush=True)
    failed = [row for row in rows if not row.ok]
    print(f"{len(rows) - len(failed)} of {len(rows)} rows within their bound, never exit 0, load process under "
          f"{PEAK_MB:g} MB")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
