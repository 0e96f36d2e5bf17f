"""`coupon-harness serve`: the sandbox server."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from coupon_harness.cli.option_table import add_command
from coupon_harness.errors import ConfigError

__all__ = ["register"]

_log = logging.getLogger(__name__)


def register(commands: Any) -> None:
    parser = add_command(commands, "serve", _handle,
                         help="run the sandbox server (a faithful implementation of the contract)",
                         description="Run the sandbox: a stateful implementation of POST /v2/coupon/bulk/issue for "
                         "demos, rehearsals and the harness's own tests.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="the sandbox config: series catalog, users, faults, limits (YAML or JSON; see README)")


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
    try:
        serve(args.host, args.port, config)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}; pick another --port") from None
    return 0
