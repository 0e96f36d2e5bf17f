"""What a check returns when a rule does not hold, and how a finding shows a value."""

from __future__ import annotations

from dataclasses import dataclass

from coupon_harness.contract.catalog import canonical_rule_id

__all__ = ["Violation", "shown"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule broken by one exchange.

    `rule_id` is a rule of contracts/rules.yaml (name it by `RuleId`); any other id raises
    `UnknownRuleError` here, so no finding can go missing for naming no rule. It is kept as a plain str.
    `key` names the kind of breakage within the rule (low cardinality, no values in it): it is what
    makes two violations "the same" when findings are de-duplicated and when load runs count them.
    """

    rule_id: str
    key: str
    expected: str
    received: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule_id", canonical_rule_id(self.rule_id))

    @property
    def signature(self) -> tuple[str, str]:
        return (self.rule_id, self.key)


def shown(value: object, width: int = 160) -> str:
    """`value` as a finding shows it: repr, cut to `width`; never raises (a 5000-digit int or a list nested
    1000 deep has no repr). Only findings call it, so the hot path never pays for it."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= width else text[: width - 1] + "…"
