"""The contract suite under pytest: a plugin shipped with the package (entry point `pytest11`).

`pytest --harness-base-url URL --harness-user USER:PASSWORD ...` runs one test per rule of the contract
(`coupon-harness::test_rule[<rule id>]`, skipped with the reason when not checked) and one that fails on a harness
bug. The options are `contract`'s, spelt `--harness-NAME`, with the same variables, keys and precedence. Loaded by
every pytest run where the package is installed, it does nothing but add its options until a target is given.

A suite of its own asks for the session fixture `harness_contract_result` (then the plugin adds no tests; without
a target it skips, unless `harness_sandbox_fallback` returns True: an in-process sandbox is tested).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from coupon_harness.cli.option_table import PYTEST, Resolved, Sources, given_twice, options_of, resolve
from coupon_harness.errors import ConfigError, HarnessError, one_line

if TYPE_CHECKING:
    from coupon_harness.results.contract import ContractRunResult

__all__ = ["FIXTURE", "PREFIX", "REPLAY_FIXTURE", "SUITE", "check_faults", "check_rule", "contract_result",
           "rule_ids"]

PREFIX = "--harness-"
#: The fixtures of a suite of its own and of exported tests: a session that asks for one gets no tests of the plugin.
FIXTURE, REPLAY_FIXTURE = "harness_contract_result", "harness_replay"
SUITE = "coupon-harness"  # the node id of the plugin's own tests
DEFAULT_SEED = 1  # under pytest the same examples every run, unless a seed is given
_NO_TARGET = "no target: give --harness-base-url URL (or COUPON_HARNESS_BASE_URL)"
_FLAG = re.compile(r"(?<![\w-])--(?=[a-z])")  # a flag in a help text, spelt as under pytest


@dataclass
class _State:
    active: bool
    resolved: Resolved | None = None
    result: ContractRunResult | None = None
    #: The session's coupons.csv (every coupon its contract run and replays cause), once a target is tested.
    coupons: Path | None = None


def _coupons_csv(state: _State, base_url: str) -> Path | None:
    """The session's coupons.csv, in the report folder it claims on first use (--harness-report-dir, else for a
    target off loopback reports/pytest-<time>-<random>/); None on loopback without --harness-report-dir."""
    if state.coupons is None:
        from coupon_harness.cli.report_dir import prepare_report_dir
        from coupon_harness.coupon_log import FILE_NAME
        from coupon_harness.safety import is_loopback

        assert state.resolved is not None
        given = state.resolved.get("report-dir")
        if given is None and is_loopback(base_url):
            return None
        folder = prepare_report_dir(given, "pytest", overwrite=True, flag=f"{PREFIX}report-dir")
        state.coupons = folder / FILE_NAME
    return state.coupons


_STATE = pytest.StashKey[_State]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("coupon-harness", "coupon-harness: the contract suite of POST /v2/coupon/bulk/issue "
                            "(runs when a target is given)")
    for opt in options_of(PYTEST):
        help_text = _FLAG.sub(PREFIX, f"{opt.help_for(PYTEST)} [{opt.env}]").replace("%", "%%")
        how = ({"action": "store_true"} if opt.flag_only else {"action": "append", "metavar": opt.metavar}
               if opt.repeatable else {"metavar": opt.metavar})
        group.addoption(opt.flag(PREFIX), dest=_dest(opt.dest), default=None, help=help_text, **how)


def _exit(exc: ConfigError) -> NoReturn:
    pytest.exit(f"coupon-harness: {one_line(str(exc))}", returncode=2)


def _dest(name: str) -> str:
    return f"harness_{name}"


def _sources(config: pytest.Config) -> Sources:
    flags = {opt.name: config.getoption(_dest(opt.dest)) for opt in options_of(PYTEST)}
    return Sources(flags=flags, environ=dict(os.environ), flag_prefix=PREFIX)


def _resolved(config: pytest.Config) -> Resolved:
    """The options, checked, and the production guard applied: before any request, one line, exit 2."""
    from coupon_harness.cli.settings_builders import contract_settings

    try:
        given_twice(config.invocation_params.args, PYTEST, PREFIX)  # --harness-seed 1 --harness-seed 2: refused
        resolved = resolve(_sources(config), PYTEST)
        if resolved.given("base-url"):
            contract_settings(resolved)
    except ConfigError as exc:
        _exit(exc)
    return resolved


def _options(config: pytest.Config) -> Resolved:
    """The session's options, resolved once (`_resolved`)."""
    state = config.stash[_STATE]
    if state.resolved is None:
        state.resolved = _resolved(config)
    return state.resolved


