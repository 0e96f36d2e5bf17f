#!/usr/bin/env python3
"""Seed sweep: one sandbox, many `coupon-harness contract` runs with different seeds, a tally of how each ended.

A correct target (the sandbox) must pass under every seed: a run that exits anything but 0, prints a
traceback or reports a harness error is a bug in the harness (or in the sandbox), and its seed replays it.

    .venv/bin/python scripts/seed_sweep.py                    # 500 random seeds, 2 at a time
    .venv/bin/python scripts/seed_sweep.py --seeds 40 --start 1000 --jobs 2
    .venv/bin/python scripts/seed_sweep.py --seeds 100 --sweep-seed 7    # the same 100 random seeds again

Each run is `python -m coupon_harness.cli.main contract --base-url <sandbox> --seed N --report-dir <root>/N`
with the default budget, in a subprocess, with no COUPON_HARNESS_* variable of the caller's environment
(the sandbox's credentials come from the sandbox). No credential is passed or printed.

Exit status: 0 every run exited 0 with no traceback and no harness error; 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SeedRun", "choose_seeds", "main", "run_seed", "sandbox_url", "sweep", "tally"]

TRACEBACK = "Traceback (most recent call last)"
#: What a run prints or leaves when the harness caught its own bug (the CLI guard, a faulty pass).
HARNESS_ERROR = "harness error"
SEED_SPACE = 2**31  # the seeds the CLI draws when none is given
DEFAULT_TIMEOUT_S = 600.0
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")


@dataclass(frozen=True, slots=True)
class SeedRun:
    seed: int
    #: The exit code; None when the run did not end within the timeout (it was killed).
    code: int | None
    seconds: float
    stdout: str
    stderr: str
    #: Files the run left in its report dir.
    reports: tuple[str, ...] = ()
    summary: dict[str, object] | None = None

    @property
    def traceback(self) -> bool:
        return TRACEBACK in self.stdout or TRACEBACK in self.stderr

    @property
    def harness_error(self) -> bool:
        """The harness reported a bug of its own (a one-line error or a harness-error file), whatever the code."""
        faults = self.summary.get("faults") if self.summary else None
        return (HARNESS_ERROR in self.stderr or any(name.startswith("harness-error") for name in self.reports)
                or bool(faults))

    @property
    def ok(self) -> bool:
        return self.code == 0 and not self.traceback and not self.harness_error

    def first_error_line(self) -> str:
        """The line that says what went wrong, credentials' userinfo removed."""
        return _USERINFO.sub(r"\1<redacted>@", self._first_error_line())[:300]

    def _first_error_line(self) -> str:
        if self.code is None:
            return f"no exit after {self.seconds:.0f} s (killed)"
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        if self.traceback:  # the exception line ends the traceback block
            text = self.stderr if TRACEBACK in self.stderr else self.stdout
            block = text.split(TRACEBACK, 1)[1].splitlines()[1:]  # after "...call last):"
            exception = [line for line in block if line.strip() and not line.startswith((" ", "\t"))]
            if exception:
                return exception[0].strip()
        for line in lines:
            if HARNESS_ERROR in line or "error" in line.lower():
                return line
        if self.code == 1 and self.summary is not None:
            rules = self.summary.get("rules")
            failed = [str(rule.get("id")) for rule in rules if isinstance(rule, dict)
                      and rule.get("outcome") == "failed"] if isinstance(rules, list) else []
            return "violations: " + (", ".join(failed) or "see the report")
        return lines[-1] if lines else "(no output on stderr)"

    def stderr_tail(self, lines: int = 15) -> str:
        return "\n".join(self.stderr.rstrip().splitlines()[-lines:])


def choose_seeds(count: int, *, start: int | None = None, sweep_seed: int | None = None) -> list[int]:
    """`count` distinct seeds: start, start+1, ... or drawn from the seed space by a Random(sweep_seed)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    if start is not None:
        return list(range(start, start + count))
    return random.Random(sweep_seed).sample(range(SEED_SPACE), count)


def _child_env() -> dict[str, str]:
    """The caller's environment without the harness's own variables (a staging target, its credentials)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("COUPON_HARNESS_")}


def run_seed(base_url: str, seed: int, report_root: Path, *, timeout: float = DEFAULT_TIMEOUT_S,
             extra_args: Sequence[str] = ()) -> SeedRun:
    """One `coupon-harness contract` run in a subprocess, as a user would start it."""
    report_dir = report_root / str(seed)
    command = [sys.executable, "-m", "coupon_harness.cli.main", "contract", "--base-url", base_url,
               "--seed", str(seed), "--report-dir", str(report_dir), "--no-color", *extra_args]
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=timeout,
                              check=False, env=_child_env(), cwd=report_root, stdin=subprocess.DEVNULL)
        code: int | None = done.returncode
        stdout, stderr = done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:  # subprocess.run has killed it
        code = None
        stdout = _text(exc.stdout)
        stderr = _text(exc.stderr)
    seconds = time.monotonic() - started
    reports = tuple(sorted(p.name for p in report_dir.iterdir())) if report_dir.is_dir() else ()
    summary = None
    if "summary.json" in reports:
        try:
            loaded = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
            summary = loaded if isinstance(loaded, dict) else None
        except (OSError, ValueError):
            summary = None
    return SeedRun(seed, code, seconds, stdout, stderr, reports, summary)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


