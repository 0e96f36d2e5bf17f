"""The option table: every option can be given as a flag, a COUPON_HARNESS_* variable and a config-file key,
and the flag wins over the variable, which wins over the file. A base URL from a flag or a variable never
carries over the file target's series, customers or credentials. NO_COLOR is honoured."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from coupon_harness.cli.contract_cmd import use_color
from coupon_harness.cli.main import build_parser
from coupon_harness.cli.option_table import (
    EVERY,
    OPTIONS,
    PYTEST,
    SCOPES,
    Option,
    Resolved,
    Sources,
    options_of,
    resolve,
    sources_from_namespace,
)
from coupon_harness.cli.settings_builders import contract_settings, credentials, load_settings
from coupon_harness.errors import ConfigError
from coupon_harness.results.load import MaxRegression
from coupon_harness.runners.load.settings import Slo

#: Per option: three values as (flag or variable text, TOML value), and what each one parses to.
SAMPLES: dict[str, list[tuple[str, Any, Any]]] = {
    "compare": [(x, x, Path(x)) for x in ("ca", "cb", "cc")],
    "baseline": [(x, x, Path(x)) for x in ("ba.json", "bb.json", "bc.json")],
    "max-regression": [(f"p95={n}%", [f"p95={n}%"], (MaxRegression("p95", n / 100, True),)) for n in (1, 2, 3)],
    "base-url": [(f"http://{h}.example", f"http://{h}.example", f"http://{h}.example") for h in "abc"],
    "user": [(f"u{x}:p{x}", f"u{x}:p{x}", (f"u{x}", f"p{x}")) for x in "abc"],
    "series-ids": [("1,2", [1, 2], (1, 2)), ("3", [3], (3,)), ("4", [4], (4,))],
    "invalid-series-ids": [("5", [5], (5,)), ("6", [6], (6,)), ("7", [7], (7,))],
    "generic-series-ids": [("8", [8], (8,)), ("9", [9], (9,)), ("10", [10], (10,))],
    "customer-ids": [("c1", ["c1"], ("c1",)), ("c2,c3", ["c2", "c3"], ("c2", "c3")), ("c4", ["c4"], ("c4",))],
    "report-dir": [(x, x, Path(x)) for x in ("ra", "rb", "rc")],
    "batch-size": [("1-2", "1-2", (1, 2)), ("2-3", "2-3", (2, 3)), ("3", 3, (3, 3))],
    "run-time": [("1s", "1s", 1.0), ("2m", "2m", 120.0), ("3", 3, 3.0)],
    "wait": [("1s", "1s", 1.0), ("2s", "2s", 2.0), ("0", 0, 0.0)],
    "load-run-time": [("1s", "1s", 1.0), ("2s", "2s", 2.0), ("3s", "3s", 3.0)],
    "shape": [(x, x, x) for x in ("ramp", "spike", "soak")],
    "slo": [(f"p95={n}ms", [f"p95={n}ms"], (Slo("p95", float(n)),)) for n in (1, 2, 3)],
    "load-slo": [(f"p99={n}s", [f"p99={n}s"], (Slo("p99", n * 1000.0),)) for n in (1, 2, 3)],
    "invalid-share": [(x, float(x), float(x)) for x in ("0.1", "0.2", "0.3")],
    "request-timeout": [(x, float(x), float(x)) for x in ("1.5", "2", "3")],
    "spawn-rate": [(x, float(x), float(x)) for x in ("1", "2.5", "3")],
    "arrival-rate": [(x, float(x), float(x)) for x in ("1", "2", "3")],
    "abort-grace": [("1s", "1s", 1.0), ("2s", "2s", 2.0), ("0", 0, 0.0)],
    "prometheus-port": [(str(n), n, n) for n in (9101, 9102, 9103)],
    "start-rate": [(x, float(x), float(x)) for x in ("10", "20.5", "30")],
    "max-rate": [(x, float(x), float(x)) for x in ("100", "200", "300")],
    "min-capacity": [(x, float(x), float(x)) for x in ("5", "6", "7")],
    "step-time": [("10s", "10s", 10.0), ("1m", "1m", 60.0), ("30", 30, 30.0)],
    "warmup": [("1s", "1s", 1.0), ("2s", "2s", 2.0), ("0", 0, 0.0)],
    "precision": [(x, float(x), float(x)) for x in ("0.05", "0.1", "0.2")],
    "max-steps": [(str(n), n, n) for n in (2, 3, 4)],
    "max-rps": [("5", "5", 5.0), ("2.5", 2.5, 2.5), ("100", 100, 100.0)],
    "passes": [("auth", ["auth"], ("auth",)), ("malformed,classics", "malformed,classics", ("classics", "malformed")),
               ("routes", "routes", ("routes",))],
}
for _name in ("oauth-key", "oauth-secret", "token", "master-host", "master-bind-host", "prometheus-host"):
    SAMPLES[_name] = [(f"{_name}-{x}", f"{_name}-{x}", f"{_name}-{x}") for x in "abc"]
for _name in ("max-examples", "seed", "users", "workers", "expect-workers", "master-port", "max-coupons",
              "load-users", "abort-violations"):
    SAMPLES[_name] = [(str(n), n, n) for n in (1, 2, 3)]
for _name in ("cacert", "client-cert", "client-key"):  # TLS files: checked by the settings builder, not here
    SAMPLES[_name] = [(f"{_name}-{x}.pem", f"{_name}-{x}.pem", Path(f"{_name}-{x}.pem")) for x in "abc"]
for _name in ("rules", "exclude-rules"):  # rule ids: checked against the catalog by the settings builder
    SAMPLES[_name] = [("ra", "ra", ("ra",)), ("rb,rc", "rb,rc", ("rb", "rc")), ("rd", ["rd"], ("rd",))]
SAMPLES["header"] = [("X-A: 1", ["X-A: 1"], (("X-A", "1"),)), ("X-B: 2,3", "X-B: 2,3", (("X-B", "2,3"),)),
                     ("X-C: c", ["X-C: c"], (("X-C", "c"),))]
# The second target of `diff` and its maps.
SAMPLES["against-url"] = [(f"http://{h}.example", f"http://{h}.example", f"http://{h}.example") for h in "def"]
SAMPLES["against-user"] = [(f"v{x}:q{x}", f"v{x}:q{x}", (f"v{x}", f"q{x}")) for x in "abc"]
for _name in ("against-target", "against-password", "against-oauth-key", "against-oauth-secret", "against-token"):
    SAMPLES[_name] = [(f"{_name}-{x}", f"{_name}-{x}", f"{_name}-{x}") for x in "abc"]
SAMPLES["series-map"] = [("1=2", "1=2", {1: 2}), ("3=4,5=6", ["3=4", "5=6"], {3: 4, 5: 6}), ("7=7", "7=7", {7: 7})]
SAMPLES["customer-map"] = [("c1=d1", "c1=d1", {"c1": "d1"}), ("c2=d2,c3=d3", ["c2=d2", "c3=d3"],
                                                               {"c2": "d2", "c3": "d3"}), ("c4=c4", "c4=c4",
                                                                                           {"c4": "c4"})]
#: Flags without a value: the flag says true; the variable and the key say true or false.
BOOLS = [opt.name for opt in OPTIONS if opt.flag_only and EVERY not in opt.scopes]
#: Options not given the three ways by this test: they pick the file (and are tested below) or need a user;
#: -v/-q are read before any file (tests/cli/test_verbosity.py).
SPECIAL = {"config", "target", "password", "verbose", "quiet"}


def _case(opt: Option) -> str:
    return opt.name


def _scope(opt: Option) -> str:
    return next(scope for scope in SCOPES if scope in opt.scopes and scope != PYTEST) \
        if opt.scopes - {PYTEST} else PYTEST


def _write(tmp_path: Path, table: dict[str, Any], name: str = "targets.toml") -> Path:
    def toml(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return '"' + value + '"'
        if isinstance(value, list):
            return "[" + ", ".join(toml(item) for item in value) + "]"
        return repr(value)
    path = tmp_path / name
    path.write_text("[targets.t]\n" + "".join(f"{key} = {toml(value)}\n" for key, value in table.items()))
    return path


def _resolve_cli(scope: str, argv: list[str], environ: dict[str, str]) -> Resolved:
    """Through the command's real parser, as the CLI does."""
    if scope == PYTEST:
        flags: dict[str, Any] = {}
        index = 0
        while index < len(argv):
            name = argv[index].removeprefix("--")
            if name in BOOLS:
                flags[name] = True
                index += 1
            else:
                value = argv[index + 1]
                flags[name] = [value] if next(o for o in OPTIONS if o.name == name).repeatable else value
                index += 2
        return resolve(Sources(flags=flags, environ=environ, flag_prefix="--harness-"), PYTEST)
    args = build_parser().parse_args([scope, *argv])
    return resolve(sources_from_namespace(args, scope, environ), scope)


