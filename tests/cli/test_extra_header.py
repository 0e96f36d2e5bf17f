"""`-H 'Name: value'`: an extra header on every request the harness sends to the target (contract passes with and
without credentials, the preflight, the load users, both targets of diff), its value redacted from every report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from coupon_harness.cli.main import main
from coupon_harness.cli.option_table import CONTRACT, Sources, resolve
from coupon_harness.errors import ConfigError
from coupon_harness.sandbox.config import default_config
from coupon_harness.sandbox.server import running_sandbox
from targets.broken import BROKEN

CONFIG = default_config()
SECRET = "gw-key-5ecr3t-7f1e"
HEADER = f"X-Gateway-Key: {SECRET}"


class Seen:
    """Every request on the bulk-issue path: whether it carried the header."""

    def __init__(self) -> None:
        self.with_it = 0
        self.without: list[str] = []

    async def __call__(self, request: web.Request) -> None:
        if request.headers.get("X-Gateway-Key") == SECRET:
            self.with_it += 1
        else:
            self.without.append(f"{request.method} {request.path_qs} {dict(request.headers)}")


@pytest.fixture()
def target() -> Iterator[tuple[str, Seen]]:
    seen = Seen()
    with running_sandbox(before=seen) as sandbox:
        yield sandbox.base_url, seen


def _no_secret_in(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path


def test_every_contract_request_carries_the_header(target: tuple[str, Seen], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    url, seen = target
    code = main(["contract", "--base-url", url, "-H", HEADER, "-H", "X-Tenant: t1", "--passes",
                 "classics,auth,property-positive", "-n", "5", "--seed", "1", "--report-dir", str(tmp_path / "r")])
    assert code == 0
    assert seen.with_it > 20 and not seen.without  # the auth pass's requests without credentials too
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    _no_secret_in(tmp_path / "r")


def test_load_users_and_the_preflight_carry_the_header(target: tuple[str, Seen], tmp_path: Path) -> None:
    url, seen = target
    code = main(["load", "--base-url", url, "-H", HEADER, "-u", "2", "-t", "1s", "--report-dir", str(tmp_path / "r")])
    assert code == 0
    assert seen.with_it > 5 and not seen.without
    _no_secret_in(tmp_path / "r")


def test_diff_sends_it_to_both_targets(target: tuple[str, Seen], tmp_path: Path) -> None:
    url, seen = target
    other = Seen()
    series = ",".join(str(i) for i in sorted(CONFIG.valid_series))
    with running_sandbox(before=other) as against:
        code = main(["diff", "--base-url", url, "--against-url", against.base_url, "-H", HEADER, "-n", "3",
                     "-a", "sandbox:sandbox", "--against-user", "sandbox:sandbox", "--series-ids", series,
                     "--seed", "1", "--report-dir", str(tmp_path / "r")])
    assert code in (0, 1)
    assert seen.with_it and other.with_it and not seen.without and not other.without
    _no_secret_in(tmp_path / "r")


@pytest.mark.parametrize(("value", "fragment"), [
    ("X-Key abc", "is not 'Name: value'"),
    ("Bad Name: x", "is not 'Name: value'"),
    ("Authorization: Basic abc", "give the credentials with --user or --token"),
    ("Content-Type: text/plain", "a header the harness sets itself"),
    # A pasted replay line whose ${COUPON_HARNESS_HEADER_X_API_KEY} is not set: the variable is named.
    ("X-Api-Key: ", r"X-Api-Key has no value: .*\(export COUPON_HARNESS_HEADER_X_API_KEY=\.\.\.\)"),
])
def test_a_bad_header_is_one_line(value: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        resolve(Sources(flags={"header": [value]}, environ={}), CONTRACT)


def test_the_variable_takes_one_header_a_line() -> None:
    resolved = resolve(Sources(environ={"COUPON_HARNESS_HEADER": "X-A: 1,2\nX-B: b"}), CONTRACT)
    assert resolved.get("header") == (("X-A", "1,2"), ("X-B", "b"))


def test_replay_carries_the_header(tmp_path: Path) -> None:
    variant = next(v for v in BROKEN if v.name == "500-on-65-char-customer-id")
    with running_sandbox(mutate=variant.mutate(), before=variant.before) as sandbox:
        assert main(["contract", "--base-url", sandbox.base_url, "--passes", "classics", "--seed", "5",
                     "--report-dir", str(tmp_path / "run")]) == 1
    seen = Seen()
    with running_sandbox(before=seen) as sandbox:
        code = main(["replay", str(tmp_path / "run"), "--base-url", sandbox.base_url, "-H", HEADER, "--report-dir",
                     str(tmp_path / "replay")])
    assert code == 0
    assert seen.with_it and not seen.without
    _no_secret_in(tmp_path / "replay")
