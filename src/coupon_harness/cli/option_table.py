"""The option table: every option of every way in, once (`Option`: name, scopes, parser, default, help).

Derived from the rows: the flag `--NAME` (`--harness-NAME` under pytest), the variable `COUPON_HARNESS_<NAME>`,
the config-file key `NAME` of the chosen `[targets.X]`; the argparse flags (`add_options`), the pytest options,
the values from flags, environment and file (`resolve`) and the docs' table of options (`markdown_table`).
Precedence, option by option: flag > variable > config-file target > default; a base URL from a flag or variable
that is not the file target's own drops what that target says about its server. `-v`/`-q` (scope `EVERY`) are on
every command and read first (`verbosity`), so they have no config key. Cheap to import (every pytest run does).
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from coupon_harness.config import (
    ENV_PREFIX,
    check_credentials,
    check_int,
    check_number,
    parse_customer_ids,
    parse_int_list,
    parse_user,
    read_target_table,
)
from coupon_harness.errors import ConfigError
from coupon_harness.input_files import NESTED_TOO_DEEPLY
from coupon_harness.results.load import COMPARE_KEYS, MaxRegression
from coupon_harness.results.passes import PASS_TABLE, PASSES
from coupon_harness.results.request import header_variable
from coupon_harness.runners.load.settings import SHAPES, Slo, parse_duration, parse_slo

__all__ = ["CAPACITY", "CONTRACT", "CONTRACT_WORKERS_LOOPBACK", "CONTRACT_WORKERS_REMOTE", "DIFF", "EPILOG", "EVERY",
           "LOAD", "LOCUST_OWNS", "OPTIONS", "PYTEST", "RUN", "SCOPES", "Option", "Resolved", "Sources", "StoreOnce",
           "add_command", "add_options", "add_verbosity", "env_var", "given_twice", "is_secret", "markdown_table",
           "option", "options_of", "resolve", "sources_from_namespace", "verbosity"]

CONTRACT, LOAD, RUN, PYTEST, CAPACITY, DIFF = "contract", "load", "run", "pytest", "capacity", "diff"
SCOPES = (CONTRACT, LOAD, RUN, CAPACITY, DIFF, PYTEST)
#: The options of every command of the CLI (not a scope of `resolve`: `verbosity` reads them first).
EVERY = "every command"

#: Bounds that keep a typo from becoming a run that never ends or eats the machine.
MAX_REQUEST_TIMEOUT_S = 3600.0
MAX_EXAMPLES = 100_000
MAX_SEED = 2**64 - 1  # any seed a report names (they are drawn below 2**31)
MAX_USERS = 100_000
MAX_RATE = 100_000.0  # requests (or users started) a second
MAX_WORKERS = 256
#: A contract run's --workers when not given (or 0): one at a time against a loopback target (a few-millisecond
#: answer gains nothing from threads), four against a remote one (a 150 ms staging target runs ~4x faster).
CONTRACT_WORKERS_LOOPBACK = 1
CONTRACT_WORKERS_REMOTE = 4
#: Series a load request carries at most: the sandbox's default max_batch, the classics' resource-limit probe.
MAX_BATCH = 1000
MAX_COUPONS_LIMIT = 2**63 - 1
#: safety.DEFAULT_MAX_COUPONS as the help shows it (safety is too slow to import here; a test holds them equal).
DEFAULT_MAX_COUPONS_SHOWN = "10,000"
#: The load stage of `run` is a short check, not a load test.
MAX_RUN_LOAD_S = 30.0

Parser = Callable[[Any, str], Any]


# --- parsers: (raw value, the name of where it came from) -> the checked value ----------------------

def _shown(value: Any) -> str:
    """A value of the wrong type for a message: cut, and never a RecursionError (a list nested 900 deep)."""
    try:
        text = repr(value)
    except RecursionError:
        text = f"a {type(value).__name__} nested too deeply"
    return text if len(text) <= 60 else text[:57] + "..."


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a string, got {_shown(value)}")
    return value


_HOST = re.compile(r"[A-Za-z0-9._%:\[\]-]{1,253}")


def _host(value: Any, what: str) -> str:
    """A host name or an IP address as a socket takes it; not a URL (a worker would wait for it forever)."""
    text = _text(value, what)
    if not _HOST.fullmatch(text):
        raise ConfigError(f"{what} {text[:60]!r} is not a host name or an IP address: give one like 127.0.0.1 or "
                          "master.example.com (no scheme, no port)")
    return text


def _check_secret(name: str, value: str | None, what: str) -> None:
    check_credentials({name: value}, what.replace("{", "{{").replace("}", "}}"))  # `what` is no format string


def _secret(name: str) -> Parser:
    def parse(value: Any, what: str) -> str:
        _check_secret(name, _text(value, what), what)
        return str(value)
    return parse


def _user(value: Any, what: str) -> tuple[str, str | None]:
    text = _text(value, what)
    if not text.partition(":")[0]:
        raise ConfigError(f"{what} has no user before ':': give USER:PASSWORD")
    user, password = parse_user(text)
    _check_secret("user", user, what)
    _check_secret("password", password, what + " (its password)")
    return user, password


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def _bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(f"{what} must be true or false (1/0, yes/no), got {str(value)[:40]!r}")


def _int(low: int, high: int) -> Parser:
    return lambda value, what: check_int(value, what, low=low, high=high)


def _number(low: float, high: float, *, low_open: bool = False, unit: str = "") -> Parser:
    return lambda value, what: check_number(value, what, low=low, high=high, low_open=low_open, unit=unit)


def _path(value: Any, what: str) -> Path:
    text = _text(value, what)
    if not text:
        raise ConfigError(f"{what} is empty: give a path")
    return Path(text)


def _duration(*, positive: bool, at_most: float | None = None, extra: str = "") -> Parser:
    def parse(value: Any, what: str) -> float:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ConfigError(f"{what} must be a duration like 30s, got {value!r}")
        seconds = parse_duration(str(value), what)
        if positive and seconds <= 0:
            raise ConfigError(f"{what} {str(value)[:40]!r} must be longer than 0, e.g. 30s")
        if at_most is not None and seconds > at_most:
            raise ConfigError(f"{what} must lie between 0 and {at_most:g} seconds{extra}")
        return seconds
    return parse


def _listed(value: Any, what: str, example: str, form: str) -> Iterator[str]:
    """The items of a list option, stripped, blanks left out: a repeated flag or a TOML list, or one
    comma-separated text (a variable). `example`: the list as TOML writes it; `form`: what one item is."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ConfigError(f"{what} must be a list like {example}, got {value!r}")
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"{what}: {item!r} is not {form}")
        if item.strip():
            yield item.strip()


