"""The catalog of named rules (contracts/rules.yaml), loaded once into typed records, and the registry of
their ids (`RuleId`).

Every place that names a rule names it as a `RuleId` member, never as a string literal. At import the
registry is checked against rules.yaml, both ways: a rule in the file without a member, or a member
without a rule in the file, is an `ImportError` naming them. A `Violation` whose id is not a rule raises
`UnknownRuleError` when it is made: no finding is ever dropped for naming no rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

import yaml

from coupon_harness.contract.resources import contracts_dir

__all__ = ["RULE_IDS", "Need", "Rule", "RuleId", "Severity", "UnknownRuleError", "canonical_rule_id", "get_rule",
           "rules"]


class RuleId(StrEnum):
    """Every rule of contracts/rules.yaml, in catalog order (a member is its id: a str)."""

    NO_SERVER_ERROR = "no-server-error"
    DOCUMENTED_STATUS = "documented-status"
    TRANSPORT = "transport"
    JSON_CONTENT_TYPE = "json-content-type"
    ACCEPTS_WELL_FORMED = "accepts-well-formed"
    REJECTS_MALFORMED = "rejects-malformed"
    STRICT_JSON = "strict-json"
    AUTH_REQUIRED = "auth-required"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    ERROR_BODY = "error-body"
    RESPONSE_SCHEMA = "response-schema"
    ERRORS_WARNINGS_ARRAYS = "errors-warnings-arrays"
    TOTAL_COUNT = "total-count"
    ENTITY_ORDER = "entity-order"
    FAILURE_COUNT = "failure-count"
    ENTITY_SHAPE = "entity-shape"
    RESULT_SERIES_ID = "result-series-id"
    CODE_NON_EMPTY = "code-non-empty"
    VALID_TILL_FUTURE = "valid-till-future"
    REDEMPTION_COUNT_ZERO = "redemption-count-zero"
    DISCOUNT_RANGE = "discount-range"
    VALID_SERIES_ISSUES = "valid-series-issues"
    INVALID_SERIES_REFUSED = "invalid-series-refused"
    UNIQUE_CODES = "unique-codes"
    SERIES_ATTRIBUTES_STABLE = "series-attributes-stable"


class UnknownRuleError(KeyError):
    """A rule id that contracts/rules.yaml does not hold: a harness bug, never a finding to drop."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown rule"


class Severity(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"

    @property
    def fails_gate(self) -> bool:
        return self is not Severity.WARNING


class Need(StrEnum):
    """What a run must be told about the target before a rule can be checked."""

    VALID_SERIES = "valid-series"
    INVALID_SERIES = "invalid-series"


@dataclass(frozen=True, slots=True)
class Rule:
    #: The id as a plain str (a RuleId compares and hashes equal to it).
    id: str
    group: str
    severity: Severity
    title: str
    statement: str
    needs: Need | None = None
    #: Keys of a newer harness's JSON form of the rule, kept to be written back (`results.codec`).
    unknown_keys: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _parse(entry: dict[str, Any]) -> Rule:
    needs = entry.get("needs")
    return Rule(
        id=str(entry["id"]),
        group=str(entry["group"]),
        severity=Severity(entry["severity"]),
        title=str(entry["title"]),
        statement=" ".join(str(entry["statement"]).split()),
        needs=Need(needs) if needs else None,
    )


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader: 0.7 ms instead of 20 at import


@cache
def rules() -> tuple[Rule, ...]:
    """Every rule, in catalog order."""
    with (contracts_dir() / "rules.yaml").open(encoding="utf-8") as handle:
        raw = yaml.load(handle, Loader=_LOADER)
    return tuple(_parse(entry) for entry in raw["rules"])


@cache
def _by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in rules()}


#: Rule id (str or RuleId) -> the id as a plain str.
_CANONICAL: dict[str, str] = {}


def _check_registry() -> None:
    in_file = [rule.id for rule in rules()]
    in_code = [member.value for member in RuleId]
    problems = [f"{what}: {', '.join(ids)}" for what, ids in (
        ("in contracts/rules.yaml but not in RuleId", [rule_id for rule_id in in_file if rule_id not in in_code]),
        ("in RuleId but not in contracts/rules.yaml", [rule_id for rule_id in in_code if rule_id not in in_file]),
        ("listed twice in contracts/rules.yaml", sorted({rule for rule in in_file if in_file.count(rule) > 1})),
    ) if ids]
    if problems:
        raise ImportError("the rule registry (coupon_harness.contract.catalog.RuleId) does not match "
                          "contracts/rules.yaml: " + "; ".join(problems))
    _CANONICAL.update({rule_id: rule_id for rule_id in in_file})


_check_registry()

#: Every rule id, as plain strs.
RULE_IDS: frozenset[str] = frozenset(_CANONICAL)


def canonical_rule_id(rule_id: str) -> str:
    """`rule_id` as a plain str; UnknownRuleError when contracts/rules.yaml holds no such rule."""
    try:
        return _CANONICAL[rule_id]
    except (KeyError, TypeError):
        raise UnknownRuleError(f"no rule {rule_id!r} in contracts/rules.yaml (coupon_harness.contract.catalog."
                               "RuleId names every rule)") from None


def get_rule(rule_id: str) -> Rule:
    try:
        return _by_id()[rule_id]
    except KeyError:
        raise UnknownRuleError(f"no rule {rule_id!r} in contracts/rules.yaml") from None
