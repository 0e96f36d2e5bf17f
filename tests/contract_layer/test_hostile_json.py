"""Whatever JSON a target answers, the checks return findings and never raise (issue 7).

The properties drive every consumer of a 200 body: check_response (with and without a tally), the
Ledger (several calls on one ledger), the contract Judge (through orjson, as the runner parses) and the
load runner's ResponseChecker. Two kinds of answers: arbitrary JSON, and "near misses": a correct answer
built by the invariant tests' builders with a few subtrees swapped for arbitrary (or hostile) JSON, which
reaches the deep checks (coupon fields, errors, codes) that arbitrary JSON seldom gets to.

`scripts/bench_hostile_json.py` runs the same properties at 100,000+ examples.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_layer.test_invariants import body, coupon, refused
from coupon_harness.contract.catalog import rules
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.http_rules import WELL_FORMED
from coupon_harness.contract.invariants import EntityTally, IssueCall, check_response
from coupon_harness.contract.ledger import Ledger
from coupon_harness.contract.violations import Violation
from coupon_harness.runners.contract.collector import Collector
from coupon_harness.runners.contract.exchange import Exchange
from coupon_harness.runners.contract.judge import Judge
from coupon_harness.runners.load.checker import ResponseChecker
from coupon_harness.transport.auth import Credentials, Redactor

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
VALID, OTHER_VALID, INVALID, GENERIC, UNKNOWN = 544770, 553379, 999, 777, 4242
SERIES = (VALID, OTHER_VALID, INVALID, GENERIC, UNKNOWN)
CATALOG = frozenset(rule.id for rule in rules())
REDACTOR = Redactor(Credentials())

#: The names the checks look up: dictionaries drawn with these keys reach the checks' branches.
KEYS = ("response", "totalCount", "failureCount", "entityId", "errors", "warnings", "result", "code",
        "message", "seriesId", "description", "discountCode", "validTill", "discountType", "discountValue",
        "discountUpto", "discountOn", "detailedInfo", "redemptionCount", "id")


def _deep(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for index in range(depth):
        value = [value] if index % 2 else {"code": value}
    return value


#: Values no arbitrary draw is likely to reach: parser extremes and types a check may compare or hash.
_HOSTILE: tuple[Any, ...] = (
    2**63 - 1, 2**64, -(2**63) - 1, 10**30, -(10**30), 10**5000, 1e308, -1e308, 5e-324, -0.0, float("nan"),
    float("inf"), float("-inf"), True, False, 0, 1, 100, 101, -1, 701, 721, 707, "PERC", "ABS", "", " ",
    "2029-05-09T00:00:00Z", "2020-01-01T00:00:00", "next tuesday",
    "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "0001-01-01", "2029-05-09T25:00:00Z",
    "\x00", "\ud800", [], {}, [1, 2], {"a": 1},
    [[]], [{}], [{"code": [1]}], [{"code": {"x": 1}}], [None], VALID, INVALID, GENERIC, float(VALID),
)
#: Each makes a new value (a check, or the next replacement, may not change the one another draw holds).
_MAKERS: tuple[Callable[[], Any], ...] = (
    *(lambda value=value: copy.deepcopy(value) for value in _HOSTILE),
    lambda: _deep(990), lambda: _deep(990, 2), lambda: _deep(1100),  # orjson reads up to 1024 levels
)


def hostile() -> list[Any]:
    return [make() for make in _MAKERS]


scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=20))
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)
hostile_values = json_values | st.sampled_from(_MAKERS).map(lambda make: make())


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*path, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*path, index)))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any, drop: bool) -> Any:
    if not path:
        return new
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return value


@st.composite
def near_misses(draw: st.DrawFn, series_ids: list[int]) -> Any:
    """A correct answer to `series_ids` (a coupon for each series but the invalid one) with a few
    subtrees replaced by arbitrary JSON, or dropped."""
    entities = [refused(s) if s == INVALID else coupon(s, draw(st.sampled_from(("TPLPYOEYOT", "9WJIGHOBRL", "GEN"))))
                for s in series_ids]
    answer: Any = body(*entities)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(answer)
        path = draw(st.sampled_from(paths))
        answer = _replace(answer, path, draw(hostile_values), draw(st.booleans()))
    return answer


@st.composite
def cases(draw: st.DrawFn) -> tuple[Expectations, list[tuple[IssueCall, Any]]]:
    """Expectations, and a few calls with their answers (one ledger sees them all, in order)."""
    expectations = Expectations(
        valid_series=frozenset(draw(st.sets(st.sampled_from(SERIES)))),
        invalid_series=frozenset(draw(st.sets(st.sampled_from(SERIES)))),
        generic_series=frozenset(draw(st.sets(st.sampled_from(SERIES)))),
        unique_generic=draw(st.booleans()),
    )
    calls = []
    for _ in range(draw(st.integers(1, 3))):
        series_ids = draw(st.lists(st.sampled_from(SERIES), max_size=4))
        customer = draw(st.sampled_from(("c1", "c2", None)))
        call = IssueCall(series_ids, customer, NOW, fresh_customer=draw(st.booleans()))
        answer = draw(near_misses(series_ids) | hostile_values)
        calls.append((call, answer))
    return expectations, calls


def _violations(found: Any) -> list[Violation]:
    assert isinstance(found, list), found
    for violation in found:
        assert isinstance(violation, Violation), violation
        assert violation.rule_id in CATALOG, violation
        assert isinstance(violation.key, str) and isinstance(violation.received, str), violation
    return found


def _encode(value: Any) -> bytes:
    """The bytes a target would send: orjson when it can, json for what it cannot (NaN, huge ints, depth)."""
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):
        pass
    try:
        return json.dumps(value).encode("utf-8", "surrogatepass")
    except (ValueError, RecursionError):
        return b"[]"


def check_everything(expectations: Expectations, calls: list[tuple[IssueCall, Any]]) -> None:
    """The property: every consumer of a 200 body turns `calls` into findings from the catalog."""
    ledger = Ledger(expectations)
    collector = Collector(seed=0, max_transport_failures=10**9, redactor=REDACTOR)
    judge = Judge(collector, expectations, Ledger(expectations), REDACTOR)
    checker = ResponseChecker(expectations)
    for call, answer in calls:
        original = copy.deepcopy(answer) if _copyable(answer) else None
        _violations(check_response(call, answer, expectations))
        tally = EntityTally(expectations.invalid_series)
        _violations(check_response(call, answer, expectations, tally))
        assert tally.entities >= 0
        _violations(ledger.observe(call.series_ids, call.customer_id, answer))
        if original is not None:
            assert _same(original, answer), "a check changed the body"
        raw = _encode(answer)
        exchange = Exchange(None, "POST", 200, {"content-type": "application/json"}, raw)  # type: ignore[arg-type]
        judge.judge(exchange, WELL_FORMED, call, "hostile")
        outcome = checker.check(200, "application/json; charset=utf-8", raw, call.series_ids, call.customer_id or "c",
                                NOW)
        _violations(outcome.violations)
    for finding in collector.findings:
        assert finding.rule_id in CATALOG, finding


def _copyable(value: Any) -> bool:
    try:
        copy.deepcopy(value)
    except RecursionError:
        return False
    return True


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) or repr(a) == repr(b)  # NaN != NaN, yet the body is unchanged
    except (RecursionError, ValueError):
        return True


def property_test(examples: int, check: Callable[[Expectations, list[tuple[IssueCall, Any]]], None]) -> Any:
    """`check` under Hypothesis, for this file's test and the benchmark script alike."""
    @settings(max_examples=examples, derandomize=False, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(cases())
    def run(case: tuple[Expectations, list[tuple[IssueCall, Any]]]) -> None:
        check(*case)

    return run


test_hostile_answers_are_findings_never_exceptions = property_test(300, check_everything)


def test_hostile_values_one_by_one() -> None:
    """Each hostile value in every slot of a correct answer (deterministic, beside the random draws)."""
    expectations = Expectations(valid_series=frozenset({VALID}), invalid_series=frozenset({INVALID}),
                                generic_series=frozenset({GENERIC}))
    series_ids = [VALID, INVALID, GENERIC]
    base = body(coupon(VALID, "A"), refused(INVALID), coupon(GENERIC, "G"))
    call = IssueCall(series_ids, "c1", NOW, fresh_customer=True)
    for path in _paths(base):
        answers = [(call, _replace(copy.deepcopy(base), path, value, drop=False)) for value in hostile()]
        # One ledger sees them all, each way round: every value is compared with (and shown beside) the others.
        check_everything(expectations, answers)
        check_everything(expectations, answers[::-1])


def test_ledger_compares_attributes_nested_deeper_than_python_compares() -> None:
    """orjson reads 1024 levels; Python's == and repr give up near 1000: the ledger still judges them."""
    ledger = Ledger(Expectations())
    def nested(leaf: bytes) -> Any:
        return orjson.loads(b'{"a":' * 1020 + leaf + b"}" * 1020)

    assert ledger.observe([VALID], "c1", body(coupon(VALID, "A", description=nested(b"1")))) == []
    assert ledger.observe([VALID], "c2", body(coupon(VALID, "B", description=nested(b"1")))) == []
    found = ledger.observe([VALID], "c3", body(coupon(VALID, "C", description=nested(b"2"))))
    assert [v.rule_id for v in found] == ["series-attributes-stable"]
    assert "too large to show" in found[0].received
