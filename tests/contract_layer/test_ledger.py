"""The one cross-response ledger: the gate's Judge and the load Aggregate judge unique-codes and
series-attributes-stable with it, by the same digests in every process (issue 8)."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime

import orjson

from contract_layer.test_invariants import body, coupon
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.invariants import EntityTally
from coupon_harness.contract.ledger import Ledger, attribute_digests, series_attributes
from coupon_harness.runners.load.checker import CheckOutcome, ResponseChecker
from coupon_harness.runners.load.recorder import Aggregate, Recorder

NOW = datetime(2026, 12, 1, tzinfo=UTC)
VALUES = ("Festival coupon", "FEST", "PERC", 10, 200.5, "BILL")


def test_digests_do_not_depend_on_the_process() -> None:
    """str hashes are salted per process; the digests the workers ship are not."""
    code = ("from coupon_harness.contract.ledger import attribute_digests; "
            f"print(attribute_digests({VALUES!r}))")
    seen = set()
    for seed in ("1", "2", "random"):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        seen.add(done.stdout.strip())
    assert seen == {str(attribute_digests(VALUES))}


def test_digests_hold_python_equality() -> None:
    assert attribute_digests((500, True, None)) == attribute_digests((500.0, 1, None))
    assert attribute_digests(({"a": 1, "b": [1, 2]},)) == attribute_digests(({"b": [1.0, 2], "a": 1},))
    assert attribute_digests(("500",)) != attribute_digests((500,))
    assert attribute_digests(([1, [2]],)) != attribute_digests(([[1], 2],))
    assert attribute_digests((10**5000,)) != attribute_digests((10**5000 + 1,))


def test_the_gate_and_the_aggregate_give_the_same_violation() -> None:
    expectations = Expectations(valid_series=frozenset({101}))
    first, changed = coupon(101, "A"), coupon(101, "B", discountValue=400)
    gate = Ledger(expectations)
    assert gate.observe([101], "c1", body(first)) == []
    gate_found = gate.observe([101], "c2", body(changed))
    # The load side: a checker per answer, a recorder per generator, one aggregate.
    checker = ResponseChecker(expectations)
    aggregate = Aggregate(1.0, frozenset(), None)
    for customer, answer in (("c1", first), ("c2", changed)):
        recorder = Recorder(1.0)
        outcome = checker.check(200, "application/json", orjson.dumps(body(answer)), [101], customer, NOW)
        recorder.record(outcome, 0.01, customer, 0.0)
        aggregate.merge(recorder.take_delta())
    [violation] = gate_found
    assert aggregate.violations == {"series-attributes-stable": 1}
    example = f"expected {violation.expected}; received {violation.received}"
    assert aggregate.examples["series-attributes-stable"] == example
    assert "discountValue 500 -> 400" in violation.received


def test_the_aggregate_counts_every_answer_that_differs() -> None:
    aggregate = Aggregate(1.0, frozenset(), None)
    recorder = Recorder(1.0)
    changed = (*VALUES[:3], 11, *VALUES[4:])
    for number, values in enumerate([VALUES] * 3 + [changed] * 5 + [VALUES] * 2):
        tally = EntityTally(frozenset(), entities=1, other_entities=1, coupons=[(101, f"C{number}")],
                            attributes=[values])
        recorder.record(CheckOutcome("200", entities=1, tally=tally), 0.01, f"c{number}", 0.0)
        if number % 4 == 3:
            aggregate.merge(recorder.take_delta())
    aggregate.merge(recorder.take_delta())
    assert aggregate.violations == {"series-attributes-stable": 5}
    assert aggregate.coupons_issued == 10 and aggregate.duplicates == 0
    assert "discountValue 10 -> 11" in aggregate.examples["series-attributes-stable"]


def test_a_generic_series_may_repeat_its_code_under_load_too() -> None:
    aggregate = Aggregate(1.0, frozenset({104}), None)
    aggregate.merge({"histograms": {}, "bucket_counts": {}, "counters": {}, "statuses": {}, "violations": {},
                     "examples": {}, "error_codes": {},
                     "coupons": [[104, "SUMMER", "c1"], [104, "SUMMER", "c2"], [101, "X", "c1"], [101, "X", "c2"]]})
    assert aggregate.duplicates == 1 and aggregate.violations == {"unique-codes": 1}
    assert "series 101 code 'X' issued to customer 'c2'" in aggregate.examples["unique-codes"]


def test_a_coupon_whose_code_does_not_pack_costs_under_100_bytes() -> None:
    """Codes with punctuation go to the arena: ~29 bytes plus the code's 38 (71 at 100,000; 113 before).
    Codes of letters and digits of one case cost ~8.7: tests/contract_layer/test_ledger_memory.py."""
    ledger = Ledger(Expectations())
    coupons = [(101 + n % 3, f"CODE-{n:012d}-{'x' * 20}", f"customer-{n}") for n in range(100_000)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    ledger.issue_codes(coupons)
    per_coupon = (tracemalloc.get_traced_memory()[0] - before) / len(coupons)
    tracemalloc.stop()
    assert ledger.coupons == 100_000 and ledger.duplicates == 0
    assert per_coupon < 100, per_coupon


def test_series_attributes_reads_a_result() -> None:
    result = {"description": "d", "discountCode": "c", "discountType": "ABS", "discountValue": 1,
              "discountUpto": 2, "discountOn": "BILL", "code": "X"}
    assert series_attributes(result) == ("d", "c", "ABS", 1, 2, "BILL")
