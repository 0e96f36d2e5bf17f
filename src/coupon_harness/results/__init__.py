"""Typed results of the runners, which reporting consumes: `contract` (a contract run), `load` (a load
run), `request` (a request as sent, redacted, and its curl form)."""