def _slos(value: Any, what: str) -> tuple[Slo, ...]:
    items = _listed(value, what, '["p95=300ms", "error-rate=0.01"]', "KEY=VALUE like p95=300ms")
    return tuple(parse_slo(item, what) for item in items)


_LATENCY_COMPARE = ("p50", "p90", "p95", "p99", "max")


def parse_max_regression(text: str, what: str) -> MaxRegression:
    """`p95=10%` (relative), `p95=20ms` (milliseconds more), `throughput=5%` (a drop), `error-rate=0.5%` or
    `error-rate=0.005` (a difference of fractions: half a percentage point more)."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip().lower()
    shown = text[:60]
    if not sep or key not in COMPARE_KEYS:
        raise ConfigError(f"{what} {shown!r}: write KEY=LIMIT with KEY one of {', '.join(COMPARE_KEYS)}, "
                          "e.g. p95=10%")
    unit = "%" if raw.endswith("%") else "ms" if raw.endswith("ms") else ""
    try:
        number = float(raw[: len(raw) - len(unit)] if unit else raw)
    except ValueError:
        raise ConfigError(f"{what} {shown!r}: {raw!r} is not a number like 10%") from None
    if not number >= 0 or number == float("inf"):
        raise ConfigError(f"{what} {shown!r}: the limit must be a finite number of at least 0")
    if key in _LATENCY_COMPARE:
        if not unit:
            raise ConfigError(f"{what} {shown!r}: give a latency limit in % (relative) or ms, e.g. {key}=10%")
        return MaxRegression(key, number / 100 if unit == "%" else number, relative=unit == "%")
    if key == "throughput":
        if unit != "%" or number >= 100:
            raise ConfigError(f"{what} {shown!r}: give the throughput drop allowed in % below 100, e.g. "
                              "throughput=5%")
        return MaxRegression(key, number / 100, relative=True)
    if unit == "ms":
        raise ConfigError(f"{what} {shown!r}: {key} is a ratio: write {key}=0.5% or {key}=0.005")
    limit = number / 100 if unit == "%" else number
    if limit > 1:
        raise ConfigError(f"{what} {shown!r}: {key} grows by at most 1 (100%)")
    return MaxRegression(key, limit, relative=False)


def _max_regressions(value: Any, what: str) -> tuple[MaxRegression, ...]:
    """One limit per key: the last one of a key wins, as flags usually do."""
    out: dict[str, MaxRegression] = {}
    for item in _listed(value, what, '["p95=10%", "throughput=5%"]', "KEY=LIMIT like p95=10%"):
        limit = parse_max_regression(item, what)
        out[limit.key] = limit
    return tuple(out.values())


def _pairs(value: Any, what: str, example: str) -> list[tuple[str, str]]:
    """`A=B,C=D` (a variable, a flag, a TOML string) or a TOML list of "A=B" strings."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ConfigError(f"{what} must be BASE=AGAINST pairs like {example}, got {str(value)[:40]!r}")
    out = []
    for item in items:
        if not item.strip():
            continue
        left, sep, right = item.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise ConfigError(f"{what}: {item.strip()[:40]!r} is not BASE=AGAINST; write pairs like {example}")
        out.append((left.strip(), right.strip()))
    return out


def _one_to_one(pairs: Sequence[tuple[Any, Any]], what: str) -> None:
    seen: dict[Any, Any] = {}
    for left, right in pairs:
        if left in seen and seen[left] != right:
            raise ConfigError(f"{what}: {left} is mapped twice ({seen[left]} and {right}); map each id once")
        seen[left] = right
    targets = list(dict(pairs).values())
    double = next((right for right in targets if targets.count(right) > 1), None)
    if double is not None:
        raise ConfigError(f"{what}: two ids map to {double}; each id needs its own counterpart")


def _id_map(value: Any, what: str) -> dict[int, int]:
    pairs = []
    for left, right in _pairs(value, what, "101=5001,102=5002"):
        ids = parse_int_list(f"{left},{right}", what)
        pairs.append((ids[0], ids[-1]))
    _one_to_one(pairs, what)
    return dict(pairs)


def _customer_map(value: Any, what: str) -> dict[str, str]:
    pairs = _pairs(value, what, "c1=d1,c2=d2")
    for left, right in pairs:
        parse_customer_ids([left, right], what)
    _one_to_one(pairs, what)
    return dict(pairs)


def _shape(value: Any, what: str) -> str:
    if value not in SHAPES:
        raise ConfigError(f"{what} {str(value)[:40]!r} is not a shape: choose one of {', '.join(SHAPES)}")
    return str(value)


def _passes(value: Any, what: str) -> tuple[str, ...]:
    """Pass names, comma-separated (or a list in a config file), run in the order of PASSES whatever the order
    given: a later pass relies on what an earlier one settled (the classics come first)."""
    items = value if isinstance(value, list) else _text(value, what).split(",")
    names: set[Any] = set()
    for item in items:
        name = item.strip() if isinstance(item, str) else item
        if name == "":
            continue
        if name not in PASSES:
            close = difflib.get_close_matches(str(name), PASSES, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"{what}: {_shown(name)} is not a pass{hint}: choose from {', '.join(PASSES)}")
        names.add(name)
    if not names:
        raise ConfigError(f"{what} is empty: give one or more of {', '.join(PASSES)}")
    return tuple(name for name in PASSES if name in names)


#: RFC 9110 field-name: a token.
_FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}")
#: Headers the harness sets itself: an extra header never replaces them (the credentials have their own options;
#: the framing and the body's type are the request's own).
_OWN_HEADERS = {"authorization": "--user or --token", "x-cap-api-oauth-token": "--token",
                "content-type": "", "content-length": "", "transfer-encoding": "", "host": "", "connection": ""}


