"""Flags shared by the commands that talk to a target, and their translation into typed config."""

from __future__ import annotations

import argparse
import re
import secrets
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from coupon_harness.config import (
    TargetConfig,
    check_credentials,
    check_max_examples,
    check_request_timeout,
    check_seed,
    from_env,
    load_target,
    merge,
    parse_customer_ids,
    parse_int_list,
    parse_user,
)
from coupon_harness.contract.expectations import Expectations
from coupon_harness.errors import ConfigError
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.safety import AmbiguousTarget, target_host
from coupon_harness.transport.auth import REDACTED, Credentials

__all__ = ["add_target_flags", "refuse_lost_values", "settings_from_args", "split_userinfo", "target_from_args",
           "userinfo_as_credentials"]

#: URL userinfo (`http://user:password@host`): up to the last @ before the path, as URL parsers read it.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")

#: Flags that may be repeated (argparse's action="append"): an empty list is their default.
_REPEATABLE = frozenset({"slo", "load_slo"})


def refuse_lost_values(args: argparse.Namespace) -> None:
    """`--flag=--` reaches the handler as [] (argparse of Python < 3.12 reads the value '--' as the end of
    the options): say so in one line instead of failing later on a list where a value should be."""
    for name, value in vars(args).items():
        if not isinstance(value, list):
            continue
        if any(isinstance(item, list) for item in value) or (not value and name not in _REPEATABLE):
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} got '--' as its value, which marks the end of the options: give {flag} "
                              "a value")


def add_target_flags(parser: argparse.ArgumentParser, *, base_url_required: bool) -> None:
    target = parser.add_argument_group("target")
    target.add_argument("--base-url", metavar="URL", help="the target, e.g. https://staging.example.com"
                        + ("" if base_url_required else " (default: a sandbox started for the run)"))
    target.add_argument("--config", metavar="FILE", type=Path, help="TOML file of named targets ([targets.NAME])")
    target.add_argument("--target", metavar="NAME", help="which target of --config (default: its default-target)")
    auth = parser.add_argument_group("credentials (also COUPON_HARNESS_USER, _TOKEN, _OAUTH_KEY, _OAUTH_SECRET)")
    auth.add_argument("--user", metavar="USER:PASSWORD", help="HTTP Basic, sent as given (like curl -u)")
    auth.add_argument("--md5-password", action="store_true", default=None,
                      help="hash the password first (md5 hex), as Capillary till credentials expect")
    auth.add_argument("--oauth-key", metavar="KEY", help="fetch (and refresh) a token from /v3/oauth/token/generate")
    auth.add_argument("--oauth-secret", metavar="SECRET")
    auth.add_argument("--token", metavar="TOKEN", help="a ready X-CAP-API-OAUTH-TOKEN")
    known = parser.add_argument_group("what the target holds")
    known.add_argument("--series-ids", metavar="101,102", help="series that exist and issue coupons on the target "
                       "(an id given twice counts once)")
    known.add_argument("--invalid-series-ids", metavar="999", help="series the target must refuse (an id given "
                       "twice counts once)")
    known.add_argument("--generic-series-ids", metavar="104", help="GENERIC-code series (one code for everyone; an "
                       "id given twice counts once)")
    known.add_argument("--customer-ids", metavar="c1,c2", help="customers known to the target (default: fresh ids); "
                       "an id given twice counts once")


def target_from_args(args: argparse.Namespace) -> TargetConfig:
    """File, then environment, then flags."""
    refuse_lost_values(args)
    layers = []
    if args.config is not None:
        layers.append(load_target(args.config, args.target))
    elif args.target is not None:
        raise ConfigError("--target names a target of --config FILE: give --config too")
    layers.append(from_env())
    flags: dict[str, object] = {}
    if args.base_url is not None:
        flags["base_url"] = args.base_url
    if args.user is not None:
        flags["user"], flags["password"] = parse_user(args.user)
    for name in ("md5_password", "oauth_key", "oauth_secret", "token"):
        if getattr(args, name) is not None:
            flags[name] = getattr(args, name)
    check_credentials(flags, "--{flag}")
    for name in ("series_ids", "invalid_series_ids", "generic_series_ids"):
        if getattr(args, name) is not None:
            flags[name] = parse_int_list(getattr(args, name), "--" + name.replace("_", "-"))
    if args.customer_ids is not None:
        flags["customer_ids"] = parse_customer_ids(args.customer_ids, "--customer-ids")
    checks = {"max_examples": check_max_examples, "seed": check_seed, "request_timeout": check_request_timeout}
    for name in ("max_examples", "seed", "request_timeout", "report_dir"):
        value = getattr(args, name, None)
        if value is not None:
            flags[name] = str(value) if name == "report_dir" else checks[name](value, "--" + name.replace("_", "-"))
    layers.append(TargetConfig(**flags))  # type: ignore[arg-type]
    return userinfo_as_credentials(merge(*layers))


