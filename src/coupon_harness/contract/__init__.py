"""The contract of record: spec, schemas, the rule catalog and its registry (`RuleId`), and the checks: the
HTTP rules (`http_rules`), the per-response rules (`invariants`) and the cross-response ones (`ledger`).
Imports no runner."""