def _headers(value: Any, what: str) -> tuple[tuple[str, str], ...]:
    """`Name: value` headers, as curl -H writes them: a repeated flag or a TOML list, or (a variable) one a line
    (a header value may hold a comma)."""
    items = value.splitlines() if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ConfigError(f"{what} must be a list like [\"X-Api-Key: abc\"], got {_shown(type(value).__name__)}")
    out: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"{what}: {_shown(type(item).__name__)} is not a header like 'X-Api-Key: abc'")
        if not item.strip():
            continue
        name, colon, text = item.partition(":")
        name, text = name.strip(), text.strip()
        if not colon or not _FIELD_NAME.fullmatch(name):
            raise ConfigError(f"{what}: {name[:40]!r} is not 'Name: value' with a header name (letters, digits, "
                              "'-'), e.g. -H 'X-Api-Key: abc'")
        if not text:  # a pasted replay line's -H "Name: ${COUPON_HARNESS_HEADER_NAME}" whose variable is not set
            variable = header_variable(name)
            raise ConfigError(f"{what}: {name} has no value: a variable the command line gives it (\"${variable}\"?) "
                              f"is not set; set it (export {variable}=...), or give the header a value")
        if any(char in text for char in "\r\n\0"):
            raise ConfigError(f"{what}: the value of {name} holds a line break or NUL: give it on one line")
        fix = _OWN_HEADERS.get(name.lower())
        if fix is not None:
            raise ConfigError(f"{what}: {name} is a header the harness sets itself"
                              + (f"; give the credentials with {fix}" if fix else ""))
        out.append((name, text))
    return tuple(out)


def _rule_ids(value: Any, what: str) -> tuple[str, ...]:
    """Rule ids; the settings builder checks them against the catalog (too slow to import here)."""
    return tuple(dict.fromkeys(_listed(value, what, '["unique-codes", "status-200"]', "a rule id like unique-codes")))


def _batch_size(value: Any, what: str) -> tuple[int, int]:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    low, sep, high = text.partition("-")
    shown = text[:40] if text else repr(value)[:40]
    try:
        if sep and not high.strip():
            raise ValueError
        batch_min, batch_max = int(low), int(high or low)
    except ValueError:
        raise ConfigError(f"{what} {shown!r}: write MIN-MAX like 1-5, or one number") from None
    if not 1 <= batch_min <= batch_max:
        raise ConfigError(f"{what} {shown!r}: need 1 <= MIN <= MAX")
    if batch_max > MAX_BATCH:
        raise ConfigError(f"{what} {shown!r}: at most {MAX_BATCH:,} series a request (the sandbox's max_batch; the "
                          f"contract counts {MAX_BATCH:,} as a resource limit a target may refuse): give MIN-MAX like "
                          "1-5")
    return batch_min, batch_max


# --- the table -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Option:
    """One option of the harness. `scopes`: the commands (and pytest) that take it."""

    name: str
    scopes: frozenset[str]
    parse: Parser
    help: str
    metavar: str | None = None
    default: str | None = None  # as the help shows it (None: none, or said in `help`)
    repeatable: bool = False  # each flag adds an item
    in_file: bool = True  # a config-file key (not the options that choose the file and its target)
    help_by_scope: Mapping[str, str] = field(default_factory=dict)  # where a scope's help differs
    group: str = "run"
    secret: bool = False  # the one registry of secrets: the crash guard, every run's Redactor, the messages
    short: str | None = None  # a one-letter flag beside `--NAME`
    aliases: tuple[str, ...] = ()  # other long spellings of the flag (`--auth`); variable and key: `name`'s
    count: bool = False  # the flag counts its repetitions (`-vv`: 2); the variable takes the number
    negatable: bool = False  # both `--NAME` and `--no-NAME`

    @property
    def flag_only(self) -> bool:
        """A true-or-false option: its flag takes no value (store_true); the variable and the key take true/false."""
        return self.parse is _bool

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def env(self) -> str:
        return env_var(self.name)

    def flag(self, prefix: str = "--") -> str:
        return prefix + self.name

    def flags(self, *, short: bool = True) -> tuple[str, ...]:
        """Every spelling of its flag; `short=False`: the long ones only (plain Locust owns most short flags)."""
        negated = ("--no-" + self.name,) if self.negatable else ()
        return ((self.short,) if self.short and short else ()) + (self.flag(),) + self.aliases + negated

    def help_for(self, scope: str) -> str:
        text = self.help_by_scope.get(scope, self.help)
        return f"{text} (default: {self.default})" if self.default is not None else text


def env_var(name: str) -> str:
    return ENV_PREFIX + name.upper().replace("-", "_")


def _report_dir_help(kind: str, holding: str = "") -> str:
    return (f"where the reports go (default reports/{kind}<time>-<random>/{holding}; one that already holds reports "
            "needs --overwrite)")


def _table(*rows: str | Option) -> tuple[Option, ...]:
    """The options, each under the help's heading (its `group`): the last string before it."""
    group, options = "run", []
    for row in rows:
        if isinstance(row, str):
            group = row
        else:
            options.append(replace(row, group=group))
    return tuple(options)


_ALL, _CLI = frozenset(SCOPES), frozenset(SCOPES) - {PYTEST}
_TARGETED = frozenset({CONTRACT, RUN, PYTEST})
_LOAD_AND_CAPACITY = frozenset({LOAD, CAPACITY})  # each step of the capacity search is a load run
_LOAD_ONLY, _CAPACITY_ONLY, _RUN_ONLY, _DIFF_ONLY = (frozenset({scope}) for scope in (LOAD, CAPACITY, RUN, DIFF))

