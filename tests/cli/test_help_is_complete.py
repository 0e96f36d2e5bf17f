"""`--help` of every command is complete and true: each command's parser has exactly the flags the option
table gives its scope, every flag has a help text, the docs' table of options (docs/reference/options.md) is the
table's, the docs name every flag, and the pytest plugin adds the options of its scope."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import pytest

from coupon_harness.cli import pytest_plugin
from coupon_harness.cli.main import build_parser, main
from coupon_harness.cli.option_table import (
    CONTRACT,
    DEFAULT_MAX_COUPONS_SHOWN,
    EVERY,
    LOAD,
    OPTIONS,
    PYTEST,
    RUN,
    markdown_table,
    options_of,
)
from coupon_harness.results.request import header_variable
from coupon_harness.safety import DEFAULT_MAX_COUPONS

ROOT = Path(__file__).resolve().parents[2]
OPTIONS_PAGE = ROOT / "docs" / "reference" / "options.md"
#: The reference: every page of docs/, where every flag of every command must be findable.
DOCS = "\n".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").rglob("*.md")))


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    return dict(sub.choices)


def _flags(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {string: action for action in parser._actions for string in action.option_strings
            if string not in ("-h", "--help")}


@pytest.mark.parametrize("scope", [CONTRACT, LOAD, RUN])
def test_each_command_has_exactly_the_options_of_its_scope(scope: str) -> None:
    flags = _flags(_commands()[scope])
    assert set(flags) == {flag for opt in options_of(scope) + options_of(EVERY) for flag in opt.flags()}


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_command_has_verbose_and_quiet(command: str) -> None:
    assert {"-v", "--verbose", "-q", "--quiet"} <= set(_flags(_commands()[command]))


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_flag_has_a_help_text(command: str) -> None:
    parser = _commands()[command]
    assert parser.description, command
    for flag, action in _flags(parser).items():
        assert action.help and len(action.help) > 10, (command, flag)


def test_every_option_has_a_variable_and_a_key_named_after_it() -> None:
    for opt in OPTIONS:
        assert opt.env == "COUPON_HARNESS_" + opt.name.upper().replace("-", "_")
        assert opt.in_file or opt.name in ("config", "target") or EVERY in opt.scopes  # -v/-q: before any file
        assert opt.help


def test_the_docs_table_is_the_option_table() -> None:
    page = OPTIONS_PAGE.read_text(encoding="utf-8")
    begin = page.index("<!-- options:begin")
    table = page[page.index("\n", begin) + 1:page.index("<!-- options:end -->")].strip()
    assert table == markdown_table(), (
        f"{OPTIONS_PAGE.relative_to(ROOT)}'s options table is stale: "
        "run .venv/bin/python scripts/regen_options_table.py")


def test_the_docs_name_every_flag_of_every_command() -> None:
    for command, parser in _commands().items():
        for flag in _flags(parser):
            assert flag in DOCS, (command, flag, "not in docs/: document it")


def test_the_pytest_plugin_adds_the_options_of_its_scope() -> None:
    added: list[str] = []

    class Group:
        def addoption(self, *names: str, **_kwargs: Any) -> None:
            added.extend(names)

    class Parser:
        def getgroup(self, *_args: Any, **_kwargs: Any) -> Group:
            return Group()

    pytest_plugin.pytest_addoption(Parser())  # type: ignore[arg-type]
    assert sorted(added) == sorted(opt.flag("--harness-") for opt in options_of(PYTEST))


def test_help_texts_say_what_is_true(capsys: pytest.CaptureFixture[str]) -> None:
    assert f"{DEFAULT_MAX_COUPONS:,}" == DEFAULT_MAX_COUPONS_SHOWN

    def help_of(*argv: str) -> str:
        with pytest.raises(SystemExit) as done:
            main([*argv, "--help"])
        assert done.value.code == 0
        return " ".join(capsys.readouterr().out.split())

    top = help_of()
    assert "parses flags" not in top  # once an internal docstring
    for command in _commands():
        assert command in top
    assert "reports/<time>-<random>/" in help_of("run")
    assert "reports/contract-" not in help_of("run")
    assert "reports/load-<time>-<random>/" in help_of("load")
    for command in (CONTRACT, LOAD, RUN):
        text = help_of(command)
        assert "COUPON_HARNESS_" in text and "NO_COLOR" in text and "Precedence" in text, command
    # The 401 message of the preflight names --user/--password: both flags exist.
    assert {"--user", "--password"} <= set(_flags(_commands()[CONTRACT]))


HEADER_FAMILY = "COUPON_HARNESS_HEADER"


def test_every_variable_the_package_reads_is_an_option() -> None:
    known = {opt.env for opt in OPTIONS} | {"COUPON_HARNESS_LOAD_SETTINGS"}  # the load process's own channel
    found = set()
    for path in [*(ROOT / "src").rglob("*.py"), *(ROOT / "locustfiles").glob("*.py")]:
        found.update(re.findall(r"COUPON_HARNESS_[A-Z][A-Z_]*[A-Z]", path.read_text(encoding="utf-8")))
    # COUPON_HARNESS_HEADER_<NAME>: one a -H header, read by the shell of a pasted replay line or curl, never by the
    # package (results.request.header_variable names them; the docs' examples mention two).
    family = {name for name in found if name.startswith(f"{HEADER_FAMILY}_")}
    assert all(header_variable(name.removeprefix(f"{HEADER_FAMILY}_")) == name for name in family), family
    assert found - family <= known, sorted(found - family - known)
