"""Hostile answers at scale: the properties of tests/contract_layer/test_hostile_json.py at 100,000+ examples.

Every example (expectations and a few calls, each answered with arbitrary JSON or a near miss of a
correct answer) goes through check_response (with and without a tally), one Ledger, the contract Judge
and the load runner's ResponseChecker. An exception is counted, not raised, so the run goes on and the
tally is honest; the first failing value is printed, and the exit status is 1.

    .venv/bin/python scripts/bench_hostile_json.py --examples 100000
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from contract_layer.test_hostile_json import check_everything, property_test
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.invariants import IssueCall, shown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--examples", type=int, default=100_000, help="Hypothesis examples (default 100000)")
    parser.add_argument("--progress", type=int, default=10_000, help="print a line every N examples (0: never)")
    args = parser.parse_args(argv)

    examples = exceptions = 0
    first: tuple[Any, str] | None = None
    started = time.perf_counter()

    def counted(expectations: Expectations, calls: list[tuple[IssueCall, Any]]) -> None:
        nonlocal examples, exceptions, first
        examples += 1
        try:
            check_everything(expectations, calls)
        except Exception as exc:  # the property failed: count it, keep the first, go on
            exceptions += 1
            if first is None:
                first = ((expectations, [(call, answer) for call, answer in calls]),
                         "".join(traceback.format_exception(exc)))
        if args.progress and examples % args.progress == 0:
            print(f"  {examples} examples, {exceptions} exceptions, {time.perf_counter() - started:.1f} s",
                  flush=True)

    property_test(args.examples, counted)()
    elapsed = time.perf_counter() - started
    print(f"examples: {examples}")
    print(f"exceptions: {exceptions}")
    print(f"time: {elapsed:.1f} s ({elapsed / max(examples, 1) * 1e3:.2f} ms per example)")
    if first is not None:
        value, trace = first
        print(f"first failing value: {shown(value, 4000)}", file=sys.stderr)
        print(trace, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