OPTIONS: tuple[Option, ...] = _table(
    "target",
    Option("base-url", _ALL, _text, "the target, e.g. https://staging.example.com", "URL",
           help_by_scope={RUN: "the target, e.g. https://staging.example.com (default: a sandbox started for the "
                          "run)",
                          PYTEST: "the target, e.g. https://staging.example.com; the contract suite runs only when "
                          "a target is given"}),
    Option("config", _ALL, _path, "TOML file of named targets ([targets.NAME]); every option below is also a key "
           "of a target", "FILE", in_file=False),
    Option("target", _ALL, _text, "which target of --config (default: the file's default-target, or its only "
           "target)", "NAME", in_file=False),
    "credentials",
    Option("user", _ALL, _user, "HTTP Basic USER:PASSWORD, sent as given (like curl -u; -a/--auth as Schemathesis "
           "spells it)", "USER:PASSWORD", secret=True, short="-a", aliases=("--auth",)),
    Option("password", _ALL, _secret("password"), "the password of --user, when it is not given there",
           "PASSWORD", secret=True),
    Option("md5-password", _ALL, _bool, "hash the password first (md5 hex), as Capillary till credentials expect"),
    Option("oauth-key", _ALL, _secret("oauth_key"), "fetch (and refresh) a token from /v3/oauth/token/generate "
           "with this key and --oauth-secret", "KEY", secret=True),
    Option("oauth-secret", _ALL, _secret("oauth_secret"), "the secret of --oauth-key", "SECRET", secret=True),
    Option("token", _ALL, _secret("token"), "a ready X-CAP-API-OAUTH-TOKEN", "TOKEN", secret=True),
    Option("header", _ALL, _headers, "an extra header 'Name: value' sent on every request to the target (a gateway "
           "key, a tenant id), as curl -H writes it; repeatable; its value is redacted from every report like a "
           "credential (the variable takes one a line, the key a list)", "'NAME: VALUE'", repeatable=True,
           secret=True, short="-H"),
    "what the target holds",
    Option("series-ids", _ALL, parse_int_list, "series that exist and issue coupons on the target (an id given "
           "twice counts once)", "101,102",
           help_by_scope={LOAD: "series that exist and issue coupons on the target (default: the sandbox's, when "
                          "the target is a sandbox; an id given twice counts once)"}),
    Option("invalid-series-ids", _ALL, parse_int_list, "series the target must refuse (an id given twice counts "
           "once)", "999"),
    Option("generic-series-ids", _ALL, parse_int_list, "GENERIC-code series: one code for everyone, exempt from "
           "unique-codes (an id given twice counts once)", "104"),
    Option("customer-ids", _ALL, parse_customer_ids, "customers known to the target (default: fresh ids); an id "
           "given twice counts once", "c1,c2"),
    "run",  # the contract run
    Option("max-examples", _TARGETED | _DIFF_ONLY, _int(1, MAX_EXAMPLES), "examples per generated pass", "N",
           default="100", short="-n"),
    # One name, two ways of running side by side: the load runner's processes, the contract run's sending threads.
    Option("workers", _LOAD_AND_CAPACITY | _TARGETED, _int(0, MAX_WORKERS),
           f"send the deterministic passes' requests (and the scenarios') N at a time, the same findings for any N "
           f"(default: {CONTRACT_WORKERS_LOOPBACK} against a loopback target, {CONTRACT_WORKERS_REMOTE} otherwise; 0: "
           "that default)", "N",
           help_by_scope={LOAD: "N local worker processes under one master (default: 0)",
                          CAPACITY: "N local worker processes under one master (default: 0)",
                          RUN: f"the contract stage sends its deterministic passes' requests N at a time, the same "
                               f"findings for any N (default: {CONTRACT_WORKERS_LOOPBACK} against a loopback target, "
                               f"{CONTRACT_WORKERS_REMOTE} otherwise; the load stage keeps one process)"}),
    Option("max-rps", _TARGETED, _number(0, MAX_RATE, low_open=True, unit=" requests a second"),
           "at most R requests a second over the whole contract run, so a shared staging target is not hammered "
           "(default: no limit)", "R"),
    Option("passes", _TARGETED, _passes, "the passes to run, comma-separated, e.g. classics,auth, run in this "
           f"order: {'; '.join(f'{p.name} ({p.help})' for p in PASS_TABLE)}; default: all of them", "NAME,..."),
    Option("rules", _TARGETED | _DIFF_ONLY, _rule_ids, "only these rules, comma-separated (ids as the report and "
           "docs/rules.md name them); every other rule is reported 'not run', never 'passed' (default: every rule)",
           "ID,..."),
    Option("exclude-rules", _TARGETED | _DIFF_ONLY, _rule_ids, "leave these rules out, comma-separated: reported "
           "'not run' with the reason, never 'passed'; a violation of one fails nothing", "ID,..."),
    Option("seed", _TARGETED | _DIFF_ONLY, _int(0, MAX_SEED), "replay a run: the seed a report names (default: a "
           "random one)", "N", help_by_scope={PYTEST: "replay a run: the seed a report names (default 1: the same "
                                              "examples every run)"}),
    Option("request-timeout", _ALL, _number(0, MAX_REQUEST_TIMEOUT_S, low_open=True, unit=" seconds"),
           "seconds before a request counts as hung (default 5)", "S",
           help_by_scope={LOAD: "seconds before a request counts as failed (default 10)",
                          RUN: "seconds before a request counts as hung (default 5; the load stage: 10)"}),
    "TLS",
    Option("tls-verify", _ALL, _bool, "verify the target's TLS certificate (default); --no-tls-verify trusts any "
           "certificate (a test server's own), as curl -k", negatable=True),
    Option("cacert", _ALL, _path, "a CA bundle (PEM) to verify the target's certificate with, as curl --cacert",
           "FILE"),
    Option("client-cert", _ALL, _path, "a client certificate (PEM) for a target that asks for one (mutual TLS), "
           "its key in --client-key or in the same file", "FILE"),
    Option("client-key", _ALL, _path, "the private key (PEM, not encrypted) of --client-cert", "FILE"),
    "run",
    Option("allow-production", _ALL, _bool, "allow a run against a Capillary production host (issues real "
           "coupons to real customers)"),
    "baseline",
    Option("baseline", _TARGETED, _path, "a JSON file of accepted findings (committed by the team): a finding it "
           "lists is reported as known and does not fail the gate; new ones do; an expired entry counts as new",
           "FILE"),
    Option("baseline-update", _TARGETED, _bool, "with --baseline: rewrite the file from this run (accept every "
           "finding, drop the fixed ones), then judge against it"),
    "reports",
    Option("report-dir", _CLI | {PYTEST}, _path, _report_dir_help("contract-"), "DIR",
           help_by_scope={LOAD: _report_dir_help("load-"),
                          RUN: _report_dir_help("", ", with contract/, load/ and index.html"),
                          CAPACITY: _report_dir_help("capacity-", ", each step's load reports in step-NN/"),
                          DIFF: _report_dir_help("diff-"),
                          PYTEST: "where coupons.csv goes: every coupon the suite (and exported tests) made the target "
                          "issue (default reports/pytest-<time>-<random>/ for a target off loopback; none on "
                          "loopback)"}),
    Option("overwrite", _CLI, _bool, "write into a --report-dir that already holds reports (refused without it)"),
    Option("no-color", _CLI, _bool, "no ANSI colours in the console (also when NO_COLOR is set, or the output is "
           "not a terminal)"),
    "load",
    Option("invalid-share", _LOAD_AND_CAPACITY, _number(0, 1), "share of batch slots given an invalid series (needs "
           "--invalid-series-ids)", "0.1", default="0"),
    Option("batch-size", _LOAD_AND_CAPACITY, _batch_size, "series per request, drawn uniformly from MIN-MAX",
           "MIN-MAX", default="1-2"),
    Option("users", _LOAD_AND_CAPACITY, _int(1, MAX_USERS), "concurrent users (default 10; with --arrival-rate, the "
           "concurrency available: at least the rate)", "N", short="-u",
           help_by_scope={CAPACITY: "users of every step (default: sized per step, the rate times twice the "
                          "slowest latency SLO, at least 1 s of it, from 4 to 2,000)"}),
    Option("spawn-rate", _LOAD_ONLY, _number(0, MAX_RATE, low_open=True, unit=" users per second"),
           "users started per second (default: all at once)", "R", short="-r"),
    Option("run-time", _LOAD_ONLY, _duration(positive=True), "how long: 30s, 2m, 1h", "30s", default="30s",
           short="-t"),
    Option("wait", _LOAD_ONLY, _duration(positive=False), "think time between a user's requests", "0.5s", default="0s"),
    Option("arrival-rate", _LOAD_ONLY, _number(0, MAX_RATE, low_open=True, unit=" requests per second"),
           "open model: R requests/s on a fixed schedule, latency measured from the intended send time", "R"),
    Option("shape", _LOAD_ONLY, _shape, "steady; ramp (five steps up to --users); spike (a fifth of the users, all "
           "of them for the middle fifth); soak (steady, for long runs)", "{" + ",".join(SHAPES) + "}",
           default="steady"),
    Option("slo", _LOAD_AND_CAPACITY, _slos, "an SLO, at most: p50|p90|p95|p99|max=300ms, error-rate=0.01, "
           "failure-ratio=0.02 (repeatable; the variable takes them comma-separated, the key as a list)",
           "KEY=VALUE", repeatable=True,
           help_by_scope={CAPACITY: "an SLO the capacity must meet (at least one; repeatable): p50|p90|p95|p99|max="
                          "300ms, error-rate=0.01, failure-ratio=0.02"}),
    "distributed",
    Option("master", _LOAD_ONLY, _bool, "be the master of a distributed run (waits for --expect-workers workers)"),
    Option("expect-workers", _LOAD_ONLY, _int(1, MAX_WORKERS), "with --master: the workers to wait for", "N",
           default="1"),
    Option("worker", _LOAD_ONLY, _bool, "be a worker of the master at --master-host"),
    Option("master-host", _LOAD_ONLY, _host, "with --worker: the master's address", "H", default="127.0.0.1"),
    Option("master-port", _LOAD_ONLY, _int(1, 65535), "the master's port", "P", default="5557"),
    Option("master-bind-host", _LOAD_ONLY, _host, "address a --master listens on (0.0.0.0 for other machines)",
           "H", default="127.0.0.1"),
    "load",
    Option("max-coupons", frozenset({LOAD, RUN, CAPACITY, DIFF}), _int(1, MAX_COUPONS_LIMIT),
           f"stop cleanly after N coupons (default {DEFAULT_MAX_COUPONS_SHOWN} against any host that is not loopback, "
           "none on loopback)", "N",
           help_by_scope={RUN: f"stop the load stage after N coupons (default {DEFAULT_MAX_COUPONS_SHOWN} against any "
                          "host that is not loopback)",
                          CAPACITY: f"stop the search after N coupons over all its steps (default "
                          f"{DEFAULT_MAX_COUPONS_SHOWN} against any host that is not loopback, none on loopback)",
                          DIFF: f"at most N coupons on each target: a case that could pass it is not sent (a generated "
                          "case is counted once answered: those passes stop 100 short; default "
                          f"{DEFAULT_MAX_COUPONS_SHOWN} when either host is not loopback, none on loopback)"}),
    "comparison",  # with an earlier run
    Option("compare", frozenset({LOAD, RUN}), _path, "an earlier load report folder (or its summary.json) to "
           "compare this run with: a side-by-side table of throughput, latency, error rate, failure ratios and "
           "entity error codes, each change with a 95% bootstrap interval, in every report (not --baseline)", "DIR",
           help_by_scope={RUN: "an earlier run folder (its load/summary.json), load report folder or summary.json "
                          "to compare the load stage with: a side-by-side table, each change with a 95% bootstrap "
                          "interval, in every report"}),
    Option("max-regression", frozenset({LOAD, RUN}), _max_regressions, "with --compare: how much worse a "
           "figure may get, beyond noise, before the run fails (exit 1): p50|p90|p95|p99|max=10% or =20ms, "
           "throughput=5% (a drop), error-rate|failure-ratio=0.5% (percentage points) (repeatable; the variable "
           "takes them comma-separated, the key as a list)", "KEY=LIMIT", repeatable=True),
    "stopping early",
    Option("abort-on-fail", frozenset({LOAD, RUN}), _bool, "stop early, in order and with a full report, once the "
           "run cannot pass: a max SLO broken, more slow answers (errors, entity failures) than a percentile "
           "(ratio) SLO allows of the requests the run is heading for, or --abort-violations violations (exit 1)",
           help_by_scope={RUN: "stop the load stage early, with a full report, once it cannot pass (as --abort-on-fail "
                          "of `load`)"}),
    Option("abort-violations", frozenset({LOAD, RUN}), _int(1, MAX_COUPONS_LIMIT), "with --abort-on-fail: the "
           "contract violations that stop the run (any violation fails the gate)", "N", default="1"),
    Option("abort-grace", frozenset({LOAD, RUN}), _duration(positive=False), "with --abort-on-fail: the traffic "
           "before a percentile, error-rate or failure-ratio SLO may stop the run (and at least 100 answers; a max "
           "SLO or a violation stops it at once)", "5s", default="5s"),
    "live figures",
    Option("prometheus-port", _LOAD_ONLY, _int(0, 65535), "serve live figures for Prometheus at "
           "http://--prometheus-host:PORT/metrics from the process that aggregates (local or master): requests by "
           "status, errors, violations by rule, coupons, duplicate codes, entity failures, latency, users, "
           "generator CPU (default: off; 0: a free port, as tests use)", "PORT"),
    Option("prometheus-host", _LOAD_ONLY, _host, "with --prometheus-port: the address it listens on (0.0.0.0 to "
           "let other machines scrape)", "H", default="127.0.0.1"),
    "capacity search",
    Option("start-rate", _CAPACITY_ONLY, _number(0, MAX_RATE, low_open=True, unit=" requests per second"),
           "the first step's rate (requests per second); the search doubles it while every SLO holds", "R",
           default="50"),
    Option("max-rate", _CAPACITY_ONLY, _number(0, MAX_RATE, low_open=True, unit=" requests per second"),
           "the highest rate the search tries: a target that holds every SLO there has at least that capacity",
           "R", default="5000"),
    Option("step-time", _CAPACITY_ONLY, _duration(positive=True, at_most=3600.0), "how long each step is measured, "
           "after its warm-up", "30s", default="30s"),
    Option("warmup", _CAPACITY_ONLY, _duration(positive=False, at_most=3600.0), "the start of each step that is "
           "not measured (users start, connections open, caches warm)", "5s", default="5s"),
    Option("precision", _CAPACITY_ONLY, _number(0, 1, low_open=True), "stop bisecting when the lowest breaking rate "
           "is within this share above the highest rate that held (0.05: 5%)", "0.05", default="0.05"),
    Option("max-steps", _CAPACITY_ONLY, _int(2, 100), "the most steps the search takes", "N", default="16"),
    Option("min-capacity", _CAPACITY_ONLY, _number(0, MAX_RATE, low_open=True, unit=" requests per second"),
           "fail (exit 1) when the capacity found is below R requests per second (a release gate)", "R"),
    "load stage",  # of `run`
    Option("load-run-time", _RUN_ONLY, _duration(positive=True, at_most=MAX_RUN_LOAD_S,
                                                  extra=" (use `coupon-harness load` for more)"),
           "length of the short load run (at most 30s)", "10s", default="10s"),
    Option("load-users", _RUN_ONLY, _int(1, MAX_USERS), "users of the load run", "N", default="10"),
    Option("load-slo", _RUN_ONLY, _slos, "SLOs of the load run, as --slo of `load` (repeatable; default "
           "p95=500ms and error-rate=0.01)", "KEY=VALUE", repeatable=True),
    Option("no-load", _RUN_ONLY, _bool, "only the contract suite, no load stage"),
    "differential run",  # the second target of `diff`
    Option("against-url", _DIFF_ONLY, _text, "the target to compare with --base-url: the same cases go to both", "URL"),
    Option("against-target", _DIFF_ONLY, _text, "a target of --config to compare with: its base-url and "
           "credentials (the --against-* options below win over them)", "NAME"),
    Option("against-user", _DIFF_ONLY, _user, "HTTP Basic USER:PASSWORD of --against-url", "USER:PASSWORD",
           secret=True),
    Option("against-password", _DIFF_ONLY, _secret("password"), "the password of --against-user, when it is not "
           "given there", "PASSWORD", secret=True),
    Option("against-md5-password", _DIFF_ONLY, _bool, "hash --against-url's password first (md5 hex)"),
    Option("against-oauth-key", _DIFF_ONLY, _secret("oauth_key"), "OAuth key of --against-url (with "
           "--against-oauth-secret)", "KEY", secret=True),
    Option("against-oauth-secret", _DIFF_ONLY, _secret("oauth_secret"), "the secret of --against-oauth-key",
           "SECRET", secret=True),
    Option("against-token", _DIFF_ONLY, _secret("token"), "a ready X-CAP-API-OAUTH-TOKEN of --against-url",
           "TOKEN", secret=True),
    Option("series-map", _DIFF_ONLY, _id_map, "series of --base-url and their counterparts on --against-url, "
           "BASE=AGAINST (unmapped ids are sent as they are)", "101=5001,102=5002"),
    Option("customer-map", _DIFF_ONLY, _customer_map, "customers of --customer-ids and their counterparts on "
           "--against-url (fresh customers are the same id on both)", "c1=d1"),
    "output",  # every command: how much it says
    Option("verbose", frozenset({EVERY}), _int(0, 2), "diagnostics on stderr through logging: -v INFO (passes with "
           "their request counts, preflight decisions, the load process, report files), -vv DEBUG too (the "
           "variable takes 1 or 2; not with --quiet)", in_file=False, short="-v", count=True),
    Option("quiet", frozenset({EVERY}), _bool, "only errors and the verdict line: no progress, notes or results "
           "table (the exit code is the same; not with --verbose)", in_file=False, short="-q"),
)