def test_every_option_has_samples() -> None:
    assert {opt.name for opt in OPTIONS} == set(SAMPLES) | set(BOOLS) | SPECIAL


@pytest.mark.parametrize("opt", [o for o in OPTIONS if o.name in SAMPLES], ids=_case)
def test_each_way_alone_and_flag_over_env_over_file(opt: Option, tmp_path: Path) -> None:
    (flag_text, _, flag_value), (env_text, _, env_value), (_, file_raw, file_value) = SAMPLES[opt.name]
    for scope in sorted(opt.scopes):
        flag = [opt.flag(), flag_text]
        env = {opt.env: env_text}
        config = ["--config", str(_write(tmp_path, {opt.name: file_raw}))]
        assert _resolve_cli(scope, flag, {}).get(opt.name) == flag_value, scope
        assert _resolve_cli(scope, [], env).get(opt.name) == env_value, scope
        assert _resolve_cli(scope, config, {}).get(opt.name) == file_value, scope
        assert _resolve_cli(scope, [*config, *flag], env).get(opt.name) == flag_value, scope
        assert _resolve_cli(scope, config, env).get(opt.name) == env_value, scope
        assert _resolve_cli(scope, [], {}).get(opt.name) is None, scope


@pytest.mark.parametrize("name", BOOLS)
def test_flags_without_a_value_the_three_ways(name: str, tmp_path: Path) -> None:
    opt = next(o for o in OPTIONS if o.name == name)
    for scope in sorted(opt.scopes):
        on_file = ["--config", str(_write(tmp_path, {name: True}, "on.toml"))]
        off_file = ["--config", str(_write(tmp_path, {name: False}, "off.toml"))]
        assert _resolve_cli(scope, [opt.flag()], {}).get(name) is True
        assert _resolve_cli(scope, [], {opt.env: "1"}).get(name) is True
        assert _resolve_cli(scope, [], {opt.env: "false"}).get(name) is False
        assert _resolve_cli(scope, on_file, {}).get(name) is True
        assert _resolve_cli(scope, [*off_file, opt.flag()], {opt.env: "0"}).get(name) is True  # flag wins
        assert _resolve_cli(scope, on_file, {opt.env: "no"}).get(name) is False  # the variable wins over the file
        with pytest.raises(ConfigError, match=opt.env):
            _resolve_cli(scope, [], {opt.env: "maybe"})


