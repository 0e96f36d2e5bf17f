"""Errors that mean the harness could not run (exit 2), each with a one-line message naming the fix."""

from __future__ import annotations

__all__ = ["ConfigError", "HarnessError", "TargetUnreachable"]


class HarnessError(Exception):
    """The harness could not do its job; the message is shown to the user as is."""


class ConfigError(HarnessError):
    """A bad flag, environment variable or config file."""


class TargetUnreachable(HarnessError):
    """The target did not answer the first request, or refused the configured credentials."""
