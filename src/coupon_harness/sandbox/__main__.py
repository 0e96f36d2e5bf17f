"""`python -m coupon_harness.sandbox --host 127.0.0.1 --port 8080 [--config FILE]`: serve a sandbox."""

from __future__ import annotations

import argparse
import sys

from coupon_harness.sandbox.config import SandboxConfigError, default_config
from coupon_harness.sandbox.config_file import load_config
from coupon_harness.sandbox.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coupon_harness.sandbox",
        description="Serve the coupon-harness sandbox of POST /v2/coupon/bulk/issue.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port, 0 for any free one (default 8080)")
    parser.add_argument("--config", metavar="FILE", help="YAML or JSON config (default: built-in)")
    parser.add_argument("--no-uvloop", action="store_true", help="use asyncio's own event loop")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config) if args.config else default_config()
    except SandboxConfigError as exc:
        print(f"sandbox: config error: {exc}", file=sys.stderr)
        return 2
    try:
        serve(args.host, args.port, config, use_uvloop=not args.no_uvloop)
    except OSError as exc:
        print(f"sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
