"""Named targets from a TOML file and the environment, merged under the command-line flags.

Precedence: flags > environment (COUPON_HARNESS_*) > config file target. `${NAME}` in a file value
is replaced by the environment variable NAME; a missing one is an error that names it.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from coupon_harness.errors import ConfigError

__all__ = [
    "ENV_PREFIX",
    "TargetConfig",
    "from_env",
    "load_target",
    "merge",
    "parse_customer_ids",
    "parse_int_list",
    "parse_user",
]

ENV_PREFIX = "COUPON_HARNESS_"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class TargetConfig:
    """Everything that can describe a target; None means "not said here"."""

    base_url: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    md5_password: bool | None = None
    oauth_key: str | None = None
    oauth_secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    series_ids: tuple[int, ...] | None = None
    invalid_series_ids: tuple[int, ...] | None = None
    generic_series_ids: tuple[int, ...] | None = None
    customer_ids: tuple[str, ...] | None = None
    max_examples: int | None = None
    seed: int | None = None
    request_timeout: float | None = None
    report_dir: str | None = None


_FILE_KEYS = {f.name.replace("_", "-"): f.name for f in fields(TargetConfig)}


def parse_user(value: str) -> tuple[str, str | None]:
    """USER:PASSWORD as curl -u takes it (the password may contain ':')."""
    user, sep, password = value.partition(":")
    if not user:
        raise ConfigError(f"bad user {value.split(':', maxsplit=1)[0]!r}: give USER:PASSWORD")
    return user, password if sep else None


def parse_int_list(value: str | list[Any], what: str) -> tuple[int, ...]:
    items = value if isinstance(value, list) else [part for part in str(value).split(",") if part.strip()]
    out = []
    for item in items:
        try:
            number = int(str(item).strip())
        except ValueError:
            raise ConfigError(f"{what}: {item!r} is not an integer; give a comma-separated list like 101,102") from None
        if not -(2**31) <= number < 2**31:
            raise ConfigError(f"{what}: {number} is outside int32")
        out.append(number)
    return tuple(out)


def parse_customer_ids(value: str | list[Any], what: str) -> tuple[str, ...]:
    """Comma-separated (or a TOML list) customer ids; each must be text a JSON body can carry as is."""
    items = value if isinstance(value, list) else str(value).split(",")
    out = tuple(str(item).strip() for item in items if str(item).strip())
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


def _coerce(name: str, value: Any, where: str) -> Any:
    try:
        if name in ("series_ids", "invalid_series_ids", "generic_series_ids"):
            return parse_int_list(value, f"{where} {name.replace('_', '-')}")
        if name == "customer_ids":
            return parse_customer_ids(value, f"{where} customer-ids")
        if name in ("max_examples", "seed"):
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise ValueError
            return int(value)
        if name == "request_timeout":
            return float(value)
        if name == "md5_password":
            if not isinstance(value, bool):
                raise ValueError
            return value
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {name.replace('_', '-')} has a value of the wrong type: {value!r}") from None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {name.replace('_', '-')} must be a string, got {value!r}")
    return value


def load_target(path: Path, name: str | None) -> TargetConfig:
    """The target `name` (or the file's default-target, or its only target) of a TOML config file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist: check --config") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    targets = raw.get("targets")
    if not isinstance(targets, dict) or not targets:
        raise ConfigError(f"config file {path} has no [targets.NAME] table; see README 'Config file'")
    unknown_top = set(raw) - {"targets", "default-target"}
    if unknown_top:
        raise ConfigError(f"config file {path}: unknown top-level key {sorted(unknown_top)[0]!r}; "
                          "known: targets, default-target")
    chosen = name or raw.get("default-target")
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
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _FILE_KEYS:
            hint = difflib.get_close_matches(key, list(_FILE_KEYS), n=1)
            raise ConfigError(f"{where}: unknown key {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""))
        attr = _FILE_KEYS[key]
        values[attr] = _coerce(attr, _expand(value, where), where)
    if "user" in values and "password" not in values and ":" in values["user"]:
        values["user"], values["password"] = parse_user(values["user"])
    return TargetConfig(**values)


def from_env(environ: dict[str, str] | None = None) -> TargetConfig:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if env.get(ENV_PREFIX + "BASE_URL"):
        values["base_url"] = env[ENV_PREFIX + "BASE_URL"]
    if env.get(ENV_PREFIX + "USER"):
        values["user"], values["password"] = parse_user(env[ENV_PREFIX + "USER"])
    if env.get(ENV_PREFIX + "PASSWORD"):
        values["password"] = env[ENV_PREFIX + "PASSWORD"]
    for name in ("token", "oauth_key", "oauth_secret"):
        if env.get(ENV_PREFIX + name.upper()):
            values[name] = env[ENV_PREFIX + name.upper()]
    return TargetConfig(**values)


def merge(*layers: TargetConfig) -> TargetConfig:
    """Later layers win where they say something (not None)."""
    merged = layers[0]
    for layer in layers[1:]:
        merged = replace(merged, **{f.name: getattr(layer, f.name) for f in fields(TargetConfig)
                                    if getattr(layer, f.name) is not None})
    return merged
