#!/usr/bin/env python3
"""Same findings for any --workers: every self-test target of tests/targets/ x seeds x N, findings compared.

    .venv/bin/python scripts/workers_sweep.py                           # every target, seeds 1 7 271828, N 1 4 16
    .venv/bin/python scripts/workers_sweep.py --only 500-on --seeds 1 --workers 1 4

Each target is run as its self-test runs it (the same passes, budget and settings: tests/selftest/), in this
process, once per (seed, N), and the set of findings (rule, kind, fingerprint) of each N is compared with N = 1's
under the same seed. The targets: the broken ones (broken.py, broken_mutation.py, broken_strings.py,
broken_stateful.py, broken_routes.py), the garbage servers, the legitimately different ones and the correct ones
(the plain sandbox, its variations, the lenient flavour, an independent implementation). A line per target and
seed; at the end the targets whose findings differ. Exit 1 when any differs.

A (rule, kind) whose fingerprint names the probe class is the same finding whichever request found it; a
transport finding of a hanging target can depend on which requests were in flight when it hung, and is reported
as a difference all the same (nothing is filtered out).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from coupon_harness.results.contract import ContractRunResult  # noqa: E402
from selftest.harness import PATIENT_S, run_against_sandbox, run_against_url  # noqa: E402
from selftest.test_correct_targets import TARGETS as CORRECT  # noqa: E402
from targets.broken import BROKEN, Broken  # noqa: E402
from targets.broken_mutation import BROKEN_MUTATION  # noqa: E402
from targets.broken_routes import BROKEN_ROUTES  # noqa: E402
from targets.broken_stateful import BROKEN_STATEFUL  # noqa: E402
from targets.broken_strings import BROKEN_STRINGS  # noqa: E402
from targets.garbage import GARBAGE  # noqa: E402
from targets.legit import LEGIT  # noqa: E402
from targets.serving import serving_app, serving_raw  # noqa: E402

Findings = frozenset[tuple[str, str, str]]
#: The stateful self-test's --max-examples (tests/selftest/test_stateful_targets.py): the pass's default budget.
STATEFUL_EXAMPLES = 100
#: A target: (seed, workers) -> its run.
Runner = Callable[[int, int], ContractRunResult]


def findings(result: ContractRunResult) -> Findings:
    return frozenset((f.rule_id, f.key, f.fingerprint) for r in result.rules for f in r.findings)


def _broken(variant: Broken, max_examples: int = 20) -> Runner:
    return lambda seed, workers: run_against_sandbox(mutate=variant.mutate(), before=variant.before,
                                                     passes=variant.passes, max_examples=max_examples, seed=seed,
                                                     workers=workers, **variant.settings)


def _served(serve: Callable[[], AbstractContextManager[str]], **settings: Any) -> Runner:
    def run(seed: int, workers: int) -> ContractRunResult:
        with serve() as url:
            return run_against_url(url, seed=seed, workers=workers, **settings)
    return run


def _correct(run: Callable[..., ContractRunResult]) -> Runner:
    # The self-test's runner takes the seed only; --workers rides on run_contract through a patched replace.
    def with_workers(seed: int, workers: int) -> ContractRunResult:
        from selftest import harness

        real = harness.run_contract
        harness.run_contract = lambda settings: real(_workers(settings, workers))  # type: ignore[assignment]
        try:
            return run(seed)
        finally:
            harness.run_contract = real
    return with_workers


def _workers(settings: Any, workers: int) -> Any:
    return replace(settings, workers=workers)


def targets() -> Iterator[tuple[str, Runner]]:
    for variant in (*BROKEN, *BROKEN_MUTATION, *BROKEN_STRINGS):
        yield variant.name, _broken(variant)
    for variant in BROKEN_STATEFUL:  # at their self-test's budget (300 requests): 8 state machines
        yield variant.name, _broken(variant, STATEFUL_EXAMPLES)
    for route in BROKEN_ROUTES:
        yield route.name, _served(lambda route=route: serving_app(route.app()), passes=("routes",))
    for garbage in GARBAGE:
        yield garbage.name, _served(lambda garbage=garbage: serving_raw(garbage.handler), passes=garbage.passes,
                                    max_examples=5, request_timeout=0.5)
    for legit in LEGIT:
        yield legit.name, _served(legit.serving, max_examples=20, request_timeout=PATIENT_S)
    for name, run in CORRECT.items():
        yield name, _correct(run)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 7, 271828], metavar="N")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 16], metavar="N")
    parser.add_argument("--only", default="", metavar="TEXT", help="only the targets whose name holds TEXT")
    args = parser.parse_args(argv)
    differing: list[str] = []
    runs = 0
    started = time.perf_counter()
    for name, run in targets():
        if args.only not in name:
            continue
        for seed in args.seeds:
            found = {workers: findings(run(seed, workers)) for workers in args.workers}
            runs += len(found)
            first = args.workers[0]
            same = all(found[w] == found[first] for w in args.workers)
            shown = ", ".join(sorted({f"{rule}/{kind}" for rule, kind, _ in found[first]}))[:100]
            print(f"{'same' if same else 'DIFFERS'}  {name} seed {seed}: {len(found[first])} findings ({shown})",
                  flush=True)
            if not same:
                for workers in args.workers[1:]:
                    extra, missing = found[workers] - found[first], found[first] - found[workers]
                    if extra or missing:
                        print(f"    N={workers}: beside N={first} +{sorted(extra)} -{sorted(missing)}")
                differing.append(f"{name} seed {seed}")
    print(f"{runs} runs in {time.perf_counter() - started:.0f} s; findings differ for {len(differing)} target-seeds"
          + (": " + ", ".join(differing) if differing else ""))
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
