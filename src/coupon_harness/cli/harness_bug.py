"""The last-resort guard of `main()`: a bug in the harness becomes one line and a traceback file, exit 2.

The file holds the traceback, the command line and the seed, without any credential the run could know (the
secret options' values from flags, environment and config file, credentials on the stack, URL userinfo).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shlex
import sys
import tempfile
import traceback
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from coupon_harness import __version__
from coupon_harness.cli.exit_codes import EXIT_HARNESS_ERROR
from coupon_harness.cli.options import without_userinfo
from coupon_harness.transport.credentials import Credentials
from coupon_harness.transport.redaction import REDACTED

if TYPE_CHECKING:
    from coupon_harness.cli.option_table import Option, Resolved

__all__ = ["report_harness_bug", "secret_flags"]


def _secret_options() -> list[Option]:
    from coupon_harness.cli import option_table  # read at the call: a test may add a row

    return [opt for opt in option_table.OPTIONS if opt.secret]


def secret_flags() -> tuple[str, ...]:
    """Every long spelling of a flag whose value is a credential (a prefix of one is one too, as argparse reads)."""
    return tuple(flag for opt in _secret_options() for flag in opt.flags(short=False))


def report_harness_bug(args: argparse.Namespace, exc: Exception, argv: list[str], report_dir: object) -> int:
    """Write the traceback (credentials removed) to a file, print one line that says where, exit 2."""
    from coupon_harness.transport.redaction import Redactor

    # Every form a secret may take in a message (escaped, base64, md5, cut), as the runs' redactor knows them.
    redact = Redactor(Credentials(extra=tuple(_known_secrets(args, argv, exc)))).text

    def clean(text: str) -> str:
        return without_userinfo(redact(text))

    seed = _seed(args, exc)
    message = clean(_describe(exc))
    headline = f"coupon-harness {args.command}: harness error (a bug in coupon-harness, not a finding)"
    text = "\n".join([
        headline,
        f"error: {message}",
        f"command: {clean(' '.join(['coupon-harness', *map(_quote, _redacted_argv(argv))]))}",
        f"seed: {seed}",
        f"coupon-harness {__version__}, Python {sys.version.split()[0]}, {platform.platform()}",
        f"time: {datetime.now().astimezone().isoformat(timespec='seconds')}",
        "",
        clean("".join(traceback.format_exception(exc))),
    ])
    where = _write_error_file(text, report_dir)
    print(f"{headline}: {message}; seed {seed}; traceback in {where}", file=sys.stderr)
    return EXIT_HARNESS_ERROR


def _describe(exc: BaseException) -> str:
    try:
        detail = " ".join(str(exc).split())
    except Exception:  # a __str__ that fails is no reason to lose the rest
        detail = "<unprintable>"
    if len(detail) > 300:
        detail = detail[:300] + "…"
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _quote(arg: str) -> str:
    """Shell quoting, but <redacted> stays legible (the line is read, not pasted)."""
    return arg if REDACTED in arg else shlex.quote(arg)


def _secret_args(argv: list[str]) -> dict[int, tuple[str, str]]:
    """Argument index -> (what stays of it, the credential) for every credential value on the command line."""
    flags, shorts = secret_flags(), tuple(opt.short for opt in _secret_options() if opt.short)  # -aUSER:PASSWORD
    found: dict[int, tuple[str, str]] = {}
    for index, arg in enumerate(argv):
        if arg[:2] in shorts:
            if len(arg) > 2:
                found[index] = (arg[:2], arg[2:].removeprefix("="))
            elif index + 1 < len(argv):
                found[index + 1] = ("", argv[index + 1])
            continue
        name, equals, value = arg.partition("=")
        if not arg.startswith("--") or len(name) <= 2 or not any(flag.startswith(name) for flag in flags):
            continue
        if equals:
            found[index] = (name + "=", value)
        elif index + 1 < len(argv):
            found[index + 1] = ("", argv[index + 1])
    return found


def _redacted_argv(argv: list[str]) -> list[str]:
    """The command line without the value of any credential flag and without userinfo in URLs."""
    secret = _secret_args(argv)
    return [secret[index][0] + REDACTED if index in secret else without_userinfo(arg)
            for index, arg in enumerate(argv)]


def _known_secrets(args: argparse.Namespace, argv: list[str], exc: BaseException) -> list[str]:
    """Every credential the run could know, longest first: the secret options' values and the credentials on the
    stack; a USER:PASSWORD whole and its password alone, each also by its md5."""
    given = [value for _, value in _secret_args(argv).values()]
    given.extend(value for opt in _secret_options() if (value := os.environ.get(opt.env)))
    given.extend(_config_secrets(getattr(args, "config", None)))
    found = given + [value.split(":", 1)[1] for value in given if ":" in value]
    try:
        from coupon_harness.cli.settings_builders import against_target, credentials, secret_values

        resolved = _resolved(args)  # the config file may hold a password
        if resolved is not None:
            found.extend(secret_values(resolved))
            found.extend(credentials(resolved).secrets())
            if resolved.scope == "diff":  # the second target's own credentials too
                found.extend(against_target(resolved)[1].secrets())
    except Exception:  # best effort: a config that does not load holds no secret we could read
        pass
    found.extend(hashlib.md5(value.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()
                 for value in list(found))
    for local in _stack_values(exc):
        found.extend(_secrets_of(local))
    return sorted({s for s in found if len(s) >= 3}, key=len, reverse=True)


def _config_secrets(path: object) -> list[str]:
    """Every secret option's value in every target of the --config file (best effort: nothing if it does not read)."""
    import tomllib

    if path is None:
        return []
    try:
        data = tomllib.loads(Path(str(path)).read_text(encoding="utf-8"))
    except Exception:
        return []
    return list(_secrets_in(data, {opt.name for opt in _secret_options()}))


