#!/usr/bin/env python3
"""--workers against a slow correct target: a default contract run with --workers 1 and with 8, side by side.

    .venv/bin/python scripts/bench_workers.py                          # 150 ms target, --workers 1 vs 8
    .venv/bin/python scripts/bench_workers.py --workers 1 4 8 16 --latency-ms 150 --max-examples 100

One sandbox in a thread of this process answering every bulk issue after `--latency-ms` (the sandbox's
`faults.latency_ms`, as a staging cluster across a network answers), then one in-process contract run per N with the
default passes and budget, one seed. Prints, per N: the requests, the run's time, the most requests open at once,
each pass's seconds; then each N's time against the first N's, and whether the findings (rule, kind, fingerprint)
are the same for every N. The target (issue 19): the last N takes at most a fifth of the first one's time. Exit 1
when it does not, or when the findings differ.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace

from coupon_harness.cli.sandbox_target import sandbox_settings
from coupon_harness.results.contract import ContractRunResult
from coupon_harness.runners.contract import ContractSettings, run_contract
from coupon_harness.sandbox.config import Faults, default_config
from coupon_harness.sandbox.info import sandbox_info
from coupon_harness.sandbox.server import running_sandbox

#: The last N's run takes at most this share of the first N's.
TARGET_RATIO = 0.2


def findings(result: ContractRunResult) -> set[tuple[str, str, str]]:
    return {(f.rule_id, f.key, f.fingerprint) for r in result.rules for f in r.findings}


def pass_seconds(result: ContractRunResult) -> str:
    return ", ".join(f"{name} {ended - began:.1f}" for name, began, ended in result.pass_spans)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8], metavar="N")
    parser.add_argument("--latency-ms", type=float, default=150.0, metavar="MS")
    parser.add_argument("--max-examples", type=int, default=100, metavar="N")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    config = replace(default_config(), faults=Faults(latency_ms=args.latency_ms))
    times: dict[int, float] = {}
    found: dict[int, set[tuple[str, str, str]]] = {}
    with running_sandbox(config) as sandbox:
        base = sandbox_settings(ContractSettings(base_url=sandbox.base_url, seed=args.seed,
                                                 max_examples=args.max_examples, request_timeout=30.0),
                                sandbox_info(sandbox.config))
        for workers in args.workers:
            started = time.perf_counter()
            result = run_contract(replace(base, workers=workers))
            took = times[workers] = time.perf_counter() - started
            found[workers] = findings(result)
            peak = next((note for note in result.notes if note.startswith("--workers")), "one at a time")
            print(f"--workers {workers}: {result.requests} requests in {took:.1f} s "
                  f"({result.requests / took:.1f} req/s), {'holds' if result.holds else 'FAILS'}; {peak}", flush=True)
            print(f"    seconds per pass: {pass_seconds(result)}", flush=True)
    first, last = args.workers[0], args.workers[-1]
    for workers in args.workers[1:]:
        print(f"--workers {workers} against --workers {first}: {times[workers] / times[first]:.3f} of the time "
              f"({times[first] / times[workers]:.1f}x faster)")
    same = all(found[w] == found[first] for w in args.workers)
    ratio = times[last] / times[first]
    print(f"findings the same for every N: {'yes' if same else 'NO'} ({len(found[first])} findings)")
    verdict = "PASS" if same and ratio <= TARGET_RATIO else "FAIL"
    print(f"--workers {last}: {ratio:.3f} of --workers {first}'s time (target at most {TARGET_RATIO:g}): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
