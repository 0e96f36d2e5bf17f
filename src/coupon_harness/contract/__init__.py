"""The contract of record: spec, schemas, the rule catalog and its registry (`RuleId`), and the checks: the
HTTP rules (`http_rules`), the per-response rules (`invariants`) and the cross-response ones (`ledger`).
Imports no runner."""

from coupon_harness.contract.catalog import (
    RULE_IDS,
    Need,
    Rule,
    RuleId,
    Severity,
    UnknownRuleError,
    get_rule,
    rules,
)
from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.http_rules import Expect, check_http
from coupon_harness.contract.invariants import RESPONSE_RULES, IssueCall, check_response
from coupon_harness.contract.ledger import Ledger
from coupon_harness.contract.resources import contracts_dir, spec_path
from coupon_harness.contract.schemas import load_schema, request_validator, response_validator, schema_errors
from coupon_harness.contract.violations import Violation

__all__ = [
    "RESPONSE_RULES",
    "RULE_IDS",
    "Expect",
    "Expectations",
    "IssueCall",
    "Ledger",
    "Need",
    "Rule",
    "RuleId",
    "Severity",
    "UnknownRuleError",
    "Violation",
    "check_http",
    "check_response",
    "contracts_dir",
    "get_rule",
    "load_schema",
    "request_validator",
    "response_validator",
    "rules",
    "schema_errors",
    "spec_path",
]
