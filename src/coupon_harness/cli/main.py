"""The coupon-harness command: parses flags, builds config, calls a runner, sets the exit code."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from coupon_harness import __version__
from coupon_harness.errors import HarnessError, one_line
from coupon_harness.interrupts import armed, exit_code_for, handled, received, signal_name

__all__ = ["build_parser", "keep_caches_out_of_the_working_directory", "main", "preload", "unrecognized"]

from coupon_harness.cli.console import apply_verbosity
from coupon_harness.cli.exit_codes import EXIT_HARNESS_ERROR, EXIT_INTERRUPTED
from coupon_harness.cli.harness_bug import report_harness_bug
from coupon_harness.cli.lifecycle import import_now, report_setup_error
from coupon_harness.cli.option_table import add_verbosity, verbosity
from coupon_harness.cli.report_dir import claimed, claims_mark, release_claims


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line that names the fix (and the command's --help), with a "did you mean"
    for a mistyped flag or command; an option that takes one value, given twice, is refused (`StoreOnce`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from coupon_harness.cli.option_table import StoreOnce

        self.register("action", None, StoreOnce)
        self.register("action", "store", StoreOnce)

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:  # refused by the parser of the command given, if any
            commands = [action for action in self._actions if isinstance(action, argparse._SubParsersAction)]
            owner = commands[0].choices.get(getattr(parsed, "command", None) or "") if commands else None
            (owner or self).error(unrecognized(extras, owner or self))
        return parsed

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is not None and value not in action.choices:
            choices = [str(choice) for choice in action.choices]
            close = difflib.get_close_matches(str(value), choices, n=1)
            hint = f"did you mean {close[0]}? " if close else ""  # argparse 3.11 has no suggest_on_error
            raise argparse.ArgumentError(action, f"invalid choice: {str(value)[:40]!r} ({hint}choose from "
                                                 f"{', '.join(choices)})")

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_HARNESS_ERROR, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def unrecognized(extras: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """argparse's "unrecognized arguments", with the closest flag of `parser` for each mistyped one."""
    known = [flag for flag in parser._option_string_actions if flag.startswith("--") or len(flag) == 2]
    hints: list[tuple[str, str]] = []
    for arg in extras:
        name = arg.partition("=")[0]
        if not name.startswith("-") or name == "-" or name[1:2].isdigit():
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
        if close:
            hints.append((name, close[0]))
    # Only the flags, when there are any: the value after a mistyped flag may be a credential (`--uesr U:P`).
    flags = [arg.partition("=")[0] for arg in extras if arg.startswith("-") and not arg[1:2].isdigit()]
    shown = " ".join(flags or extras)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    if len(hints) == 1 and len(flags) == 1:
        return f"unrecognized arguments: {shown} (did you mean {hints[0][1]}?)"
    said = "; ".join(f"{name}: did you mean {close}?" for name, close in hints)
    return f"unrecognized arguments: {shown}" + (f" ({said})" if hints else "")


DESCRIPTION = ("Contract and load tests for Capillary's POST /v2/coupon/bulk/issue. `coupon-harness run` with no "
               "options tests a sandbox it starts; give --base-url to test your target. `coupon-harness COMMAND "
               "--help` lists a command's options.")
EPILOG = ("Exit codes: 0 the contract holds (and every SLO is met); 1 a violation (or a breached SLO); 2 the "
          "harness could not run (one line says what to fix); 130 interrupted by SIGINT, 143 by SIGTERM (the "
          "partial report is written). Options also come from COUPON_HARNESS_* variables and a --config file; "
          "see a command's --help.")


def build_parser() -> argparse.ArgumentParser:
    from coupon_harness.cli import capacity_cmd, contract_cmd, diff_cmd, load_cmd, locustfile_cmd, run_cmd, serve_cmd

    parser = _Parser(prog="coupon-harness", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"coupon-harness {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in (run_cmd, contract_cmd, load_cmd, capacity_cmd, diff_cmd, serve_cmd, locustfile_cmd):
        module.register(commands)
    from coupon_harness.cli import export_cmd, replay_cmd  # a contract report's findings, again

    for module in (replay_cmd, export_cmd):
        module.register(commands)
    for command in commands.choices.values():
        add_verbosity(command)
    return parser


def keep_caches_out_of_the_working_directory() -> None:
    """Hypothesis writes `.hypothesis/` into the current folder, a user's repository: not there (their own
    HYPOTHESIS_STORAGE_DIRECTORY still wins)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "coupon-harness" / "hypothesis"
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(cache))


#: What a command imports beyond the parser (native modules included), before a signal may raise (`import_now`);
#: only its own: `load`, `capacity`, `serve` and the rest never pay for the contract runner (~0.3 CPU-s).
PRELOAD: dict[str, tuple[str, ...]] = {
    "contract": ("coupon_harness.runners.contract.runner",),
    "run": ("coupon_harness.runners.contract.runner",),
    "diff": ("coupon_harness.runners.contract.runner", "coupon_harness.runners.contract.diff"),
    "replay": ("coupon_harness.runners.contract.runner", "coupon_harness.runners.contract.replay"),
    "export-tests": ("coupon_harness.runners.contract.runner",),
}


def preload(command: str | None) -> None:
    import_now(*PRELOAD.get(command or "", ()))


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 130 after SIGINT and 143 after SIGTERM, with the partial report written either way."""
    with handled():
        try:
            code = _main(argv)
        except KeyboardInterrupt:  # before a command could take it (parsing, imports): nothing ran yet
            print(f"coupon-harness: interrupted by {signal_name(received())} before the run started",
                  file=sys.stderr)
            return exit_code_for(received())
        signum = received()  # read inside: leaving `handled` forgets it
    if code == EXIT_INTERRUPTED or signum is not None:  # a signalled command says so, whatever it found
        return exit_code_for(signum)
    return code


def _main(argv: Sequence[str] | None) -> int:
    keep_caches_out_of_the_working_directory()
    parser = build_parser()
    args = parser.parse_args(argv)  # a signal meanwhile is noted: armed() raises it
    preload(getattr(args, "command", None))
    armed()
    if args.command is None:
        parser.print_help()
        return EXIT_HARNESS_ERROR
    report_dir = getattr(args, "report_dir", None)  # before the handler: `run` clears it for its stages
    mark = claims_mark()  # this command's report folder is the one it claims from here on
    try:
        apply_verbosity(verbosity(args))
        code: int = args.handler(args)
    except HarnessError as exc:
        # Reports first (a CI step reads junit.xml and report.md), then the one line: the last line names the fix.
        report_setup_error(str(args.command), str(exc), mark)
        print(f"coupon-harness {args.command}: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_HARNESS_ERROR
    except KeyboardInterrupt:
        print(f"coupon-harness {args.command}: interrupted by {signal_name(received())}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug in the harness: never a raw traceback, never a finding
        claim = claimed(mark)
        code = report_harness_bug(args, exc, list(sys.argv[1:] if argv is None else argv),
                                  claim.folder if claim is not None else report_dir)
        # The claimed folder gets the CI files too (the traceback file beside them, credentials removed).
        report_setup_error(str(args.command), f"harness error ({type(exc).__name__}): a bug in coupon-harness, not a "
                           "finding; its traceback is in harness-error.txt beside this report", mark)
        return code
    finally:
        release_claims(mark)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
