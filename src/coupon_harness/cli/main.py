"""The coupon-harness command: parses flags, builds config, calls a runner, sets the exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from coupon_harness import __version__
from coupon_harness.errors import HarnessError, one_line
from coupon_harness.interrupts import armed, exit_code_for, handled, received, signal_name

__all__ = ["build_parser", "keep_caches_out_of_the_working_directory", "main"]

from coupon_harness.cli.console import apply_verbosity
from coupon_harness.cli.exit_codes import EXIT_HARNESS_ERROR, EXIT_INTERRUPTED
from coupon_harness.cli.harness_bug import report_harness_bug
from coupon_harness.cli.lifecycle import report_setup_error
from coupon_harness.cli.option_table import verbosity
from coupon_harness.cli.report_dir import claimed, claims_mark, release_claims


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line that names the fix, not a usage dump; and an option that takes one
    value, given twice, is refused naming both values (`StoreOnce`), in every command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from coupon_harness.cli.option_table import StoreOnce

        self.register("action", None, StoreOnce)
        self.register("action", "store", StoreOnce)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_HARNESS_ERROR, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


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
    from coupon_harness.cli.option_table import add_verbosity

    for command in commands.choices.values():
        add_verbosity(command)
    return parser


def keep_caches_out_of_the_working_directory() -> None:
    """Hypothesis (under Schemathesis) writes `.hypothesis/` into the current folder; a CLI (or pytest
    plugin) run in a user's repository should not. Their own HYPOTHESIS_STORAGE_DIRECTORY still wins."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "coupon-harness" / "hypothesis"
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(cache))


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 130 after SIGINT and 143 after SIGTERM, with the partial report written either way."""
    with handled():
        try:
            code = _main(argv)
        except KeyboardInterrupt:  # before a command could take it (parsing, imports): nothing ran yet
            print(f"coupon-harness: interrupted by {signal_name(received())} before the run started",
                  file=sys.stderr)
            return exit_code_for(received())
    if code == EXIT_INTERRUPTED or received() is not None:  # a signalled command says so, whatever it found
        return exit_code_for(received())
    return code


def _main(argv: Sequence[str] | None) -> int:
    keep_caches_out_of_the_working_directory()
    parser = build_parser()  # imports every command's modules, native ones included, before a signal may raise
    armed()
    args = parser.parse_args(argv)
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
