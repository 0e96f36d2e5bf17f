"""The habits Locust and Schemathesis users bring: short flags (-u, -r, -t, -n, -a), `--auth` beside `--user`, and
a "did you mean" for a mistyped flag or command that names the command's own --help."""

from __future__ import annotations

import argparse

import pytest

from coupon_harness.cli.harness_bug import _redacted_argv
from coupon_harness.cli.main import build_parser, main
from coupon_harness.cli.option_table import (
    CONTRACT,
    LOAD,
    LOCUST_OWNS,
    add_options,
    resolve,
    sources_from_namespace,
)

COMMANDS = ("run", "contract", "load", "capacity", "diff", "replay")


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_load_takes_locusts_short_flags() -> None:
    args = build_parser().parse_args(["load", "-u", "3", "-r", "2", "-t", "5s"])
    resolved = resolve(sources_from_namespace(args, LOAD, environ={}), LOAD)
    assert (resolved.get("users"), resolved.get("spawn-rate"), resolved.get("run-time")) == (3, 2.0, 5.0)


def test_capacity_takes_u_for_users() -> None:
    assert build_parser().parse_args(["capacity", "-u", "4"]).users == "4"


@pytest.mark.parametrize("spelling", [["-a", "me:pw"], ["-ame:pw"], ["--auth", "me:pw"], ["--auth=me:pw"],
                                      ["--user", "me:pw"]])
def test_auth_is_user_as_schemathesis_spells_it(spelling: list[str]) -> None:
    args = build_parser().parse_args(["contract", "-n", "7", *spelling])
    resolved = resolve(sources_from_namespace(args, CONTRACT, environ={}), CONTRACT)
    assert resolved.get("user") == ("me", "pw")
    assert resolved.get("max-examples") == 7


def test_auth_and_user_together_are_given_twice(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["contract", "-a", "me:pw1", "--user", "me:pw2"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "given twice" in err and "pw1" not in err and "pw2" not in err


@pytest.mark.parametrize("command", COMMANDS)
def test_short_flags_do_not_clash(command: str) -> None:
    """argparse refuses a clash when it builds the parser; here also: each one-letter flag means one thing, and
    -h, -v, -q keep theirs."""
    parser = _parsers()[command]
    shorts = {flag: action.dest for flag, action in parser._option_string_actions.items() if len(flag) == 2}
    assert shorts["-h"] == "help" and shorts["-v"] == "verbose" and shorts["-q"] == "quiet"
    assert len(set(shorts.values())) == len(shorts)


def test_plain_locust_keeps_its_own_short_flags() -> None:
    parser = argparse.ArgumentParser()
    for flag in ("-u", "-r", "-t", "-H", "-a"):  # as Locust's parser has them (or may)
        parser.add_argument(flag)
    add_options(parser, LOAD, exclude=LOCUST_OWNS, short=False)  # raises on a clash
    assert not [flag for flag in parser._option_string_actions if len(flag) == 2 and flag not in
                ("-h", "-u", "-r", "-t", "-H", "-a")]


def test_a_mistyped_flag_names_the_flag_and_the_commands_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["load", "--seriesids", "101"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == ("coupon-harness load: error: unrecognized arguments: --seriesids (did you mean --series-ids?) "
                   "(see coupon-harness load --help)")


def _mistyped(flag: str) -> str:
    """`--series-ids` -> `--seriesids`; `--users` -> `--usres`: not a prefix argparse would take."""
    name = flag[2:]
    if "-" in name:
        return "--" + name.replace("-", "", 1)
    return "--" + name[:-2] + name[-1] + name[-2]


#: What a command needs besides flags, so that the mistyped flag is what argparse refuses.
NEEDS = {"replay": ["reports/x"], "export-tests": ["reports/x", "-o", "t.py"], "serve": [], "locustfile-path": []}


@pytest.mark.parametrize("command", COMMANDS + tuple(NEEDS))
def test_every_mistyped_flag_gets_a_did_you_mean(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = _parsers()[command]
    flags = [flag for flag in parser._option_string_actions if flag.startswith("--") and len(flag) > 5]
    missed = []
    for flag in flags:
        wrong = _mistyped(flag)
        if wrong in parser._option_string_actions:
            continue
        with pytest.raises(SystemExit):
            main([command, *NEEDS.get(command, []), wrong])
        err = capsys.readouterr().err
        if "did you mean --" not in err or f"(see coupon-harness {command} --help)" not in err:
            missed.append((wrong, err))
    assert not missed


def test_a_mistyped_flag_never_shows_the_value_after_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["contract", "--uesr", "me:s3cret-pw"])
    err = capsys.readouterr().err
    assert "did you mean --user?" in err and "s3cret" not in err


def test_a_mistyped_command_gets_a_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["contrat", "--base-url", "http://127.0.0.1:1"])
    assert exc.value.code == 2
    assert "invalid choice: 'contrat' (did you mean contract?" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["contract", "-a", "me:s3cret"], ["contract", "-ame:s3cret"],
                                  ["contract", "-H", "X-Key: s3cret"], ["contract", "--header=X-Key: s3cret"],
                                  ["contract", "--auth", "me:s3cret"], ["contract", "--auth=me:s3cret"]])
def test_the_crash_guard_redacts_auth_in_every_spelling(argv: list[str]) -> None:
    assert "s3cret" not in " ".join(_redacted_argv(argv))


def test_pytest_takes_harness_header_repeated() -> None:
    """Under pytest, `--harness-header` is repeatable too, and reaches the settings as a list."""
    from coupon_harness.cli import pytest_plugin

    kwargs: dict[str, dict[str, object]] = {}

    class Group:
        def addoption(self, *names: str, **options: object) -> None:
            kwargs[names[0]] = options

    class Parser:
        def getgroup(self, *_args: object, **_kwargs: object) -> Group:
            return Group()

    pytest_plugin.pytest_addoption(Parser())  # type: ignore[arg-type]
    assert kwargs["--harness-header"]["action"] == "append"
