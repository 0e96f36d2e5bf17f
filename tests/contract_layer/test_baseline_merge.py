"""--baseline-update by runs at once: each run's changes are merged into the file as it is when it writes (under a
lock), so nothing another run accepted meanwhile is lost. Every concurrent test lets all runs read the file before
any writes (a barrier), which is how two CI jobs lost 40 of 81 entries: each wrote the file it had read, plus its
own, over the other's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from contract_layer.test_baseline_file import TODAY, _finding, _result
from coupon_harness.results.baseline import (
    Baseline,
    BaselineEntry,
    apply_baseline,
    baseline_changes,
    lock_path,
    merge_changes,
    update_file,
)
from coupon_harness.results.contract import ContractRunResult, Finding, fingerprint
from coupon_harness.runners.contract.runner import judge_by_baseline

TESTS = Path(__file__).resolve().parents[1]
PROBE = "string length in customer.id"


def _numbered(run: int, count: int) -> list[Finding]:
    """`count` findings of their own for run `run` (distinct fingerprints: the kind names the run)."""
    return [_finding("no-server-error", f"status-5{run:02d}-{index:02d}", PROBE) for index in range(count)]


SHARED = _finding("no-server-error", "status-500", PROBE)


def _ids(path: Path) -> set[str]:
    return {entry["id"] for entry in json.loads(path.read_text(encoding="utf-8"))["entries"]}


# --- the merge itself ---------------------------------------------------------------------------------------

def test_two_runs_from_one_read_keep_both_sets(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    first, second = _result(*_numbered(1, 3)), _result(*_numbered(2, 4))
    read = Baseline.load(path, missing_ok=True)  # both read the (missing) file before either writes
    update_file(path, *baseline_changes(first, read, TODAY))
    written, kept = update_file(path, *baseline_changes(second, read, TODAY))
    assert _ids(path) == {f.fingerprint for f in [*_numbered(1, 3), *_numbered(2, 4)]}
    assert kept == [] and {e.id for e in written.entries} == _ids(path)
    assert not lock_path(path).exists()


def test_an_entry_both_runs_touched_merges_field_by_field() -> None:
    """last_seen the later, first_seen and accepted the earlier; the file's description, expiry and unknown keys."""
    current = BaselineEntry.from_finding(SHARED, date(2026, 3, 1))
    current.description, current.expires, current.extra = "edited by the team", "2027-06-30", {"ticket": "JIRA-1"}
    current.last_seen = "2026-11-20"
    mine = BaselineEntry.from_finding(SHARED, date(2026, 2, 1))
    mine.last_seen = "2026-12-01"
    merged, kept = merge_changes(Baseline([current]), [mine], [])
    [entry] = merged.entries
    assert (entry.accepted, entry.first_seen, entry.last_seen) == ("2026-02-01", "2026-02-01", "2026-12-01")
    assert (entry.description, entry.expires, entry.extra) == ("edited by the team", "2027-06-30", {"ticket": "JIRA-1"})
    assert kept == []
    # The other way round: the file's last_seen is the later one.
    merged, _ = merge_changes(Baseline([mine]), [current], [])
    assert merged.entries[0].last_seen == "2026-12-01" and merged.entries[0].accepted == "2026-02-01"