_BY_NAME = {opt.name: opt for opt in OPTIONS}
#: What a config-file target says about its own server: never carried over to another base URL.
TARGET_BOUND = ("series-ids", "invalid-series-ids", "generic-series-ids", "customer-ids", "user", "password",
                "md5-password", "oauth-key", "oauth-secret", "token")
_FILE_KEYS = tuple(opt.name for opt in OPTIONS if opt.in_file)


def option(name: str) -> Option:
    return _BY_NAME[name]


def options_of(scope: str) -> tuple[Option, ...]:
    return tuple(opt for opt in OPTIONS if scope in opt.scopes)


# --- resolution ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Sources:
    """Where options come from: the flags given (name -> raw value, None: not given), the environment, and how
    messages spell flags (`--harness-` under pytest)."""

    flags: Mapping[str, Any] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    flag_prefix: str = "--"


@dataclass(frozen=True, slots=True)
class Resolved:
    """The options of one scope, parsed and checked, and where each came from (for messages)."""

    scope: str
    values: Mapping[str, Any]
    where: Mapping[str, str]
    flag_prefix: str = "--"
    notes: tuple[str, ...] = ()

    def get(self, name: str, default: Any = None) -> Any:
        assert name in _BY_NAME, name
        return self.values.get(name, default)

    def given(self, name: str) -> bool:
        return name in self.values

    def label(self, name: str) -> str:
        """How a message names the option: where it came from, or its flag."""
        return self.where.get(name, self.flag_prefix + name)