def _secrets_in(node: object, keys: set[str]) -> Iterator[str]:
    for key, value in node.items() if isinstance(node, dict) else ():
        if key in keys and isinstance(value, str):
            yield value
        else:
            yield from _secrets_in(value, keys)


def _resolved(args: argparse.Namespace) -> Resolved | None:
    """The options of the command that failed; None for a command without target options."""
    from coupon_harness.cli.option_table import SCOPES, resolve, sources_from_namespace

    scope = getattr(args, "command", None)
    if scope not in SCOPES:
        return None
    return resolve(sources_from_namespace(args, str(scope)), str(scope))


def _secrets_of(value: object) -> list[str]:
    from coupon_harness.transport.auth import Redactor, TokenSource

    try:
        if isinstance(value, TokenSource):
            return list(value.fetched)
        if isinstance(value, Redactor):  # a run's redactor: its credentials and every token fetched
            return value.secrets()
        for candidate in (value, getattr(value, "credentials", None),
                          getattr(getattr(value, "settings", None), "credentials", None)):
            if isinstance(candidate, Credentials):
                return candidate.secrets()
    except Exception:  # an odd object on the stack: skip it
        pass
    return []


def _stack_values(exc: BaseException) -> list[object]:
    """The local variables of every frame the exception (and its causes) went through, innermost first."""
    values: list[object] = []
    seen: set[int] = set()
    chain: BaseException | None = exc
    while chain is not None and id(chain) not in seen:
        seen.add(id(chain))
        frames = [frame for frame, _ in traceback.walk_tb(chain.__traceback__)]
        for frame in reversed(frames):
            values.extend(frame.f_locals.values())
        chain = chain.__cause__ or chain.__context__
    return values


def _seed(args: argparse.Namespace, exc: BaseException) -> str:
    """The seed the run used: from its settings on the stack, else the flag or the config file."""
    from coupon_harness.runners.contract.settings import ContractSettings
    from coupon_harness.runners.load.settings import LoadSettings

    for value in _stack_values(exc):
        for candidate in (value, getattr(value, "settings", None)):
            if isinstance(candidate, ContractSettings | LoadSettings) and candidate.seed is not None:
                return str(candidate.seed)
    if getattr(args, "seed", None) is not None:
        return str(args.seed)
    try:
        seed = getattr(_resolved(args), "values", {}).get("seed")
    except Exception:
        seed = None
    return str(seed) if seed is not None else "not chosen yet"


def _write_error_file(text: str, report_dir: object) -> str:
    """harness-error.txt in the report dir, else reports/harness-error-<time>-<pid>.txt, else a temp file."""
    if report_dir:
        path = Path(str(report_dir)) / "harness-error.txt"
    else:
        path = Path("reports") / f"harness-error-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", errors="backslashreplace")
        return str(path)
    except OSError:
        pass
    try:
        handle, name = tempfile.mkstemp(prefix="coupon-harness-error-", suffix=".txt")
        with os.fdopen(handle, "w", encoding="utf-8", errors="backslashreplace") as out:
            out.write(text)
        return name
    except OSError as exc:
        return f"nowhere (cannot write a file: {exc.strerror})"
