"""The config layer's pieces: reading a named target of a TOML file, and the checks and parsers of values.

The option table (`coupon_harness.cli.option_table`) names every option and applies the precedence, flag >
environment (COUPON_HARNESS_*) > config-file target > default, with these. `${NAME}` in a file value is
replaced by the environment variable NAME; a missing one is an error that names it.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

from coupon_harness.errors import ConfigError
from coupon_harness.input_files import (
    BAD_PATH,
    CONFIG_LIMIT,
    NESTED_TOO_DEEPLY,
    NOT_A_FILE,
    NOT_TEXT,
    TOO_LARGE,
    UnreadableFile,
    read_text,
    size_text,
)

__all__ = ["ENV_PREFIX", "check_credentials", "check_int", "check_number", "parse_customer_ids", "parse_int_list",
           "parse_user", "read_target_table"]

ENV_PREFIX = "COUPON_HARNESS_"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def check_number(value: object, what: str, *, low: float, high: float, low_open: bool = False,
                 unit: str = "") -> float:
    """A finite number in [low, high] (or (low, high] with low_open); `what` names the flag, key or variable."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise ConfigError(f"{what} {value!r} is not a number") from None
    bound = f"more than {low:g}" if low_open else f"at least {low:g}"
    if not math.isfinite(number) or number < low or (low_open and number == low) or number > high:
        raise ConfigError(f"{what} must be a finite number {bound} and at most {high:g}{unit}, got {value!r}")
    return number


def _shown_number(number: int) -> str:
    """A number for a message: a 5,000-digit typo is cut."""
    text = str(number)
    return text if len(text) <= 24 else text[:20] + "..."