#: One source's options: name -> (the value parsed, where it came from for messages).
_Layer = dict[str, tuple[Any, str]]


def _file_layer(path: Path, target: str | None, scope: str) -> _Layer:
    where, table = read_target_table(path, target)
    layer: _Layer = {}
    for key, raw in table.items():
        if key not in _FILE_KEYS:
            hint = difflib.get_close_matches(key, _FILE_KEYS, n=1)
            raise ConfigError(f"{where}: unknown key {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""))
        opt = _BY_NAME[key]
        label = f"{where} {key}"
        if opt.parse is _bool and not isinstance(raw, bool):
            raise ConfigError(f"{where}: {key} must be true or false (a TOML boolean), got {_shown(raw)}")
        try:
            value = opt.parse(raw, label)  # every key is checked, those of other commands too: one file, one truth
        except RecursionError:
            raise ConfigError(f"{label} {NESTED_TOO_DEEPLY}: give it as README 'Config file' shows") from None
        if scope in opt.scopes:
            layer[key] = (value, label)
    return layer


def _env_layer(environ: Mapping[str, str], scope: str) -> _Layer:
    return {opt.name: (opt.parse(environ[opt.env], opt.env), opt.env) for opt in options_of(scope)
            if environ.get(opt.env)}


def _flag_layer(flags: Mapping[str, Any], scope: str, prefix: str) -> _Layer:
    layer: _Layer = {}
    for opt in options_of(scope):
        raw = flags.get(opt.name)
        if raw is None or (opt.flag_only and raw is False and not opt.negatable):
            continue
        label = opt.flag(prefix)
        # argparse of Python < 3.12 reads '--' as a value: a list for a one-value option, a list in a list else
        if isinstance(raw, list) != opt.repeatable or (opt.repeatable and not all(isinstance(i, str) for i in raw)):
            raise ConfigError(f"{label} got '--' as its value, which marks the end of the options: give {label} "
                              "a value")
        if raw == "" or (opt.repeatable and "" in raw):  # a pasted "$VARIABLE" that is not set
            raise ConfigError(f"{label} is empty: a variable the command line gives it (\"${opt.env}\"?) is not "
                              f"set; set it (export {opt.env}=...), or give {label} a value")
        layer[opt.name] = (opt.parse(raw, label), label)
    return layer


def resolve(sources: Sources, scope: str) -> Resolved:
    """The options of `scope`, each parsed and checked (ConfigError naming where a bad value came from)."""
    prefix = sources.flag_prefix
    flags = _flag_layer(sources.flags, scope, prefix)
    env = _env_layer(sources.environ, scope)

    def given(name: str) -> Any:  # by a flag or a variable
        return (flags.get(name) or env.get(name) or (None, ""))[0]

    file: _Layer = {}
    if given("config") is not None:
        file = _file_layer(given("config"), given("target"), scope)
    elif given("target") is not None:
        raise ConfigError(f"{prefix}target names a target of {prefix}config FILE: give {prefix}config too")
    notes: list[str] = []
    url = given("base-url")
    if url is not None and "base-url" in file and str(url).rstrip("/") != str(file["base-url"][0]).rstrip("/"):
        dropped = [name for name in TARGET_BOUND if name in file]
        for name in dropped:
            del file[name]
        if dropped:
            source = (flags.get("base-url") or env["base-url"])[1]
            notes.append(f"{source} is not the base URL of {file['base-url'][1].rpartition(' ')[0]}: its "
                         f"{', '.join(dropped)} are left out (they belong to that target's server)")
    merged = {**file, **env, **flags}
    values = {name: value for name, (value, _) in merged.items()}
    where = {name: label for name, (_, label) in merged.items()}
    _pair_user_and_password(values, where, (file, env, flags))
    _check_user_has_a_password(values, where, prefix)
    return Resolved(scope=scope, values=values, where=where, flag_prefix=prefix, notes=tuple(notes))


def _pair_user_and_password(values: dict[str, Any], where: dict[str, str],
                            layers: Sequence[_Layer]) -> None:
    """`user` becomes (USER, PASSWORD or None) and `password` goes. A password pairs with the user of its own
    layer or a lower one: a user given by a flag never takes the password a file keeps for its own user."""
    if "password" in values and "user" not in values:
        raise ConfigError(f"{where['password']} gives a password but no user: give the user too "
                          f"(--user USER, {env_var('user')} or the key user)")
    if "password" not in values:
        return

    def rank(name: str) -> int:
        return max(index for index, layer in enumerate(layers) if name in layer)

    user, _embedded = values["user"]
    if rank("password") >= rank("user"):
        values["user"] = (user, values["password"])
    del values["password"]
    del where["password"]


def _check_user_has_a_password(values: Mapping[str, Any], where: Mapping[str, str], prefix: str) -> None:
    """A user without a password would be sent as `USER:` (curl -u asks for the password instead): refused."""
    if "user" in values and values["user"][1] is None:
        raise ConfigError(f"{where['user']} gives a user but no password: write USER:PASSWORD, or give the password "
                          f"with {prefix}password (or {env_var('password')}, or the key password beside the user)")


# --- argparse ------------------------------------------------------------------------------------------

#: Load options plain Locust gives with flags of its own (-u, -r, -t, --host, ...) or that mean nothing there.
LOCUST_OWNS = frozenset({"base-url", "config", "users", "spawn-rate", "run-time", "workers", "master",
                         "expect-workers", "worker", "master-host", "master-port", "master-bind-host", "report-dir",
                         "overwrite", "no-color", "compare", "max-regression"})


def is_secret(opt: Option) -> bool:
    """Whether an option holds a credential, whose value no message shows (the one registry: `Option.secret`)."""
    return opt.secret


def twice_message(first: Any, second: Any, *, secret: bool) -> str:
    """What a single-valued option given twice on a command line is told (argparse's 'argument --X: ' before)."""
    if secret:
        return "given twice (its values are not shown): give it once"
    texts = [str(value) if isinstance(value, os.PathLike) else value for value in (first, second)]
    shown = [repr(text if not isinstance(text, str) or len(text) <= 40 else text[:37] + "...") for text in texts]
    return f"given twice ({shown[0]}, then {shown[1]}): give it once"


class StoreOnce(argparse.Action):
    """argparse's `store`, but a second occurrence (`--run-time 5s --run-time 10s`) is an error naming both values
    (`secret`: not shown), not the last one silently winning."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, secret: bool = False, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.secret = secret

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        given: dict[str, Any] = namespace.__dict__.setdefault("_given_once", {})
        if option_string is not None and self.dest in given:
            # Named by its long flag, as before it had a short one or an alias (`argument --user: ...`).
            name = next((flag for flag in self.option_strings if flag.startswith("--")), option_string)
            raise argparse.ArgumentError(None, f"argument {name}: "
                                         f"{twice_message(given[self.dest], values, secret=self.secret)}")
        given[self.dest] = values
        setattr(namespace, self.dest, values)


def given_twice(args: Sequence[str], scope: str, prefix: str) -> None:
    """ConfigError for a single-valued option of `scope` given twice in `args` (the pytest plugin's: pytest parses
    its options more than once, which a StoreOnce action would take for a repetition)."""
    by_flag = {opt.flag(prefix): opt for opt in options_of(scope) if not opt.repeatable and not opt.flag_only}
    seen: dict[str, Any] = {}
    index = 0
    while index < len(args):
        arg = str(args[index])
        if arg == "--":
            break
        flag, eq, value = arg.partition("=")
        opt = by_flag.get(flag)
        if opt is not None:
            if not eq:
                index += 1
                value = str(args[index]) if index < len(args) else ""
            if flag in seen:
                raise ConfigError(f"{flag} {twice_message(seen[flag], value, secret=is_secret(opt))}")
            seen[flag] = value
        index += 1


def add_options(parser: Any, scope: str, exclude: Iterable[str] = (), *, short: bool = True) -> None:
    """The flags of `scope` (less `exclude`), grouped as in the table, on an argparse parser (Locust's with
    `short=False`: its -u, -r, -t, -H stay its own); values are kept raw for `resolve`."""
    groups: dict[str, Any] = {}
    skip = set(exclude)
    for opt in options_of(scope):
        if opt.name in skip:
            continue
        if opt.group not in groups:
            groups[opt.group] = parser.add_argument_group(opt.group)
        how: dict[str, Any] = ({"action": argparse.BooleanOptionalAction} if opt.negatable else
                               {"action": "store_true"} if opt.flag_only else
                               {"action": "append", "metavar": opt.metavar} if opt.repeatable else
                               {"action": StoreOnce, "metavar": opt.metavar, "secret": is_secret(opt)})
        spellings = opt.flags(short=short)[: -1 if opt.negatable else None]  # argparse adds --no-NAME itself
        groups[opt.group].add_argument(*spellings, dest=opt.dest, default=None,
                                       help=opt.help_for(scope).replace("%", "%%"), **how)


def add_command(commands: Any, name: str, handler: Callable[[argparse.Namespace], int], scope: str | None = None,
                **texts: str) -> argparse.ArgumentParser:
    """A command's parser: its `help` and `description`, and with a `scope` that scope's options and EPILOG."""
    parser: argparse.ArgumentParser = commands.add_parser(name, **texts, **({"epilog": EPILOG} if scope else {}))
    if scope is not None:
        add_options(parser, scope)
    parser.set_defaults(handler=handler)
    return parser


def add_verbosity(parser: Any) -> None:
    """`-v`/`--verbose` (repeatable) and `-q`/`--quiet`, mutually exclusive (a usage error, exit 2), on a command."""
    group = parser.add_argument_group("output").add_mutually_exclusive_group()
    for opt in options_of(EVERY):
        group.add_argument(*opt.flags(), dest=opt.dest, action="count" if opt.count else "store_true", default=None,
                           help=opt.help)


def verbosity(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    """-1 quiet, 0 default, 1 `-v`, 2 `-vv` (or more): the flags, else COUPON_HARNESS_VERBOSE and _QUIET."""
    count, quiet = getattr(args, "verbose", None) or 0, getattr(args, "quiet", None)
    if count or quiet:
        return -1 if quiet else min(int(count), 2)
    env = _env_layer(os.environ if environ is None else environ, EVERY)
    level, silent = env.get("verbose", (0, ""))[0], env.get("quiet", (False, ""))[0]
    if level and silent:
        raise ConfigError(f"{env_var('verbose')} and {env_var('quiet')} are both set: keep one (or give -v or -q)")
    return -1 if silent else int(level)


def sources_from_namespace(args: Any, scope: str, environ: Mapping[str, str] | None = None,
                           exclude: Iterable[str] = ()) -> Sources:
    """The flags of `scope` (less `exclude`) as parsed into `args` (argparse's namespace, or Locust's options)."""
    flags = {opt.name: getattr(args, opt.dest, None) for opt in options_of(scope) if opt.name not in exclude}
    return Sources(flags=flags, environ=dict(os.environ if environ is None else environ))


EPILOG = ("Every option is also a variable COUPON_HARNESS_<NAME> (COUPON_HARNESS_SERIES_IDS for --series-ids; "
          "flags without a value take true/false) and a key of a config-file target (series-ids). Precedence, "
          "option by option: flag, then variable, then the --config target, then the default. A base URL from a "
          "flag or variable that is not the file target's own leaves out that target's series, customers and "
          "credentials. NO_COLOR is honoured.")


def markdown_table() -> str:
    """The docs' table of options: flag, variable, config key, commands, meaning."""
    lines = ["| flag | variable | config key | commands | meaning |", "|---|---|---|---|---|"]
    for opt in OPTIONS:
        if EVERY in opt.scopes:
            flag = "`" + (f"{opt.short}`, `" if opt.short else "") + f"--{opt.name}`"
            lines.append(f"| {flag} | `{opt.env}` | — | every command | {opt.help.replace('|', '&#124;')} |")
            continue
        value = "" if opt.flag_only else f" {opt.metavar}"
        flag = ", ".join(f"`{spelling}{value}`" for spelling in opt.flags())
        key = f"`{opt.name}`" if opt.in_file else "—"
        commands = ", ".join(scope if scope != PYTEST else "pytest (`--harness-`)" for scope in SCOPES
                             if scope in opt.scopes)
        meaning = opt.help_for(CONTRACT if CONTRACT in opt.scopes else next(s for s in SCOPES if s in opt.scopes))
        lines.append(f"| {flag} | `{opt.env}` | {key} | {commands} | {meaning.replace('|', '&#124;')} |")
    return "\n".join(lines)