def pytest_configure(config: pytest.Config) -> None:
    active = bool(config.getoption(_dest("base_url")) or os.environ.get("COUPON_HARNESS_BASE_URL")
                  or config.getoption(_dest("config")))
    config.stash[_STATE] = _State(active=active)
    if active:
        _options(config)


def contract_result(config: pytest.Config, *, sandbox_fallback: bool = False) -> ContractRunResult:
    """The session's one contract run, on first use: against the target given, else (`sandbox_fallback`) an
    in-process sandbox, else the calling test is skipped."""
    state = config.stash[_STATE]
    if state.result is None:
        if not _options(config).given("base-url") and not sandbox_fallback:
            pytest.skip(_NO_TARGET)
        state.result = _run(state)
    return state.result


def _run(state: _State) -> ContractRunResult:
    assert state.resolved is not None
    resolved = state.resolved
    from coupon_harness.cli.main import keep_caches_out_of_the_working_directory
    from coupon_harness.cli.sandbox_target import discover_sandbox, sandbox_settings
    from coupon_harness.cli.settings_builders import contract_settings
    from coupon_harness.runners.contract import run_contract

    keep_caches_out_of_the_working_directory()

    def seeded(settings: Any) -> Any:
        return settings if resolved.given("seed") else replace(settings, seed=DEFAULT_SEED)

    try:
        with ExitStack() as stack:
            if resolved.given("base-url"):
                settings = discover_sandbox(seeded(contract_settings(resolved)))
            else:  # the in-process sandbox (loopback): its coupons end with it, none listed unless a folder is asked
                from coupon_harness.sandbox.info import sandbox_info
                from coupon_harness.sandbox.server import running_sandbox

                sandbox = stack.enter_context(running_sandbox())
                settings = sandbox_settings(seeded(contract_settings(resolved, base_url=sandbox.base_url)),
                                            sandbox_info(sandbox.config))
            return run_contract(replace(settings, coupons_csv=_coupons_csv(state, settings.base_url)))
    except ConfigError as exc:
        _exit(exc)


@pytest.fixture(scope="session")
def harness_sandbox_fallback() -> bool:
    """Override to return True to test an in-process sandbox when no target is given."""
    return False


@pytest.fixture(scope="session")
def harness_contract_result(pytestconfig: pytest.Config, harness_sandbox_fallback: bool) -> ContractRunResult:
    """One contract run per session, shared by every test that asks for it."""
    return contract_result(pytestconfig, sandbox_fallback=harness_sandbox_fallback)


@pytest.fixture
def harness_replay(pytestconfig: pytest.Config) -> Callable[[dict[str, Any], dict[str, list[int]]], None]:
    """For the tests `export-tests` writes: `harness_replay(finding, known_series)` sends the finding's requests to
    the target given to pytest and fails naming the rule while the finding shows (skips without a target)."""
    state = pytestconfig.stash[_STATE]
    resolved = _options(pytestconfig)
    if not resolved.given("base-url"):
        pytest.skip(_NO_TARGET)

    def replay(case: dict[str, Any], known_series: dict[str, list[int]]) -> None:
        try:
            coupons = _coupons_csv(state, str(resolved.get("base-url")))
        except ConfigError as exc:
            _exit(exc)
        _replay_case(resolved, case, known_series, coupons)

    return replay


