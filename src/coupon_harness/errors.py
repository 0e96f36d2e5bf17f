"""Errors that mean the harness could not run (exit 2), each with a one-line message naming the fix."""

from __future__ import annotations

import unicodedata

__all__ = ["ConfigError", "HarnessError", "TargetUnreachable", "one_line"]

#: Characters that end a line for a terminal, a CI log or str.splitlines (controls, line and paragraph separators).
_BREAKS = frozenset({"Cc", "Zl", "Zp"})


def one_line(message: str) -> str:
    """A message as one line: a control character or line separator from an input is written as its escape."""
    if not any(unicodedata.category(char) in _BREAKS for char in message):
        return message
    return "".join(repr(char)[1:-1] if unicodedata.category(char) in _BREAKS else char for char in message)


class HarnessError(Exception):
    """The harness could not do its job; the message is shown to the user as is."""


class ConfigError(HarnessError):
    """A bad flag, environment variable or config file."""


class TargetUnreachable(HarnessError):
    """The target did not answer the first request, or refused the configured credentials."""
