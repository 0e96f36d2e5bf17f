"""What `--compare-to` costs: the bootstrap of compare_runs (1,000 resamples of 60 one-second intervals, both
runs, histogram decoding included) on the synthetic runs of tests/load/test_compare.py.

    .venv/bin/python scripts/bench_compare.py [--repeat 5]

Moved here from the test, which once asserted "under 3 s" and failed on a busy machine: the test keeps what
compare_runs decides (seeded, the same twice); this script keeps how long it takes (about 0.5 s on a quiet core).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the test's synthetic runs, not a copy of them
    from tests.load.test_compare import LIMITS, _result

    from coupon_harness.reporting.load.compare import compare_runs

    earlier, current = _result(1), _result(2, scale=1.3)
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        compare_runs(earlier, current, LIMITS)
        times.append(time.perf_counter() - started)
    print(f"compare_runs, 60 intervals x 300 answers, both runs: median {statistics.median(times):.3f} s, "
          f"max {max(times):.3f} s over {args.repeat}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
