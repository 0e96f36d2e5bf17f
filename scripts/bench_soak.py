"""Soak at scale without the network: N synthetic coupons through the load Aggregate (its Ledger), and N codes
through the sandbox's issued-codes store; peak RSS, codes/s, duplicates found against planted (issue 9).

    .venv/bin/python scripts/bench_soak.py                      # 10^8 coupons, both stores, one process each
    .venv/bin/python scripts/bench_soak.py --codes 1000000 --target ledger
    .venv/bin/python scripts/bench_soak.py --codes 10000000 --target ledger --series 1000   # many small series
    .venv/bin/python scripts/bench_soak.py --target ledger --series 1000 --max-mb 1000      # issue 17's goal

The aggregate side: deltas of `--batch` coupons (series, code, customer) as a generator ships them, over
`--series` series, each customer holding two coupons (one request of two series). Codes are 10 characters,
upper-case hex of a bijection of the coupon's number mod 2**40 (so unique without a set to prove it, and
random-looking). Planted among them, spread over the run: `--duplicates` codes repeated to another customer
of the same series (each must be flagged), as many repeated to the same customer (must not be), and as
many issued again under another series (not a duplicate either). Exit 1 unless found == planted and there
is no false positive. `--csv PATH` lets the aggregate write coupons.csv as a load run does.

The sandbox side: the sandbox's generator of the default shape (upper-alnum, 10 characters) hands out N codes:
by default its `CodeSpace` (a counter through a bijection, nothing stored: unique by construction, so only the
planted sample is checked to be distinct); `--exact-store` the exact path of shapes that overlap another
(`CodeGenerator` into one `CodeStore`), where every planted earlier code must then be refused as already issued.

`--series` matters to the aggregate's memory only a little since the CodeStore's tables double their buckets as
they grow (`coupon_harness/codestore.py`: ~8.7 B a coupon from 10^5 coupons a series, ~11 B at 10^3; it was
~100 B for any series under 65,536 codes before issue 9): BENCHMARKS.md has the sweeps over 1-10,000 series.

Peak RSS is `resource.getrusage(RUSAGE_SELF).ru_maxrss` of a process that ran only that side; the baseline
(interpreter and imports) is printed too, and bytes a coupon both of the whole peak and of what is above the
baseline. `--max-mb` makes a peak above it exit 1 (issue 17's goal: 10^8 over 1,000 series under 1,000 MB).
Throughput is CPU time (process_time), so a busy machine slows it less than wall time would: for the whole loop
(making the synthetic coupons included) and for the store's part alone (`Aggregate.merge`, whose work is the
Ledger's `issue_codes`; on the sandbox side, the store inside `next_code` cannot be told apart from the draw,
so only the whole).
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_MULTIPLIER = 0x9E3779B97F4A7C15 & ((1 << 40) - 1) | 1
_MASK40 = (1 << 40) - 1


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def code_of(number: int) -> str:
    return f"{(number * _MULTIPLIER) & _MASK40:010X}"


def delta(coupons: list[list[Any]]) -> dict[str, Any]:
    return {"histograms": {}, "bucket_counts": {}, "counters": {}, "statuses": {}, "violations": {},
            "examples": {}, "error_codes": {}, "coupons": coupons}


def memory_line(peak: float, baseline: float, count: int, unit: str, max_mb: float | None) -> tuple[str, bool]:
    """The peak RSS line, and whether it is within `max_mb`."""
    ok = max_mb is None or peak <= max_mb
    verdict = "" if max_mb is None else f"; bound {max_mb:,.0f} MB -> {'OK' if ok else 'OVER'}"
    return (f"          peak RSS {peak:,.0f} MB (baseline {baseline:.0f} MB): {peak * 2**20 / count:.2f} B a {unit}, "
            f"{(peak - baseline) * 2**20 / count:.2f} above the baseline{verdict}"), ok


def bench_ledger(codes: int, planted: int, series_count: int, batch: int, csv: Path | None,
                 max_mb: float | None) -> bool:
    from coupon_harness.runners.load.recorder import Aggregate

    baseline = rss_mb()
    aggregate = Aggregate(1.0, frozenset(), csv)
    series_ids = [101 + index for index in range(series_count)]
    rng = random.Random(9)
    # Where each planted repeat goes (by coupon number), and of which earlier coupon.
    every = max(codes // (3 * planted + 1), 2) if planted else codes + 1
    kinds = ("other-customer", "same-customer", "other-series")
    plan: dict[int, tuple[str, int]] = {}
    for index in range(3 * planted):
        at = every * (index + 1)
        if at < codes:
            plan[at] = (kinds[index % 3], rng.randrange(at))
    expected = sum(1 for kind, _ in plan.values() if kind == "other-customer")
    gc.disable()  # the coupons are plain lists and strs, no cycles; a load run's master collects as usual
    started = time.process_time()
    wall = time.perf_counter()
    pending: list[list[Any]] = []
    issued = 0
    merging = 0.0  # CPU time in Aggregate.merge
    for number in range(codes):
        series = series_ids[number % series_count]
        customer = f"soak-{number >> 1}"
        code = code_of(number)
        pending.append([series, code, customer])
        repeat = plan.get(number)
        if repeat is not None:
            kind, earlier = repeat
            first_series, first_customer = series_ids[earlier % series_count], f"soak-{earlier >> 1}"
            if kind == "other-customer":
                pending.append([first_series, code_of(earlier), f"other-{number}"])
            elif kind == "same-customer":
                pending.append([first_series, code_of(earlier), first_customer])
            else:
                other = series_ids[(earlier + 1) % series_count] if series_count > 1 else first_series + 1
                pending.append([other, code_of(earlier), first_customer])
        if len(pending) >= batch:
            issued += len(pending)
            before = time.process_time()
            aggregate.merge(delta(pending))
            merging += time.process_time() - before
            pending = []
        if number and number % 10_000_000 == 0:
            rate = number / (time.process_time() - started)
            print(f"  {number:>12,} coupons  {rss_mb():8.0f} MB peak RSS "
                  f"({rss_mb() * 2**20 / number:5.2f} B a coupon)  {rate:>10,.0f} coupons/s  "
                  f"{issued / merging:>10,.0f} in merge", flush=True)
    if pending:
        issued += len(pending)
        before = time.process_time()
        aggregate.merge(delta(pending))
        merging += time.process_time() - before
    spent = time.process_time() - started
    wall = time.perf_counter() - wall
    aggregate.close()
    found = aggregate.duplicates
    ok = found == expected and aggregate.coupons_issued == issued
    line, within = memory_line(rss_mb(), baseline, issued, "coupon", max_mb)
    print(f"ledger  : {issued:,} coupons ({codes:,} + {len(plan):,} planted repeats) over {series_count} series, "
          f"deltas of {batch}")
    print(line)
    print(f"          {issued / merging:,.0f} coupons/s CPU in Aggregate.merge ({merging * 1e9 / issued:,.0f} ns a "
          f"coupon); {issued / spent:,.0f} coupons/s with the generation ({spent * 1e9 / issued:,.0f} ns; "
          f"{wall:,.0f} s wall)")
    print(f"          duplicates found {found:,}, planted {expected:,}, false positives {max(found - expected, 0):,}, "
          f"missed {max(expected - found, 0):,} -> {'OK' if ok else 'FAIL'}")
    return ok and within


def bench_sandbox(codes: int, planted: int, max_mb: float | None, exact: bool) -> bool:
    from coupon_harness.codestore import CodeStore
    from coupon_harness.sandbox.codes import ALPHABETS, CodeGenerator, IssuedCodes

    baseline = rss_mb()
    shape = (ALPHABETS["upper-alnum"], 10, "")
    store = CodeStore()
    if exact:
        next_code, issued = CodeGenerator(*shape, store, random.Random(9)).next_code, store.__len__
        path = "CodeGenerator into one CodeStore"
    else:
        space = IssuedCodes([shape], ["SUMMER2099"], random.Random(9))
        next_code, issued, path = space.generator(shape), space.__len__, "CodeSpace, nothing stored"
    rng = random.Random(10)
    keep = set(rng.sample(range(codes), min(planted, codes)))
    kept: list[str] = []
    gc.disable()
    started = time.process_time()
    wall = time.perf_counter()
    for number in range(codes):
        code = next_code()
        if number in keep:
            kept.append(code)
        if number and number % 10_000_000 == 0:
            print(f"  {number:>12,} codes    {rss_mb():8.0f} MB peak RSS  "
                  f"{number / (time.process_time() - started):>10,.0f} codes/s", flush=True)
    spent = time.process_time() - started
    wall = time.perf_counter() - wall
    refused = sum(1 for code in kept if store.add(None, code) is not None) if exact else len(set(kept))
    ok = issued() == codes and refused == len(kept)
    line, within = memory_line(rss_mb(), baseline, codes, "code", max_mb)
    print(f"sandbox : {codes:,} codes handed out by the default shape (upper-alnum, 10 characters): {path}")
    print(line)
    print(f"          {codes / spent:,.0f} codes/s CPU ({spent * 1e9 / codes:,.0f} ns a code, generation included; "
          f"{wall:,.0f} s wall)")
    what = "planted repeats refused" if exact else "planted sample distinct"
    print(f"          issued {issued():,} of {codes:,}; {what} {refused:,} of {len(kept):,} "
          f"-> {'OK' if ok else 'FAIL'}")
    return ok and within


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codes", type=int, default=10**8)
    parser.add_argument("--duplicates", type=int, default=1000, help="planted repeats of each kind")
    parser.add_argument("--series", type=int, default=4)
    parser.add_argument("--batch", type=int, default=2000, help="coupons a delta")
    parser.add_argument("--csv", type=Path, default=None, help="let the aggregate write coupons.csv here")
    parser.add_argument("--target", choices=("both", "ledger", "sandbox"), default="both")
    parser.add_argument("--max-mb", type=float, default=None, help="exit 1 if a side's peak RSS is above this")
    parser.add_argument("--exact-store", action="store_true",
                        help="the sandbox side on the exact path of overlapping shapes (a CodeStore)")
    args = parser.parse_args()
    if args.target == "both":  # one process each: each peak RSS is its own
        status = 0
        for target in ("ledger", "sandbox"):
            command = [sys.executable, __file__, "--target", target, "--codes", str(args.codes),
                       "--duplicates", str(args.duplicates), "--series", str(args.series), "--batch", str(args.batch)]
            if args.csv is not None and target == "ledger":
                command += ["--csv", str(args.csv)]
            if args.max_mb is not None:
                command += ["--max-mb", str(args.max_mb)]
            if args.exact_store:
                command.append("--exact-store")
            status |= subprocess.run(command, check=False).returncode
        return status
    if args.target == "ledger":
        ok = bench_ledger(args.codes, args.duplicates, args.series, args.batch, args.csv, args.max_mb)
    else:
        ok = bench_sandbox(args.codes, args.duplicates, args.max_mb, args.exact_store)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