def test_a_fixed_entry_is_dropped_only_while_it_is_as_the_run_read_it(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    old = date(2026, 1, 1)
    Baseline([BaselineEntry.from_finding(SHARED, old)]).save(path)
    read = Baseline.load(path)
    fixer = _result()  # exercised the rule (classics ran, 10 checks) and did not see the finding: fixed
    seen, fixed = baseline_changes(fixer, read, TODAY)
    assert [e.id for e in fixed] == [SHARED.fingerprint]
    # Meanwhile another run saw the finding again (its last_seen moved): the fixer's removal is no longer right.
    update_file(path, *baseline_changes(_result(SHARED), read, date(2026, 11, 30)))
    written, kept = update_file(path, seen, fixed)
    assert kept == [SHARED.fingerprint] and _ids(path) == {SHARED.fingerprint}
    assert written.entries[0].last_seen == "2026-11-30"
    # Nobody touched it since the fixer read it: dropped.
    again = Baseline.load(path)
    written, kept = update_file(path, *baseline_changes(fixer, again, TODAY))
    assert kept == [] and _ids(path) == set()


def test_a_finding_seen_is_kept_though_another_run_dropped_it(tmp_path: Path) -> None:
    """One run drops an entry as fixed, a run that read the file before still saw the finding: it is back."""
    path = tmp_path / "baseline.json"
    entry = BaselineEntry.from_finding(SHARED, date(2026, 1, 1))
    entry.description = "known: the 500 on a long id"
    Baseline([entry]).save(path)
    read = Baseline.load(path)
    update_file(path, *baseline_changes(_result(), read, TODAY))  # the fixer
    assert _ids(path) == set()
    update_file(path, *baseline_changes(_result(SHARED), read, TODAY))
    [back] = Baseline.load(path).entries
    assert back.id == SHARED.fingerprint and back.description == "known: the 500 on a long id"
    assert back.accepted == "2026-01-01"


def test_an_entry_a_run_did_not_exercise_stays_as_the_other_run_left_it(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    Baseline([BaselineEntry.from_finding(SHARED, date(2026, 1, 1))]).save(path)
    read = Baseline.load(path)
    update_file(path, *baseline_changes(_result(), read, TODAY))  # dropped as fixed
    # This run did not run the rule: it says nothing about the entry, so it does not bring it back.
    update_file(path, *baseline_changes(_result(not_run=("no-server-error",)), read, TODAY))
    assert _ids(path) == set()


def test_a_waiting_run_gives_up_with_a_note_and_the_file_untouched(tmp_path: Path) -> None:
    """A lock held past the timeout: OSError, which judge_by_baseline turns into a note (test below)."""
    import fcntl

    path = tmp_path / "baseline.json"
    Baseline([]).save(path)
    before = path.read_bytes()
    with lock_path(path).open("w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        with pytest.raises(TimeoutError):
            update_file(path, *baseline_changes(_result(SHARED), Baseline(), TODAY), timeout=0.2)
    assert path.read_bytes() == before


# --- concurrent runs, through judge_by_baseline (threads) and update_file (processes) -----------------------

def _judge_all(path: Path, results: list[ContractRunResult]) -> None:
    """Each result judged by a thread of its own, all having read the file first (as run_contract does)."""
    reads = [Baseline.load(path, missing_ok=True) for _ in results]
    barrier = threading.Barrier(len(results))
    errors: list[BaseException] = []

    def judge(result: ContractRunResult, read: Baseline) -> None:
        try:
            barrier.wait()
            judge_by_baseline(result, read, path, update=True)
        except BaseException as exc:  # shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=judge, args=pair) for pair in zip(results, reads, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


@pytest.mark.parametrize("attempt", range(3))
def test_runs_at_once_through_judge_by_baseline_keep_every_entry(tmp_path: Path, attempt: int) -> None:
    """8 runs, each with findings of its own and one they share, all read the file, then all write it."""
    path = tmp_path / "baseline.json"
    earlier = BaselineEntry.from_finding(SHARED, date(2026, 1, 1))
    earlier.description, earlier.extra = "accepted in January", {"ticket": "JIRA-9"}
    Baseline([earlier]).save(path)
    results = [_result(SHARED, *_numbered(run, 10)) for run in range(8)]
    _judge_all(path, results)
    expected = {SHARED.fingerprint} | {f.fingerprint for run in range(8) for f in _numbered(run, 10)}
    assert _ids(path) == expected
    shared = Baseline.load(path).by_id()[SHARED.fingerprint]
    assert (shared.description, shared.extra, shared.accepted) == ("accepted in January", {"ticket": "JIRA-9"},
                                                                    "2026-01-01")
    assert not lock_path(path).exists()
    for result in results:  # each run was judged against a file that holds all its findings
        assert result.baseline is not None and result.baseline.updated and result.holds
        assert not any(note.startswith("--baseline-update") for note in result.notes)


def test_a_run_that_cannot_update_says_so_and_judges_against_what_it_read(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    Baseline([]).save(path)
    read = Baseline.load(path)
    path.write_text("{not json", encoding="utf-8")  # someone broke the file while the run ran
    result = _result(SHARED)
    judge_by_baseline(result, read, path, update=True)
    assert result.baseline is not None and not result.baseline.updated
    assert any("cannot be read any more" in note for note in result.notes), result.notes
    assert path.read_text(encoding="utf-8") == "{not json"
    assert not result.holds  # judged against the empty file it read: the finding is new


CHILD = r'''
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from contract_layer.test_baseline_merge import SHARED, TODAY, _numbered, _result
from coupon_harness.results.baseline import Baseline, baseline_changes, update_file

path, run, go = Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
read = Baseline.load(path, missing_ok=True)
Path(f"{go}.ready-{run}").touch()
while not go.exists():
    time.sleep(0.005)
update_file(path, *baseline_changes(_result(SHARED, *_numbered(run, 20)), read, TODAY))
'''


def test_processes_at_once_keep_every_entry(tmp_path: Path) -> None:
    path, go = tmp_path / "baseline.json", tmp_path / "go"
    runs = 4
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(TESTS), str(path), str(run), str(go)], env=env,
                                 stderr=subprocess.PIPE, text=True) for run in range(runs)]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.ready-{run}").exists() for run in range(runs)):
        assert time.monotonic() < deadline and all(child.poll() is None for child in children), \
            [child.communicate()[1] for child in children if child.poll() is not None]
        time.sleep(0.01)
    go.touch()  # every process has read the (missing) file: now they all write
    for child in children:
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
    expected = {SHARED.fingerprint} | {f.fingerprint for run in range(runs) for f in _numbered(run, 20)}
    assert _ids(path) == expected
    assert not lock_path(path).exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_a_merge_keeps_the_fingerprints_valid(tmp_path: Path) -> None:
    """What the merge writes loads back (every id the fingerprint of its rule, kind and probe)."""
    path = tmp_path / "baseline.json"
    read = Baseline.load(path, missing_ok=True)
    update_file(path, *baseline_changes(_result(SHARED), read, TODAY))
    update_file(path, *baseline_changes(_result(SHARED), read, TODAY))
    loaded = Baseline.load(path)
    assert [e.id for e in loaded.entries] == [fingerprint("no-server-error", "status-500", PROBE)]
    result = _result(SHARED)
    apply_baseline(result, loaded, str(path), TODAY)
    assert result.holds


def test_an_update_keeps_the_files_permissions(tmp_path: Path) -> None:
    """The rename puts a new file in place: it gets the old one's mode (a new file: 0o666 less the umask)."""
    path = tmp_path / "baseline.json"
    Baseline([]).save(path)
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    path.chmod(0o640)
    update_file(path, *baseline_changes(_result(SHARED), Baseline(), TODAY))
    assert path.stat().st_mode & 0o777 == 0o640 and _ids(path) == {SHARED.fingerprint}
