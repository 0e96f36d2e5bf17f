"""`coupon-harness locustfile-path`: where the checked Locust user's locustfile is, for `locust -f`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from coupon_harness.cli.option_table import add_command
from coupon_harness.contract.resources import data_root
from coupon_harness.errors import ConfigError

__all__ = ["register"]

LOCUSTFILE = Path("locustfiles") / "bulk_issue.py"


def register(commands: Any) -> None:
    add_command(
        commands, "locustfile-path", _handle,
        help="print the path of the checked Locust user's locustfile (for locust -f)",
        description="Print the absolute path of the locustfile that runs the checked bulk-issue user under plain "
        "Locust, web UI included: locust -f \"$(coupon-harness locustfile-path)\" --host URL --series-ids 101,102 "
        "--user USER:PASSWORD. Exit 0, or 2 when the installation lacks it.")


def _handle(args: argparse.Namespace) -> int:
    """The installed copy (coupon_harness/_data/locustfiles/), or in a source checkout the repository's."""
    try:
        path = data_root() / LOCUSTFILE
    except FileNotFoundError as exc:
        raise ConfigError(str(exc)) from None
    if not path.is_file():
        raise ConfigError(f"the locustfile is missing ({path}): reinstall coupon-harness (pip install .)")
    print(path)
    return 0