def test_password_the_three_ways(tmp_path: Path) -> None:
    config = ["--config", str(_write(tmp_path, {"user": "fu", "password": "fp"}))]
    assert _resolve_cli("contract", config, {}).get("user") == ("fu", "fp")
    assert _resolve_cli("contract", config, {"COUPON_HARNESS_PASSWORD": "ep"}).get("user") == ("fu", "ep")
    assert _resolve_cli("contract", [*config, "--password", "xp"], {"COUPON_HARNESS_PASSWORD": "ep"}).get("user") \
        == ("fu", "xp")
    # A user given by a flag never takes the password the file keeps for its own user; without a password of its
    # own it is refused (it would go out as "other:"), naming the fix.
    with pytest.raises(ConfigError, match="--user gives a user but no password: write USER:PASSWORD, or give the "
                                          "password with --password"):
        _resolve_cli("contract", [*config, "--user", "other"], {})
    assert _resolve_cli("contract", [*config, "--user", "other", "--password", "op"], {}).get("user") == ("other", "op")
    with pytest.raises(ConfigError, match="COUPON_HARNESS_PASSWORD gives a password but no user"):
        _resolve_cli("contract", [], {"COUPON_HARNESS_PASSWORD": "ep"})


def test_config_and_target_from_flags_or_variables(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text('default-target = "a"\n[targets.a]\nmax-examples = 1\n[targets.b]\nmax-examples = 2\n')
    assert _resolve_cli("contract", ["--config", str(path)], {}).get("max-examples") == 1
    assert _resolve_cli("contract", [], {"COUPON_HARNESS_CONFIG": str(path)}).get("max-examples") == 1
    assert _resolve_cli("contract", ["--config", str(path), "--target", "b"], {}).get("max-examples") == 2
    env = {"COUPON_HARNESS_CONFIG": str(path), "COUPON_HARNESS_TARGET": "b"}
    assert _resolve_cli("contract", [], env).get("max-examples") == 2
    assert _resolve_cli("contract", ["--target", "a"], env).get("max-examples") == 1
    with pytest.raises(ConfigError, match="give --config too"):
        _resolve_cli("contract", [], {"COUPON_HARNESS_TARGET": "b"})


def test_load_options_in_the_file_reach_the_load_settings(tmp_path: Path) -> None:
    """SLOs, users and shapes in the TOML file (they used to be 'unknown key')."""
    path = _write(tmp_path, {"base-url": "http://127.0.0.1:9", "series-ids": [101], "users": 7, "shape": "ramp",
                             "slo": ["p95=300ms", "error-rate=0.01"], "run-time": "1m"})
    settings = load_settings(_resolve_cli("load", ["--config", str(path)], {}))
    assert (settings.users, settings.shape, settings.run_time_s) == (7, "ramp", 60.0)
    assert settings.slos == (Slo("p95", 300.0), Slo("error-rate", 0.01))


def test_a_key_of_another_command_is_checked_but_not_used(tmp_path: Path) -> None:
    path = _write(tmp_path, {"base-url": "http://127.0.0.1:9", "users": 7})
    assert _resolve_cli("contract", ["--config", str(path)], {}).get("base-url") == "http://127.0.0.1:9"
    bad = _write(tmp_path, {"base-url": "http://127.0.0.1:9", "users": 0})
    with pytest.raises(ConfigError, match=r"\[targets.t\] users"):
        _resolve_cli("contract", ["--config", str(bad)], {})


FILE_TARGET = {"base-url": "http://staging.example", "series-ids": [101], "invalid-series-ids": [999],
               "customer-ids": ["c1"], "user": "till:secret", "max-examples": 7}


@pytest.mark.parametrize("way", ["variable", "flag"])
def test_another_base_url_drops_the_file_targets_series_and_credentials(way: str, tmp_path: Path) -> None:
    config = ["--config", str(_write(tmp_path, FILE_TARGET))]
    other = "http://127.0.0.1:9"
    argv, env = ([*config], {"COUPON_HARNESS_BASE_URL": other}) if way == "variable" else (
        [*config, "--base-url", other], {})
    resolved = _resolve_cli("contract", argv, env)
    assert resolved.get("base-url") == other
    for name in ("series-ids", "invalid-series-ids", "customer-ids", "user"):
        assert not resolved.given(name), name
    assert resolved.get("max-examples") == 7  # how to run still comes from the file
    assert any("left out" in note for note in resolved.notes)
    settings = contract_settings(resolved)
    assert not settings.expectations.valid_series and not settings.credentials.any


def test_the_same_base_url_keeps_the_file_target(tmp_path: Path) -> None:
    config = ["--config", str(_write(tmp_path, FILE_TARGET))]
    resolved = _resolve_cli("contract", config, {"COUPON_HARNESS_BASE_URL": "http://staging.example/"})
    assert resolved.get("series-ids") == (101,) and resolved.get("user") == ("till", "secret")
    assert not resolved.notes


def test_series_from_the_variable_reach_the_cli() -> None:
    """COUPON_HARNESS_SERIES_IDS was honoured by the locustfile only."""
    resolved = _resolve_cli("load", ["--base-url", "http://127.0.0.1:9"], {"COUPON_HARNESS_SERIES_IDS": "101,102"})
    assert load_settings(resolved).series_ids == (101, 102)
    assert contract_settings(_resolve_cli("contract", ["--base-url", "http://127.0.0.1:9"],
                                          {"COUPON_HARNESS_SERIES_IDS": "5"})).expectations.valid_series == {5}


def test_credentials_are_one_object_from_options_to_settings() -> None:
    resolved = _resolve_cli("load", ["--base-url", "http://u:p@127.0.0.1:9", "--series-ids", "1", "--md5-password"],
                            {})
    creds = credentials(resolved)
    assert (creds.user, creds.password, creds.md5_password) == (None, None, True)
    settings = load_settings(resolved)
    assert (settings.base_url, settings.credentials.user, settings.credentials.password,
            settings.credentials.md5_password) == (
        "http://127.0.0.1:9", "u", "p", True)
    assert contract_settings(resolved).credentials.basic_header() == creds.__class__(
        user="u", password="p", md5_password=True).basic_header()


@pytest.mark.parametrize(("environ", "flag", "tty", "expected"), [
    ({}, False, True, True),
    ({"NO_COLOR": "1"}, False, True, False),
    ({"NO_COLOR": ""}, False, True, True),  # https://no-color.org: set and not empty
    ({"COUPON_HARNESS_NO_COLOR": "1"}, False, True, False),
    ({}, True, True, False),
    ({}, False, False, False),
])
def test_no_color(environ: dict[str, str], flag: bool, tty: bool, expected: bool,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "COUPON_HARNESS_NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    resolved = _resolve_cli("contract", ["--base-url", "http://127.0.0.1:9", *(["--no-color"] if flag else [])],
                            environ)
    assert use_color(resolved) is expected


def test_every_scope_has_its_options() -> None:
    for scope in SCOPES:
        assert options_of(scope), scope


@pytest.mark.parametrize(("scope", "url", "given", "workers"), [
    ("contract", "http://127.0.0.1:9", [], 1),  # the sandbox, any loopback target: one at a time
    ("contract", "https://staging.example.com", [], 4),  # a remote target: four at a time
    ("contract", "https://staging.example.com", ["--workers", "0"], 4),  # 0: that default
    ("contract", "http://127.0.0.1:9", ["--workers", "8"], 8),
    (PYTEST, "https://staging.example.com", ["--workers", "2"], 2),
])
def test_contract_workers_default_by_target_and_given(scope: str, url: str, given: list[str], workers: int) -> None:
    settings = contract_settings(_resolve_cli(scope, ["--base-url", url, *given], {}))
    assert settings.workers == workers
    assert settings.max_rps is None


def test_max_rps_reaches_the_contract_run_and_load_keeps_its_worker_processes() -> None:
    resolved = _resolve_cli("contract", ["--base-url", "http://127.0.0.1:9"], {"COUPON_HARNESS_MAX_RPS": "2.5"})
    assert contract_settings(resolved).max_rps == 2.5
    # `load --workers 3` is three worker processes: the contract settings a load command builds keep one thread.
    load = _resolve_cli("load", ["--base-url", "http://127.0.0.1:9", "--workers", "3", "--series-ids", "101"], {})
    assert load_settings(load).workers == 3
    assert contract_settings(load).workers == 1