def check_int(value: object, what: str, *, low: int, high: int) -> int:
    """An integer in [low, high]; `what` names the flag, key or variable."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f"{what} must be an integer, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{what} {str(value)[:40]!r} is not an integer") from None
    if number < low and high >= 2**62:
        raise ConfigError(f"{what} must be at least {low:,}, got {number}")
    if not low <= number <= high:
        raise ConfigError(f"{what} must lie between {low:,} and {high:,}, got {_shown_number(number)}")
    return number


_CREDENTIAL_FIELDS = ("user", "password", "token", "oauth_key", "oauth_secret")


def check_credentials(values: dict[str, Any], where: str) -> None:
    """Credentials must be UTF-8 without a control character (a token: visible ASCII); messages never show them."""
    for name in _CREDENTIAL_FIELDS:
        value = values.get(name)
        if value is None:
            continue
        flag = "user (its password)" if name == "password" else name.replace("_", "-")
        what = where.format(flag=flag, env=name.upper())
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigError(f"{what} is not valid UTF-8 text (a byte the shell passed as is?): give it as "
                              "the target knows it") from None
        if name == "token" and any(not " " < char < "\x7f" for char in value):
            raise ConfigError(f"{what} holds a character an HTTP header cannot carry (a token is visible ASCII): "
                              "check the token")
        if any(unicodedata.category(char) == "Cc" for char in value):
            raise ConfigError(f"{what} holds a control character (a newline, a tab, a NUL?), which no credential "
                              "may (RFC 7617): give it without (a file read into a variable keeps its last newline)")


def parse_user(value: str) -> tuple[str, str | None]:
    """USER:PASSWORD as curl -u takes it (the password may contain ':')."""
    user, sep, password = value.partition(":")
    if not user:
        raise ConfigError(f"bad user {value.split(':', maxsplit=1)[0]!r}: give USER:PASSWORD")
    return user, password if sep else None


def parse_int_list(value: str | list[Any], what: str) -> tuple[int, ...]:
    """Comma-separated (or a TOML list) int32 series ids; a repeated id is kept once, in first-seen order."""
    if isinstance(value, bool) or not isinstance(value, str | int | list):
        raise ConfigError(f"{what} must be a list of integers like [101, 102], got {value!r}")
    items = value if isinstance(value, list) else [part for part in str(value).split(",") if part.strip()]
    out: dict[int, None] = {}
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise ConfigError(f"{what}: {item!r} is not an integer; give a comma-separated list like 101,102")
        try:
            number = int(str(item).strip())
        except ValueError:
            shown = str(item)[:40]
            raise ConfigError(f"{what}: {shown!r} is not an integer; give a comma-separated list like 101,102") \
                from None
        if not -(2**31) <= number < 2**31:
            raise ConfigError(f"{what}: {_shown_number(number)} is outside int32")
        out.setdefault(number, None)
    return tuple(out)


def parse_customer_ids(value: str | list[Any], what: str) -> tuple[str, ...]:
    """Comma-separated (or a TOML list) customer ids, UTF-8; a repeated id is kept once, in first-seen order."""
    if not isinstance(value, str | list):
        raise ConfigError(f"{what} must be a list of customer ids like [\"c1\", \"c2\"], got {value!r}")
    items = value if isinstance(value, list) else value.split(",")
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise ConfigError(f"{what}: {item!r} is not a customer id; give text like \"c1\"")
    out = tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
    for customer in out:
        try:
            customer.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigError(f"{what}: {customer!r} is not valid UTF-8 text; give customer ids as the target "
                              "knows them") from None
    return out


def _expand(value: Any, where: str) -> Any:
    if isinstance(value, str):
        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(f"{where} uses ${{{name}}} but the environment variable {name} is not set")
            return os.environ[name]
        return _ENV_REF.sub(lookup, value)
    if isinstance(value, list):
        return [_expand(item, where) for item in value]
    return value


#: The fix for a config file that is not read, by UnreadableFile.kind.
_CONFIG_FIX = {
    NOT_A_FILE: "give --config a TOML file of targets",
    TOO_LARGE: f"a config file is a few kilobytes of TOML (at most {size_text(CONFIG_LIMIT)}): is --config the "
               "right file?",
    NOT_TEXT: "save it as UTF-8",
    BAD_PATH: "check --config",
}


def read_target_table(path: Path, name: str | None) -> tuple[str, dict[str, Any]]:
    """How messages name the target's table (`FILE [targets.NAME]`), and the table of target `name` (or the
    default-target, or the only one), `${ENV}` expanded; the option table checks its keys."""
    try:
        text = read_text(path, limit=CONFIG_LIMIT)
        raw = tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist: check --config") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}; check --config") from None
    except UnreadableFile as exc:
        raise ConfigError(f"config file {exc}: {_CONFIG_FIX[exc.kind]}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise _too_deep(path) from None
    targets = raw.get("targets")
    if not isinstance(targets, dict) or not targets:
        raise ConfigError(f"config file {path} has no [targets.NAME] table; see README 'Config file'")
    unknown_top = set(raw) - {"targets", "default-target"}
    if unknown_top:
        raise ConfigError(f"config file {path}: unknown top-level key {sorted(unknown_top)[0]!r}; "
                          "known: targets, default-target")
    chosen = name or raw.get("default-target")
    if chosen is not None and not isinstance(chosen, str):
        raise ConfigError(f"config file {path}: default-target must be the name of one target (a string), "
                          f"got {chosen!r}")
    if chosen is None:
        if len(targets) > 1:
            raise ConfigError(f"config file {path} has several targets ({', '.join(sorted(targets))}): "
                              "pick one with --target NAME or set default-target")
        chosen = next(iter(targets))
    if chosen not in targets:
        hint = difflib.get_close_matches(str(chosen), list(targets), n=1)
        raise ConfigError(f"config file {path} has no target {chosen!r}"
                          + (f"; did you mean {hint[0]!r}?" if hint else f"; targets: {', '.join(sorted(targets))}"))
    table = targets[chosen]
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: targets.{chosen} must be a table")
    where = f"{path} [targets.{chosen}]"
    try:
        return where, {key: _expand(value, where) for key, value in table.items()}
    except RecursionError:
        raise _too_deep(path) from None


def _too_deep(path: Path) -> ConfigError:
    return ConfigError(f"config file {path} {NESTED_TOO_DEEPLY}: give --config a TOML file of targets "
                       "(README 'Config file')")
