#!/usr/bin/env python3
"""A default contract run against the sandbox: how long it takes and what each pass sends.

    .venv/bin/python scripts/bench_contract.py                  # seeds 1, 7, 271828
    .venv/bin/python scripts/bench_contract.py --seeds 1 2 3 --max-examples 100

One sandbox in a thread of this process (as `coupon-harness run` starts it), one in-process contract run a seed with
the default passes and budget; prints the requests of each pass, the run's time and the verdict. The target is a
default contract run under 20 s (issue 16); each run must hold (exit 1 otherwise).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace

from coupon_harness.cli.sandbox_target import sandbox_settings
from coupon_harness.runners.contract import ContractSettings, run_contract
from coupon_harness.sandbox.info import sandbox_info
from coupon_harness.sandbox.server import running_sandbox

TARGET_S = 20.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 7, 271828], metavar="N")
    parser.add_argument("--max-examples", type=int, default=100, metavar="N")
    args = parser.parse_args(argv)
    worst = 0.0
    ok = True
    with running_sandbox() as sandbox:
        base = sandbox_settings(ContractSettings(base_url=sandbox.base_url), sandbox_info(sandbox.config))
        for seed in args.seeds:
            started = time.perf_counter()
            result = run_contract(replace(base, seed=seed, max_examples=args.max_examples))
            took = time.perf_counter() - started
            worst = max(worst, took)
            ok = ok and result.holds
            passes = ", ".join(f"{name} {sent}" for name, sent in result.passes)
            print(f"seed {seed}: {result.requests} requests in {took:.2f} s, {'holds' if result.holds else 'FAILS'}"
                  f" ({passes})")
    verdict = "PASS" if worst < TARGET_S and ok else "FAIL"
    print(f"slowest run {worst:.2f} s (target under {TARGET_S:g} s): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
