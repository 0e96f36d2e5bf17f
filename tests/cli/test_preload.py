"""The parser imports no runner: `load`, `capacity` and `serve` never pay for Schemathesis and Hypothesis; a
contract-running command imports them (native modules included) before a signal may raise (`main.preload`)."""

from __future__ import annotations

import subprocess
import sys

from coupon_harness.cli.main import PRELOAD, build_parser

PROBE = """
import sys
from coupon_harness.cli.main import build_parser, preload
build_parser()
heavy = lambda: sorted(k for k in sys.modules if k.split(".")[0] in ("schemathesis", "hypothesis", "locust"))
print(len(heavy()))
preload(sys.argv[1])
print(len(heavy()), "hypothesis._native" in sys.modules)
"""


def _probe(command: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, command], capture_output=True, text=True, check=True,
                          timeout=120)
    return done.stdout.split()


def test_the_parser_imports_no_runner_and_load_adds_none() -> None:
    assert _probe("load") == ["0", "0", "False"]


def test_a_contract_command_has_its_native_imports_before_it_is_armed() -> None:
    before, after, native = _probe("contract")
    assert before == "0" and int(after) > 50 and native == "True"


def test_every_preloaded_command_exists() -> None:
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    assert commands is not None and set(PRELOAD) <= set(commands)