def _replay_case(resolved: Resolved, case: dict[str, Any], known_series: dict[str, list[int]],
                 coupons: Path | None) -> None:
    from coupon_harness.cli.replay_cmd import replay_settings
    from coupon_harness.results.codec import decode
    from coupon_harness.results.contract import Finding, RunShape
    from coupon_harness.runners.contract.replay import NOT_REPLAYABLE, STILL_FAILING, replay_finding

    def series(name: str) -> tuple[int, ...]:
        given = resolved.get(name.replace("_", "-"))
        return tuple(given) if given else tuple(known_series.get(name, ()))

    try:
        # The case is a finding in summary.json's form (export_cmd._case): its `judged` is the field `replay`.
        finding = decode(Finding, {"response_status": None, "response_excerpt": "", "source": "exported",
                                   "seed": None, **case, "replay": case.get("judged")}, "the exported finding")
        shape = RunShape(base_url=str(resolved.get("base-url")), series_ids=series("series_ids"),
                         invalid_series_ids=series("invalid_series_ids"),
                         generic_series_ids=series("generic_series_ids"),
                         request_timeout=resolved.get("request-timeout", 5.0))
        settings = replace(replay_settings(resolved, shape, "the exported test"), coupons_csv=coupons)
        verdict = replay_finding(finding, settings)
    except (KeyError, TypeError, ValueError) as exc:
        pytest.fail(f"not a finding coupon-harness export-tests wrote: {type(exc).__name__}: {exc}", pytrace=False)
    except ConfigError as exc:
        _exit(exc)
    except HarnessError as exc:  # the target is down or refuses the credentials: never a pass
        pytest.fail(f"coupon-harness could not replay the finding: {exc}", pytrace=False)
    if verdict.state == NOT_REPLAYABLE:
        pytest.skip(verdict.detail)
    if verdict.state == STILL_FAILING:
        lines = [f"rule {finding.rule_id} ({finding.key}) still fails: {verdict.detail}",
                 f"finding {finding.fingerprint}" + (f", probe {finding.probe_class}" if finding.probe_class else "")]
        if finding.curl is not None:
            lines.append(finding.curl)
        pytest.fail("\n".join(lines), pytrace=False)


def rule_ids() -> list[str]:
    from coupon_harness.contract.catalog import rules

    return [rule.id for rule in rules()]


def check_rule(result: ContractRunResult, rule_id: str) -> None:
    """Passes when the rule held, skips with the reason when it was not run, fails with every finding."""
    from coupon_harness.results.contract import Outcome

    rule = next(r for r in result.rules if r.rule.id == rule_id)
    if rule.outcome is Outcome.NOT_RUN:
        pytest.skip(rule.reason or "not run")
    if rule.outcome is Outcome.FAILED:
        lines = [f"{rule.rule.title}: {len(rule.findings)} distinct violation(s), seed {result.seed}"]
        for finding in rule.findings:
            probe = f"[{finding.probe}] " if finding.probe else ""
            lines.append(f"- {probe}expected {finding.expected}; received {finding.received} ({finding.source}, "
                         f"{finding.occurrences}x)")
            if finding.curl is not None:
                lines.append("  " + finding.curl.replace("\n", "\n  "))
        pytest.fail("\n".join(lines), pytrace=False)


def check_faults(result: ContractRunResult) -> None:
    """Fails when a pass of the harness stopped on a bug of its own (never silently)."""
    if result.faults:
        pytest.fail("\n".join(f"harness error in pass {fault.stage!r} (seed {result.seed}): {fault.error}\n"
                              f"{fault.traceback}" for fault in result.faults), pytrace=False)


# --- the plugin's own tests, for a session that has none using the fixture ----------------------------

class _Suite(pytest.Collector):
    def collect(self) -> list[pytest.Item]:
        items: list[pytest.Item] = [
            _Check.from_parent(self, name=f"test_rule[{rule_id}]", what=f"rule {rule_id}",
                               check=lambda result, rule_id=rule_id: check_rule(result, rule_id))
            for rule_id in rule_ids()]
        items.append(_Check.from_parent(self, name="test_harness_ran_every_pass_without_a_bug",
                                        what="every pass ran without a harness bug", check=check_faults))
        return items


class _Check(pytest.Item):
    """One test of the plugin's own: `check` judges the session's contract run."""

    def __init__(self, *, what: str, check: Callable[[ContractRunResult], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.what, self.check = what, check

    def runtest(self) -> None:
        self.check(contract_result(self.config))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"{SUITE}: {self.what}"


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselect, so they apply to these tests too
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or not state.active:
        return
    if any(name in getattr(item, "fixturenames", ()) for item in items for name in (FIXTURE, REPLAY_FIXTURE)):
        return  # the session has a suite of its own (this checkout's tests/contract, exported regression tests)
    suite = _Suite.from_parent(session, name=SUITE, nodeid=SUITE)
    collected = suite.collect()
    # Reported as collected, so that the terminal's count ("collected 26 items") includes them.
    config.hook.pytest_collectreport(report=pytest.CollectReport(SUITE, "passed", None, list[Any](collected)))
    items.extend(collected)
