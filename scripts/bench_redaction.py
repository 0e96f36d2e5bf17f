"""The redactor's cost per call, on the hot paths' texts: a 12-character coupon code (the load process redacts
every code) and a 2 kB answer body (a violation example, a contract sample), with the credentials of a Basic
run and of an OAuth run that fetched three tokens.

    .venv/bin/python scripts/bench_redaction.py                 # this tree's Redactor
    .venv/bin/python scripts/bench_redaction.py --against main  # and, side by side, the Redactor of a git revision

The common case is a text that holds no secret and none of `\\ % &`; the other rows show what a text with
escapes (JSON `\\u` escapes, a percent-encoded URL) and a text with an echoed secret cost.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coupon_harness.transport import credentials as credentials_module
from coupon_harness.transport.auth import Redactor

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "till01", "Hunter2/pw+ö"
OAUTH_KEY, OAUTH_SECRET = "cap-key-Q7zx", "s3cr3t-oauth-secret"
TOKENS = [f"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjYXAta2V5IiwianRpIjoi{n:04d}In0.c2lnbmF0dXJl{n:04d}"
          for n in range(3)]
CODE = "CH4F9K2M7Q1Z"


def _body(size: int = 2048) -> str:
    """A bulk-issue answer of about `size` characters: plain JSON, no escapes."""
    entities = []
    while len(json.dumps({"response": entities})) < size:
        n = len(entities)
        entities.append({"entityId": 101 + n, "result": {
            "code": f"CH{n:04d}X7Q2", "id": 7000 + n, "seriesId": 101 + n, "description": "Ten off the bill",
            "discountCode": "TENOFF", "discountType": "ABS", "discountValue": 10, "discountUpto": 0,
            "discountOn": "BILL", "validTill": "2030-01-31T00:00:00Z", "redemptionCount": 0}})
    return json.dumps({"response": entities, "totalCount": len(entities), "failureCount": 0})[:size]


class _Tokens:
    def __init__(self, fetched: list[str]) -> None:
        self.fetched = fetched


def _texts() -> dict[str, str]:
    body = _body()
    escaped = body.replace("Ten off the bill", "Ten off the bill \\u00e9\\u00e8 \\/")
    url = "http://127.0.0.1:8080/v2/coupon/bulk/issue?q=a%20b%2Fc&x=" + "%41" * 20
    echoed = body[:1000] + "".join(f"\\u{ord(char):04x}" for char in PASSWORD) + body[1000:]
    return {"12-char code": CODE, "2 kB body": body, "2 kB body with \\u escapes": escaped,
            "URL with %-escapes": url, "2 kB body echoing a secret": echoed}


def _ns_per_call(redact: Callable[[str], str], text: str, budget_s: float = 0.2) -> float:
    """The best of five runs of as many calls as fit in `budget_s` / 5."""
    calls = 1
    while True:
        started = time.perf_counter()
        for _ in range(calls):
            redact(text)
        took = time.perf_counter() - started
        if took > budget_s / 20:
            break
        calls *= 4
    best = took
    for _ in range(4):
        started = time.perf_counter()
        for _ in range(calls):
            redact(text)
        best = min(best, time.perf_counter() - started)
    return best / calls * 1e9


def _redactors(redactor: Callable[..., Any], credentials: Callable[..., Any]) -> dict[str, Callable[[str], str]]:
    basic = redactor(credentials(user=USER, password=PASSWORD))
    oauth = redactor(credentials(oauth_key=OAUTH_KEY, oauth_secret=OAUTH_SECRET), _Tokens(list(TOKENS)))
    return {"basic": basic.text, "oauth": oauth.text}


def _module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, name, "exec"), module.__dict__)
    return module


def _old(revision: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The Redactor and Credentials of `revision` (its transport/auth.py and credentials.py)."""
    def show(path: str) -> str:
        return subprocess.run(["git", "show", f"{revision}:src/coupon_harness/transport/{path}"], cwd=ROOT,
                              check=True, capture_output=True, text=True).stdout

    old_credentials = _module("_old_credentials", show("credentials.py"))
    current = sys.modules["coupon_harness.transport.credentials"]
    sys.modules["coupon_harness.transport.credentials"] = old_credentials  # what the old auth.py imports
    try:
        old_auth = _module("_old_auth", show("auth.py"))
    finally:
        sys.modules["coupon_harness.transport.credentials"] = current
    return old_auth.Redactor, old_credentials.Credentials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--against", metavar="REV", help="also time the Redactor of this git revision (e.g. main)")
    args = parser.parse_args(argv)
    columns = {"this tree": _redactors(Redactor, credentials_module.Credentials)}
    if args.against:
        columns = {args.against: _redactors(*_old(args.against)), **columns}
    texts = _texts()
    print(f"{'credentials':<12} {'text':<28} " + " ".join(f"{name + ' (ns)':>14}" for name in columns))
    for kind in ("basic", "oauth"):
        for label, text in texts.items():
            figures = [_ns_per_call(column[kind], text) for column in columns.values()]
            print(f"{kind:<12} {label:<28} " + " ".join(f"{figure:>14,.0f}" for figure in figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
