"""`coupon-harness serve`: the sandbox server."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coupon_harness.cli.option_table import add_command
from coupon_harness.errors import ConfigError

if TYPE_CHECKING:
    from coupon_harness.sandbox.config import SandboxConfig

__all__ = ["FAULT_KEYS", "describe", "register"]

_log = logging.getLogger(__name__)

#: Every key under `faults:` in a sandbox config, for `serve --help` (a test holds it to the `Faults` fields).
FAULT_KEYS: tuple[tuple[str, str, str], ...] = (
    ("latency_ms", "milliseconds added to every request: a number, or [low, high] drawn per request", "[5, 50]"),
    ("error_rate", "share of requests (0 to 1) answered with a 5xx from error_statuses", "0.01"),
    ("error_statuses", "the 5xx statuses an injected failure picks from", "[502, 503]"),
    ("error_after_issue", "true: the coupons are issued, then the 5xx is sent instead of the answer", "true"),
    ("concurrency", "serve at most N requests at once, the rest wait in line: a knee at N / latency", "4"),
)


def _fault_epilog() -> str:
    width = max(len(key) for key, _, _ in FAULT_KEYS)
    rows = "\n".join(f"  {key:<{width}}  {meaning} (e.g. {example})" for key, meaning, example in FAULT_KEYS)
    return (f"fault keys (under faults: in the --config file; all off by default; every key of the file is in "
            f"docs/sandbox.md):\n{rows}\n\nexample: printf 'faults:\\n  latency_ms: 20\\n  concurrency: 4\\n' > "
            f"sandbox.yaml && coupon-harness serve --config sandbox.yaml")


def register(commands: Any) -> None:
    parser = add_command(commands, "serve", _handle,
                         help="run the sandbox server (a faithful implementation of the contract)",
                         description=textwrap.fill(
                             "Run the sandbox: a stateful implementation of POST /v2/coupon/bulk/issue for demos, "
                             "rehearsals and the harness's own tests. It prints its users, series and active "
                             "faults, then its URL.", 79), epilog=_fault_epilog())
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # the epilog's table keeps its lines
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="the sandbox config: series catalog, users, faults, limits (YAML or JSON; "
                        "see docs/sandbox.md)")


def _handle(args: argparse.Namespace) -> int:
    from coupon_harness.sandbox.config import SandboxConfigError, default_config
    from coupon_harness.sandbox.config_file import load_config
    from coupon_harness.sandbox.server import serve

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port} is not a port number (0-65535)")
    try:
        config = load_config(args.config) if args.config is not None else default_config()
    except SandboxConfigError as exc:
        raise ConfigError(f"--config {exc}") from None
    _log.info("sandbox config: %s (%d series, %d users)", args.config or "built-in", len(config.series),
              len(config.users))
    print(describe(config, args.config), end="", flush=True)
    try:
        serve(args.host, args.port, config)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}; pick another --port") from None
    return 0


def describe(config: SandboxConfig, source: Path | None) -> str:
    """What a user needs to test this sandbox: its credentials, series, faults and variations. The built-in
    users are public demo values (GET /sandbox/info serves them too); a config file's passwords are not echoed."""
    from coupon_harness.sandbox.config import Faults, Variations, default_config

    built_in = default_config()

    def creds(given: Any, defaults: Any, sep: str) -> str:
        if dict(given) == dict(defaults):
            return ", ".join(f"{name}{sep}{secret}" for name, secret in given.items()) + " (public demo values)"
        return ", ".join(given) + f" (secrets as set in {source or 'the config'})" if given else "none"

    def ids(values: frozenset[int]) -> str:
        return ", ".join(map(str, sorted(values))) or "none"

    def changed(record: Any, default: Any) -> str:
        diffs = [f"{f.name}={getattr(record, f.name)!r}" for f in dataclasses.fields(record)
                 if getattr(record, f.name) != getattr(default, f.name)]
        return ", ".join(diffs) or "none"

    lines = [
        f"coupon-harness sandbox ({source or 'built-in config'})",
        f"  Basic users:   {creds(config.users, built_in.users, ':')}",
        f"  OAuth clients: {creds(config.oauth_clients, built_in.oauth_clients, ' / ')}",
        f"  valid series:  {ids(config.valid_series)} (GENERIC: {ids(config.generic_series)})",
        f"  refused:       {ids(config.invalid_series)}",
        f"  faults:        {changed(config.faults, Faults())}",
        f"  variations:    {changed(config.variations, Variations())}",
        f"  seed:          {'random' if config.seed is None else config.seed}",
    ]
    return "\n".join(lines) + "\n"
