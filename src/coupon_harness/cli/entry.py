"""The console script's entry point: signals are noted from its first line, before the command's imports
(`interrupts.listen_early`); `main` then imports and runs the CLI."""

from __future__ import annotations

from coupon_harness.interrupts import listen_early

__all__ = ["main"]

listen_early()


def main() -> int:
    from coupon_harness.cli.main import main as run

    return run()
