"""Where the contract files live: the checkout's top-level folders, or their copy inside the wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["contracts_dir", "data_root", "spec_path"]

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def data_root() -> Path:
    """The folder holding specs/ and contracts/.

    In a checkout (editable install) that is the repository root; an installed wheel carries a copy
    under coupon_harness/_data (see force-include in pyproject.toml).
    """
    for candidate in (_PACKAGE / "_data", _PACKAGE.parent.parent):
        if (candidate / "specs" / "bulk-issue.openapi.yaml").is_file():
            return candidate
    raise FileNotFoundError(
        "cannot find specs/bulk-issue.openapi.yaml; reinstall coupon-harness (pip install .)"
    )


def spec_path() -> Path:
    return data_root() / "specs" / "bulk-issue.openapi.yaml"


def contracts_dir() -> Path:
    return data_root() / "contracts"
