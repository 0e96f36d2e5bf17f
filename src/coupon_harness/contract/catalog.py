"""The catalog of named rules (contracts/rules.yaml), loaded once into typed records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

import yaml

from coupon_harness.contract.resources import contracts_dir

__all__ = ["Need", "Rule", "Severity", "get_rule", "rules"]


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
    id: str
    group: str
    severity: Severity
    title: str
    statement: str
    needs: Need | None = None


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


@cache
def rules() -> tuple[Rule, ...]:
    """Every rule, in catalog order."""
    with (contracts_dir() / "rules.yaml").open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return tuple(_parse(entry) for entry in raw["rules"])


@cache
def _by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in rules()}


def get_rule(rule_id: str) -> Rule:
    try:
        return _by_id()[rule_id]
    except KeyError:
        raise KeyError(f"no rule {rule_id!r} in contracts/rules.yaml") from None
