"""Shared pieces of the load runner's self-tests: settings against a sandbox, a run, a readable failure."""

from __future__ import annotations

import csv
from dataclasses import asdict
from pathlib import Path
from typing import Any

from coupon_harness.results.load import LoadRunResult
from coupon_harness.runners.load.runner import run_load
from coupon_harness.runners.load.settings import LoadSettings, parse_slo
from coupon_harness.sandbox.app import Before, Mutate
from coupon_harness.sandbox.config import SandboxConfig
from coupon_harness.sandbox.server import running_sandbox
from coupon_harness.transport.auth import Credentials

__all__ = ["VALID", "describe", "load_settings", "run_against_sandbox", "slos"]

#: Series of the default sandbox that issue a fresh code to every customer (no GENERIC, no per-customer cap).
VALID = (101, 102, 105)
INVALID = (999999, 201)


def slos(*texts: str) -> tuple[Any, ...]:
    return tuple(parse_slo(text) for text in texts)


#: Credentials fields a test may give flat (user="...", oauth_key="..."): they become the one Credentials.
_CREDENTIAL_FIELDS = ("user", "password", "md5_password", "oauth_key", "oauth_secret", "token")


def load_settings(base_url: str, **overrides: Any) -> LoadSettings:
    credentials = {"user": "sandbox", "password": "sandbox"}
    credentials.update({name: overrides.pop(name) for name in _CREDENTIAL_FIELDS if name in overrides})
    fields: dict[str, Any] = {
        "base_url": base_url, "series_ids": VALID, "invalid_series_ids": INVALID,
        "credentials": Credentials(**credentials), "users": 20, "spawn_rate": 100.0, "run_time_s": 4.0,
        "request_timeout": 5.0,
    }
    fields.update(overrides)
    return LoadSettings(**fields)


def run_against_sandbox(out: Path, *, config: SandboxConfig | None = None, mutate: Mutate | None = None,
                        before: Before | None = None, **overrides: Any) -> LoadRunResult:
    """One load run against a fresh in-process sandbox (optionally hooked)."""
    with running_sandbox(config, mutate=mutate, before=before) as sandbox:
        return run_load(load_settings(sandbox.base_url, **overrides), out)


def coupon_rows(out: Path) -> list[list[str]]:
    with (out / "coupons.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def describe(result: LoadRunResult) -> str:
    """The figures a failed assertion should show (no timeline)."""
    figures = asdict(result)
    figures.pop("timeline", None)
    return "\n".join(f"{key}: {value}" for key, value in figures.items())

