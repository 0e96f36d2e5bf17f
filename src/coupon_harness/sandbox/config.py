"""What a sandbox serves: its series catalog, credentials, faults and output variations.

The records live in config_model.py, the file format in config_file.py; this module is where both are
imported from. Every record is a frozen dataclass checked when built, so a config made in code and one
read from a file (`load_config`) fail the same way: `SandboxConfigError`, one line that names the
problem and the fix.
"""

from __future__ import annotations

from pathlib import Path

from coupon_harness.sandbox.config_file import read_config
from coupon_harness.sandbox.config_model import (
    UNKNOWN_SERIES_ID,
    Faults,
    SandboxConfig,
    SandboxConfigError,
    SeriesConfig,
    Variations,
    default_config,
    default_series,
    parse_offset,
)

__all__ = [
    "UNKNOWN_SERIES_ID",
    "Faults",
    "SandboxConfig",
    "SandboxConfigError",
    "SeriesConfig",
    "Variations",
    "default_config",
    "default_series",
    "load_config",
    "parse_offset",
]


def load_config(path: str | Path) -> SandboxConfig:
    """Read a YAML or JSON config file (format: config_file.py); SandboxConfigError when it is wrong."""
    return read_config(Path(path))