def split_userinfo(url: str) -> tuple[str, str | None]:
    """(the URL without its userinfo, the userinfo as written or None): `http://u:p@host/x` gives
    (`http://host/x`, `u:p`). A URL without `scheme://` is returned as is."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url, None
    end = min((index for index in (rest.find(char) for char in "/?#") if index >= 0), default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")
    if not at:
        return url, None
    return f"{scheme}://{host}{rest[end:]}", userinfo


def _shown_url(url: str) -> str:
    """The URL for a message: userinfo redacted, then cut to 80 characters."""
    shown = _USERINFO.sub(rf"\1{REDACTED}@", url)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def userinfo_as_credentials(target: TargetConfig) -> TargetConfig:
    """Credentials in the base URL (`http://USER:PASSWORD@host`, percent-encoded as URLs need) are taken out
    of it: the URL every later step (messages, reports, the load process) sees never holds them. They
    authenticate the run as `--user USER:PASSWORD` would, unless credentials are given another way (flag,
    environment, config file), which win, as curl's -u wins over a URL's. A URL whose host the clients could
    read two ways (`https://a.example\\@b.example`) is refused: its "userinfo" may be a host."""
    if not target.base_url:
        return target
    bare, userinfo = split_userinfo(target.base_url)
    if userinfo is None:
        return target
    shown = _shown_url(target.base_url)
    try:
        same = target_host(target.base_url) == target_host(bare)
    except AmbiguousTarget:
        same = False
    if not same:
        raise ConfigError(f"base URL {shown!r} holds an '@' and reads as more than one host (a backslash, "
                          "whitespace or an invisible character?): write it plainly, credentials in --user")
    if target.user is not None or target.token is not None or target.oauth_key is not None:
        return replace(target, base_url=bare)
    raw_user, colon, raw_password = userinfo.partition(":")
    try:
        user, password = unquote(raw_user, errors="strict"), unquote(raw_password, errors="strict")
    except UnicodeDecodeError:
        raise ConfigError(f"the credentials in base URL {shown!r} are not UTF-8 once percent-decoded: encode "
                          "them as UTF-8 (%C3%B6 for ö) or give --user USER:PASSWORD") from None
    if not user:
        raise ConfigError(f"base URL {shown!r} has credentials without a user before '@': write "
                          "http://USER:PASSWORD@host, or give --user USER:PASSWORD")
    values: dict[str, object] = {"user": user, "password": password if colon else None}
    check_credentials(values, "the credentials in the base URL ({flag})")
    return replace(target, base_url=bare, user=user, password=password if colon else None)


def check_base_url(url: str | None) -> str:
    """The target as given, less a trailing '/': an http(s) URL with a host, a valid port, maybe a path prefix
    (kept as is), and neither a query string nor a fragment (the harness appends the endpoint's path)."""
    if not url:
        raise ConfigError("no target: give --base-url URL (or base-url in --config, or COUPON_HARNESS_BASE_URL)")
    shown = _shown_url(url)
    example = "give one like http://127.0.0.1:8080 or https://staging.example.com/prefix"
    if any(char.isspace() or not char.isprintable() for char in url):
        raise ConfigError(f"--base-url {shown!r} holds a space or a control character: {example}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        if "port" in str(exc).lower():
            raise ConfigError(f"--base-url {shown!r} has no valid port (1-65535): {example}") from None
        raise ConfigError(f"--base-url {shown!r} is not a valid URL ({exc}): {example}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"--base-url {shown!r} is not an http(s) URL: {example}")
    if not parts.hostname:
        raise ConfigError(f"--base-url {shown!r} has no host: {example}")
    if port == 0:
        raise ConfigError(f"--base-url {shown!r} has no valid port (1-65535): {example}")
    if parts.query or "?" in url:
        raise ConfigError(f"--base-url {shown!r} has a query string: drop the '?...' part ({example})")
    if "#" in url:
        raise ConfigError(f"--base-url {shown!r} has a fragment: drop the '#...' part ({example})")
    return url.rstrip("/")


def settings_from_args(target: TargetConfig) -> ContractSettings:
    if target.oauth_key is not None and target.oauth_secret is None:
        raise ConfigError("--oauth-key needs --oauth-secret (or COUPON_HARNESS_OAUTH_SECRET)")
    credentials = Credentials(user=target.user, password=target.password, md5_password=bool(target.md5_password),
                              oauth_key=target.oauth_key, oauth_secret=target.oauth_secret, token=target.token)
    valid = frozenset(target.series_ids or ())
    invalid = frozenset(target.invalid_series_ids or ())
    if valid & invalid:
        raise ConfigError(f"series {sorted(valid & invalid)[0]} is in both --series-ids and --invalid-series-ids")
    # Checked where they were parsed; again here for callers that build a TargetConfig themselves.
    max_examples = check_max_examples(target.max_examples if target.max_examples is not None else 100)
    timeout = check_request_timeout(target.request_timeout if target.request_timeout is not None else 5.0)
    seed = check_seed(target.seed) if target.seed is not None else secrets.randbelow(2**31)
    return ContractSettings(
        base_url=check_base_url(target.base_url),
        credentials=credentials,
        expectations=Expectations(valid_series=valid, invalid_series=invalid,
                                  generic_series=frozenset(target.generic_series_ids or ())),
        customer_ids=target.customer_ids or (),
        max_examples=max_examples,
        seed=seed,
        request_timeout=timeout,
        report_dir=Path(target.report_dir) if target.report_dir else None,
    )
