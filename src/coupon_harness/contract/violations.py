"""What a check returns when a rule does not hold."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Violation"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule broken by one exchange.

    `key` names the kind of breakage within the rule (low cardinality, no values in it): it is what
    makes two violations "the same" when findings are de-duplicated and when load runs count them.
    """

    rule_id: str
    key: str
    expected: str
    received: str

    @property
    def signature(self) -> tuple[str, str]:
        return (self.rule_id, self.key)