@contextmanager
def sandbox_url() -> Iterator[str]:
    """One sandbox for the whole sweep, served from a thread of this process on a free loopback port."""
    from coupon_harness.sandbox.server import running_sandbox

    with running_sandbox() as sandbox:
        yield sandbox.base_url


def sweep(seeds: Sequence[int], *, jobs: int = 2, base_url: str, report_root: Path,
          timeout: float = DEFAULT_TIMEOUT_S, on_done: Callable[[SeedRun, int], None] | None = None,
          extra_args: Sequence[str] = ()) -> list[SeedRun]:
    """Every seed against base_url, `jobs` at a time; the runs in the order of `seeds`."""
    if len(set(seeds)) != len(seeds):
        raise ValueError("seeds must be distinct (each run writes to <report_root>/<seed>)")
    report_root.mkdir(parents=True, exist_ok=True)
    runs: dict[int, SeedRun] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_seed, base_url, seed, report_root, timeout=timeout, extra_args=extra_args)
                   for seed in seeds]
        for future in as_completed(futures):
            run = future.result()
            runs[run.seed] = run
            if on_done is not None:
                on_done(run, len(runs))
    return [runs[seed] for seed in seeds]


def tally(runs: Sequence[SeedRun], wall_s: float) -> str:
    codes = Counter(run.code for run in runs)
    known = (0, 1, 2, 130)
    other = sum(n for code, n in codes.items() if code not in known)
    seconds = [run.seconds for run in runs]
    lines = [
        f"{len(runs)} runs: " + ", ".join(f"exit {code}: {codes.get(code, 0)}" for code in known)
        + f", other: {other}; tracebacks: {sum(run.traceback for run in runs)}; "
        f"harness errors: {sum(run.harness_error for run in runs)}",
        f"time: {wall_s:.1f} s wall, {sum(seconds):.1f} s of runs; per run mean {statistics.fmean(seconds):.2f} s, "
        f"min {min(seconds):.2f} s, max {max(seconds):.2f} s",
    ]
    bad = [run for run in runs if not run.ok]
    if bad:
        lines.append(f"{len(bad)} runs did not pass (replay: coupon-harness contract --base-url URL --seed N):")
        for run in bad:
            code = "no exit (killed)" if run.code is None else f"exit {run.code}"
            marks = "".join([", traceback" if run.traceback else "", ", harness error" if run.harness_error else ""])
            lines.append(f"  seed {run.seed}: {code}{marks}: {run.first_error_line()}")
    else:
        lines.append("every run exited 0 with no traceback and no harness error")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, default=500, metavar="N", help="how many runs (default 500)")
    parser.add_argument("--start", type=int, metavar="S", help="seeds S, S+1, ... (default: random seeds)")
    parser.add_argument("--sweep-seed", type=int, metavar="X", help="draw the random seeds from Random(X) "
                        "(default: a fresh X, printed, so the sweep can be replayed)")
    parser.add_argument("--jobs", type=int, default=2, metavar="J", help="runs at a time (default 2)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                        help=f"seconds before a run is killed (default {DEFAULT_TIMEOUT_S:.0f})")
    parser.add_argument("--report-root", type=Path, metavar="DIR", help="keep every run's reports in DIR/<seed> "
                        "(default: a temp dir, removed unless a run did not pass)")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1:
        parser.error("--seeds and --jobs must be at least 1")
    if args.start is not None and args.sweep_seed is not None:
        parser.error("give --start or --sweep-seed, not both")
    sweep_seed = args.sweep_seed
    if args.start is None and sweep_seed is None:
        sweep_seed = random.SystemRandom().randrange(SEED_SPACE)
    seeds = choose_seeds(args.seeds, start=args.start, sweep_seed=sweep_seed)
    origin = f"seeds {args.start}..{args.start + args.seeds - 1}" if args.start is not None else \
        f"random seeds from --sweep-seed {sweep_seed}"
    root = args.report_root or Path(tempfile.mkdtemp(prefix="coupon-harness-sweep-"))

    def progress(run: SeedRun, finished: int) -> None:
        state = "ok" if run.ok else f"NOT OK ({run.first_error_line()})"
        code = "killed" if run.code is None else f"exit {run.code}"
        print(f"[{finished}/{len(seeds)}] seed {run.seed}: {code} in {run.seconds:.1f} s, {state}", file=sys.stderr,
              flush=True)

    started = time.monotonic()
    try:
        with sandbox_url() as base_url:
            print(f"seed sweep: {len(seeds)} contract runs ({origin}), {args.jobs} at a time, against a sandbox "
                  f"at {base_url}; reports in {root}", file=sys.stderr, flush=True)
            runs = sweep(seeds, jobs=args.jobs, base_url=base_url, report_root=root, timeout=args.timeout,
                         on_done=progress)
    except KeyboardInterrupt:
        print(f"interrupted; reports so far in {root}", file=sys.stderr)
        return 130
    print(tally(runs, time.monotonic() - started))
    passed = all(run.ok for run in runs)
    if args.report_root is None:
        if passed:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"reports of every run kept in {root}")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
