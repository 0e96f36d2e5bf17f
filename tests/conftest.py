"""Marks the slowest tests `slow`, so that `scripts/check --fast` (pytest -m "not slow") leaves them out.

Marked here, by file or by test, rather than in each file: the list is the one place to read what the fast
mode skips, and measured (pytest -n 2 --durations=0; the seconds below are those of one such run), plus the
self-tests' seeds after the first (`FAST_SEED`). Everything else takes under ~2.5 s a test on a quiet machine.
The full suite, what CI runs, still runs all of them.

Also here: the `children` fixture and the safety net that no child process outlives its test (tests/children.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.children import Children, child_pids, close_ended_pipes, reap_leftovers

ROOT = Path(__file__).resolve().parent.parent

#: Test files every test of which is slow (a load run, a whole CLI or pytest run in a subprocess, or a
#: contract run against a served target), with the seconds the file took in all.
SLOW_FILES = {
    "tests/selftest/test_seed_sweep.py": "seed sweep, 30 contract runs in three parts, 90 s in all",
    "tests/selftest/test_broken_targets.py": "property passes against broken targets, 27 s",
    "tests/selftest/test_garbage_targets.py": "contract runs against garbage targets, 18 s",
    "tests/selftest/test_correct_targets.py": "property passes against correct targets, 16 s",
    "tests/selftest/test_workers.py": "contract runs with --workers 1 and 4 against served targets, 7 s",
    "tests/load/test_distributed.py": "distributed load runs, 76 s",
    "tests/load/test_cap_and_prefix.py": "load runs, 64 s",
    "tests/load/test_load_gates.py": "load runs, 39 s",
    "tests/load/test_signals.py": "signals to contract and load runs, 31 s",
    "tests/load/test_load_cli.py": "load runs through the CLI, 20 s",
    "tests/load/test_open_model.py": "open-model load runs, 11 s",
    "tests/load/test_plain_locust_cap.py": "plain locust runs, 6 s",
    "tests/load/test_load_secrets_on_disk.py": "a load run watched for files, 5 s",
    "tests/load/test_load_redaction.py": "load runs, 5 s",
    "tests/cli/test_redaction_echo.py": "every command x credential kind against a target echoing every form, 50 s "
                                        "alone (75 s beside other runs)",
    "tests/contract_layer/test_pytest_way_in.py": "pytest runs in a subprocess, 27 s",
    "tests/test_installed_wheel.py": "builds and installs the wheel, pytest and locust from it, 32 s",
    "tests/load/test_cross_response_under_load.py": "5 load runs to a 1,500-coupon cap, local and distributed, 18 s "
                                                    "(-n 2, load average 11)",
    "tests/load/test_locust_agrees.py": "plain locust runs, headless and web UI",
    "tests/load/test_distributed_codes.py": "a distributed load run, 6 s",
    "tests/load/test_plain_locust_refusals.py": "plain locust in a subprocess",
    "tests/load/test_netns_distributed.py": "target, master and two workers in network namespaces, 32 s",
    "tests/load/test_capacity_selftest.py": "capacity searches through the CLI, 100 s",
    "tests/load/test_abort_on_fail.py": "load runs that stop early, local, 2 workers and the CLI, 35 s",
    "tests/load/test_prometheus.py": "load runs scraped during the run, local and 2 workers, 30 s",
    "tests/load/test_violation_samples.py": "load runs against a broken target, local and 2 workers, 20 s",
    "tests/load/test_step_figures.py": "a ramp and a steady load run, 9 s",
    "tests/load/test_long_soak.py": "a synthesized 24 h soak twice, compared, 12 s",
    "tests/cli/test_replay_export.py": "contract runs, replays and exported pytest files against broken targets, 40 s",
    "tests/cli/test_contract_baseline.py": "contract runs against broken targets, 5 seeds, the pytest plugin, 25 s",
    "tests/diff/test_diff_sandboxes.py": "differential runs between two sandboxes, 13 s",
    "tests/diff/test_diff_cli.py": "differential runs through the CLI (one subprocess), 7 s",
    "tests/cli/test_ci_files.py": "load, capacity and run through the CLI against a sandbox, 23 s",
    "tests/cli/test_cli_garbage.py": "garbage to all nine subcommands in-process (1,500 examples, 10 s), every file "
                                     "input against every hostile file, hang-prone inputs in 6 subprocesses, 14 s",
    "tests/test_ci_recipes.py": "the CI recipes' commands against the sandbox (contract and load runs), 45 s",
    "tests/load/test_killed_and_full.py": "load and contract runs killed outright, or on a full tmpfs, 28 s",
    "tests/cli/test_lifecycle.py": "CLI runs refused by a folder in use or a wrong password, plain locust, 10 s",
    "tests/cli/test_coupons_listed.py": "contract, run, diff and replay runs against logging sandboxes, 12 s",
    "tests/load/test_soak_million.py": "a 10^6-coupon load run and a 10^5 one with a planted duplicate, 36 s "
                                       "(90-130 s beside a parallel suite)",
    "tests/cli/test_hostile_cli.py": "every command through the CLI against hostile targets and redirects, 48 s",
    "tests/load/test_hostile_load.py": "load runs (local, 2 workers, plain locust, a capacity step) against hostile "
                                       "targets, 30 s",
    "tests/transport/test_outbound_gevent.py": "a gevent child process against hostile targets, 7 s",
    "tests/selftest/test_stateful_targets.py": "stateful passes against 8 order bugs and 2 correct servers, 5 seeds "
                                               "each, 37 s with -n 2",
    "tests/cli/test_replay_lines_run.py": "replay lines and curls pasted into bash against sandboxes (contract, diff, "
                                          "load, capacity and run), 12 CPU-s, 25 s for the capacity rerun alone",
    "tests/selftest/test_legit_targets.py": "contract runs against 8 legitimately different servers, 11 CPU-s",
    "tests/load/test_plain_locust_discovery.py": "plain locust in a subprocess, 4 CPU-s, 11 s for the production host",
    "tests/cli/test_stateful_cli.py": "5 whole contract runs through the CLI, replays and an exported test, 35 s "
                                      "with -n 2",
}

#: Single slow tests (node id without parameters) in files that are otherwise quick.
SLOW_TESTS = {
    "tests/mutation/test_fixed_mutants.py::test_a_fixed_mutant_is_killed": "20 contract runs against mutants, 25 s",
    "tests/mutation/test_fixed_mutants.py::test_the_unmutated_sandbox_holds": "a contract run, 5 s",
    "tests/cli/test_secret_registry.py::test_a_runs_outputs_hide_a_new_secret_option": "a contract and a load run, 3 s",
    "tests/cli/test_cli.py::test_run_starts_the_sandbox_and_writes_an_index": "contract and load run, 14 s",
    "tests/cli/test_cli.py::test_contract_against_a_served_sandbox_exits_0_and_writes_reports": "4 s",
    "tests/cli/test_harness_faults.py::test_contract_exits_2_naming_pass_seed_and_file": "6 s",
    "tests/cli/test_pytest_way_in_faults.py::test_a_faulted_pass_fails_the_pytest_run": "4 s",
    "tests/cli/test_input_validation.py::test_repeated_customer_ids_finish": "3 contract runs, 9 s",
    "tests/contract_layer/test_baseline_merge.py::test_processes_at_once_keep_every_entry":
        "4 processes updating one baseline at once, 2.5 s",
    "tests/load/test_event_channel.py::test_progress_reaches_the_caller_with_rate_and_p95": "a 6 s load run",
    "tests/load/test_generator_behind.py::test_a_closed_model_run_has_no_schedule_to_fall_behind": "a 2 s load run",
    "tests/load/test_abort_ways_in.py::test_plain_locust_stops_early_with_the_reason_and_serves_metrics":
        "a plain locust run, 15 s",
    "tests/selftest/test_routes_cli.py::test_an_exported_route_finding_fails_on_the_gateway_and_passes_on_the_sandbox":
        "a contract run, its exported pytest file run twice in subprocesses, 18 s",
    "tests/contract_layer/test_ledger_memory.py::test_a_coupon_costs_under_9_5_bytes_at_scale":
        "10^6 coupons into the ledger, 11 s",
    "tests/sandbox/test_issued_memory.py::test_a_code_costs_under_9_5_bytes": "10^6 codes issued, 11 s",
    "tests/load/test_rate_matches_timeline.py::test_reported_rate_matches_the_timeline": "two 6 s load runs, 17 s",
    "tests/contract_layer/test_schemathesis_adapter.py::test_headers_dripped_end_at_the_deadline_as_a_timeout":
        "a property pass whose every answer drips its headers, 5 s",
    "tests/selftest/test_routes_cli.py::test_a_route_past_the_auth_filter_fails_the_gate_naming_its_class":
        "9 contract runs through the CLI, 9 CPU-s",
    "tests/selftest/test_classic_bugs_cli.py::test_classic_bug_fails_the_gate_naming_rule_and_probe":
        "3 contract runs through the CLI, 3 CPU-s",
    "tests/selftest/test_broken_mutation_targets.py::test_the_cli_fails_one_instance_of_each_class":
        "3 contract runs through the CLI, 3 CPU-s",
    "tests/contract_layer/test_ledger.py::test_a_coupon_whose_code_does_not_pack_costs_under_100_bytes":
        "a memory measure, 3 CPU-s, 21 s beside a parallel suite",
    "tests/cli/test_cli.py::test_no_credential_reaches_reports_or_console": "contract and load runs, 16 s",
    "tests/contract_layer/test_hostile_json.py::test_hostile_values_one_by_one": "2.3 CPU-s, 7 s",
    "tests/cli/test_verbosity.py::test_the_load_process_logs_at_the_cli_level": "a load run, 2.5 CPU-s",
    "tests/cli/test_report_dirs.py::test_existing_reports_are_not_overwritten_without_the_flag": "CLI runs, 2 CPU-s",
    "tests/sandbox/test_issued_memory.py::test_counter_codes_cost_nothing_in_memory": "10^5 codes issued, 2 CPU-s",
    "tests/load/test_compare.py::test_runs_of_one_distribution_do_not_flag_each_other": "bootstraps, 2 CPU-s",
    "tests/load/test_compare.py::test_the_bootstrap_is_seeded": "bootstraps, 1.3 CPU-s",
    "tests/load/test_curl_paste.py::test_a_load_run_s_sample_curl_reproduces_its_violation": "a load run, 1.5 CPU-s",
    "tests/cli/test_extra_header.py::test_load_users_and_the_preflight_carry_the_header": "a load run, 1.3 CPU-s",
    "tests/cli/test_extra_header.py::test_diff_sends_it_to_both_targets": "a diff run, 1.2 CPU-s",
    "tests/diff/test_lost_requests.py::test_contract_and_diff_judge_a_lost_request_alike":
        "contract and diff runs against dripping targets, 11 s",
    "tests/reporting/test_browser.py::test_reports_in_headless_chromium":
        "every report kind opened in headless Chromium at once, 12 CPU-s (31 s at load average 21)",
    "tests/cli/test_report_dirs.py::test_two_simultaneous_runs_get_two_complete_folders":
        "two CLI contract runs at once, 5 CPU-s (15 s at load average 21)",
}


#: Tests whose verdict rests on latency differences of a few milliseconds: they run alone, after the parallel
#: phase (scripts/check runs `-m serial` on its own), since a neighbour's load run on the same two cores adds
#: more noise than the effect they measure. Serial tests are slow tests too.
SERIAL_TESTS = {
    "tests/load/test_compare.py::test_a_target_slowed_fivefold_is_flagged":
        "2 runs: beside a neighbour's run the generator falls behind, and the comparison (rightly) gives no verdict",
    "tests/load/test_compare.py::test_the_cli_exits_1_on_a_regression_and_writes_the_comparison": "2 runs, the same",
    "tests/load/test_capacity_selftest.py::test_a_saturated_generator_is_reported_instead_of_a_capacity":
        "the generator pinned to one core must have it to itself, 10 s",
    "tests/load/test_capacity_selftest.py::test_the_search_finds_a_configured_knee_within_15_percent":
        "a capacity search: a generator starved by a neighbour's run is (rightly) reported as the limit, 23-29 s",
    "tests/load/test_capacity_selftest.py::test_workers_drive_each_step": "a capacity search with workers, 15 s",
    "tests/load/test_generator_behind.py::test_a_starved_generator_is_behind_its_schedule":
        "a generator starved by 16 CPU hogs, which would starve its neighbours too, 9 s",
}


#: The extended tier: more variants of what the CI tier already shows for each defect class, left out of
#: `scripts/check` (what CI runs: a fresh clone's install and check must stay within CI's 10 minutes on a busy
#: 2-core machine) and run by `scripts/check --all` (before a release, and after a change to what they cover).
#: Each says what in the CI tier shows the same class. Extended tests are slow tests too.
EXTENDED_TESTS = {
    **{f"tests/load/test_signals.py::test_a_signalled_load_run_keeps_its_report_and_every_code[{case}]":
       "a load run signalled at a moment the CI tier signals too, by the other signal or delivery (~3 CPU-s, ~15 s); "
       "the CI tier keeps each moment once (SIGTERM-start-up-cli, SIGINT-mid-run-cli, SIGINT-near-end-group) and "
       "tests/cli/test_claim_window.py the start-up window of every command"
       for case in ("SIGINT-start-up-group", "SIGTERM-mid-run-group", "SIGTERM-near-end-cli")},
    **{f"tests/load/test_signals.py::test_a_signalled_contract_run_writes_its_partial_report[{case}]":
       "a contract run signalled between the phase boundaries the CI tier signals at (SIGINT-0s, SIGTERM-0.6s, "
       "SIGINT-0.9s), ~3 CPU-s each"
       for case in ("SIGTERM-0.2s", "SIGINT-0.4s", "SIGTERM-1.3s")},
    "tests/cli/test_stateful_cli.py::test_contract_fails_the_order_bug_naming_rule_and_class[271828]":
        "the order bug under a second seed, ~6 CPU-s; the CI tier: the first seed, and the stateful self-tests",
    "tests/cli/test_cli_garbage.py::test_more_garbage_never_crashes":
        "1500 examples, ~26 CPU-s; the CI tier: the same property over 500 others (test_garbage_never_crashes)",
    "tests/selftest/test_seed_sweep.py::test_every_seed_passes_against_a_correct_target[2]":
        "2 of the sweep's 8 seeds, ~13 CPU-s; the CI tier sweeps the other 6 (parts 0 and 1)",
    "tests/load/test_soak_million.py::test_a_million_coupons_are_issued_counted_and_listed_in_bounded_memory":
        "30 CPU-s; the CI tier: the Ledger's and the sandbox's per-code memory tests (tests/contract_layer/"
        "test_ledger_memory.py, tests/sandbox/test_issued_memory.py) and the load runs' coupon counts and lists",
}
#: Secret forms of tests/cli/test_redaction_echo.py that only the extended tier runs through `contract`, `run` and
#: `load`: the CI tier runs oauth (fetched and refreshed tokens) through each, every form through `diff` and the
#: crash guard, and every form through tests/transport/.
EXTENDED_ECHO_KINDS = {"basic", "token", "userinfo", "md5"}
#: md5 stays in the CI tier through `diff` (oauth-md5) and the crash guard.
ECHO_EVERY_KIND = ("test_diff_leaks_nothing", "test_the_crash_guard_leaks_nothing")
ECHO_FILE = "tests/cli/test_redaction_echo.py"


def _is_extended(file: str, item: pytest.Item) -> bool:
    if item.nodeid in EXTENDED_TESTS or item.nodeid.split("[", 1)[0] in EXTENDED_TESTS or _is_other_seed(file, item):
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    name = item.nodeid.split("::")[-1].split("[", 1)[0]
    return file == ECHO_FILE and name not in ECHO_EVERY_KIND and params.get("kind") in EXTENDED_ECHO_KINDS


#: The self-tests judge every target under tests/selftest/harness.py's SEEDS; CI's tier and the fast mode run the
#: first seed only, the extended tier (`scripts/check --all`) every seed; the seed sweep runs 8 against a correct
#: target in CI.
FAST_SEED = 1


def _file_of(item: pytest.Item) -> str:
    try:
        return item.path.relative_to(ROOT).as_posix()
    except ValueError:  # a test outside this checkout's tests/
        return ""


def _is_slow(item: pytest.Item) -> bool:
    file = _file_of(item)
    if not file:
        return False
    return (_is_extended(file, item) or file in SLOW_FILES or item.nodeid.split("[", 1)[0] in SLOW_TESTS
            or _is_serial(item))


def _is_other_seed(file: str, item: pytest.Item) -> bool:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return file.startswith("tests/selftest/") and params.get("seed", FAST_SEED) != FAST_SEED


def _is_serial(item: pytest.Item) -> bool:
    return item.nodeid.split("[", 1)[0] in SERIAL_TESTS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _is_slow(item):
            item.add_marker(pytest.mark.slow)
        if _is_extended(_file_of(item), item):
            item.add_marker(pytest.mark.extended)
        if _is_serial(item):
            item.add_marker(pytest.mark.serial)
    _longest_first(config, items)


#: The longest tests, longest first: under xdist each starts at the head of a worker's first share (worksteal hands
#: out contiguous shares, then steals from their tails), so none of them starts last and makes the run's tail.
LONGEST = (
    "tests/reporting/test_browser.py::test_reports_in_headless_chromium",  # first: a fresh CI machine installs chromium
    "tests/load/test_soak_million.py::test_a_million_coupons",
    "tests/selftest/test_seed_sweep.py::test_every_seed_passes_against_a_correct_target[0]",
    "tests/selftest/test_seed_sweep.py::test_every_seed_passes_against_a_correct_target[1]",
    "tests/selftest/test_seed_sweep.py::test_every_seed_passes_against_a_correct_target[2]",
    "tests/sandbox/test_issued_memory.py::test_a_code_costs_under_9_5_bytes",
    "tests/contract_layer/test_ledger_memory.py::test_a_coupon_costs_under_9_5_bytes_at_scale",
    "tests/cli/test_cli_garbage.py::test_more_garbage_never_crashes",
    "tests/cli/test_cli_garbage.py::test_garbage_never_crashes",
    "tests/contract_layer/test_ledger.py::test_a_coupon_whose_code_does_not_pack",
    "tests/load/test_netns_distributed.py::test_a_worker_killed_mid_run",
    "tests/load/test_killed_and_full.py::test_sigkill_of_a_worker",
)


def _longest_first(config: pytest.Config, items: list[pytest.Item]) -> None:
    workers = int(getattr(config, "workerinput", {}).get("workercount", 0))
    if workers < 2:
        return
    rank = {prefix: index for index, prefix in enumerate(LONGEST)}

    def rank_of(item: pytest.Item) -> int | None:
        return next((rank[p] for p in LONGEST if item.nodeid.startswith(p)), None)

    long = sorted((item for item in items if rank_of(item) is not None), key=lambda item: rank_of(item) or 0)
    rest = [item for item in items if rank_of(item) is None]
    buckets: list[list[pytest.Item]] = [long[k::workers] for k in range(workers)]
    ordered: list[pytest.Item] = []
    left = len(items)
    for k in range(workers):  # the share sizes worksteal cuts: what is left // the workers left
        size = left // (workers - k)
        take = max(size - len(buckets[k]), 0)
        ordered += buckets[k] + rest[:take]
        rest = rest[take:]
        left -= size
    ordered += rest
    items[:] = ordered


@pytest.fixture
def children() -> Iterator[Children]:
    """Start a test's processes with `children.start(...)`: each group is killed when the test ends, even failed."""
    started = Children()
    try:
        yield started
    finally:
        started.close()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """The safety net: a child a test left running (it failed between Popen and wait) is killed with its group and
    reaped here, and a failed test's ended processes get their pipes closed, so neither a process nor its
    ResourceWarning reaches the next test (tests/children.py)."""
    before = child_pids()
    yield
    reap_leftovers(before)
    if request.node.stash.get(_FAILED, False):
        close_ended_pipes()
