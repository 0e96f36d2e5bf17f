"""Every command that makes a target issue coupons lists each one in its coupons.csv, as the answers arrive:
`contract`, `run` (both stages), `diff` (both targets), `replay`, checked against sandboxes that log what they
issued (targets/issued.py). Against a staging cluster a coupon no file lists can never be revoked."""

from __future__ import annotations

import csv
from pathlib import Path

from coupon_harness.cli.main import main
from coupon_harness.sandbox.server import running_sandbox
from targets.broken import BROKEN
from targets.issued import Issued, listed


def _sources(path: Path) -> set[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row[4] for row in list(csv.reader(handle))[1:]}


def test_contract_lists_every_code_of_every_pass(tmp_path: Path) -> None:
    issued = Issued()
    with running_sandbox(mutate=issued) as sandbox:
        code = main(["contract", "--base-url", sandbox.base_url, "--max-examples", "10", "--seed", "3",
                     "--report-dir", str(tmp_path / "r")])
    assert code == 0
    assert issued.total() > 50
    assert listed(tmp_path / "r" / "coupons.csv") == issued.codes
    sources = _sources(tmp_path / "r" / "coupons.csv")
    assert {"preflight", "classics"} <= sources and any(s.startswith("scenario/") for s in sources), sources


def test_run_lists_both_stages(tmp_path: Path) -> None:
    issued = Issued()
    with running_sandbox(mutate=issued) as sandbox:
        # No latency SLO: this is about the listing, and a busy CI machine's p95 is not the sandbox's.
        code = main(["run", "--base-url", sandbox.base_url, "--max-examples", "5", "--load-run-time", "2s",
                     "--load-users", "4", "--load-slo", "error-rate=0.01", "--report-dir", str(tmp_path / "r")])
    assert code == 0
    contract, load = tmp_path / "r" / "contract" / "coupons.csv", tmp_path / "r" / "load" / "coupons.csv"
    assert listed(contract) + listed(load) == issued.codes
    assert "run load stage" in _sources(load) and "preflight" in _sources(load)


def test_diff_lists_both_targets_apart(tmp_path: Path) -> None:
    base, against = Issued(), Issued()
    with running_sandbox(mutate=base) as a, running_sandbox(mutate=against) as b:
        code = main(["diff", "--base-url", a.base_url, "--against-url", b.base_url, "--user", "sandbox:sandbox",
                     "--against-user", "sandbox:sandbox", "--series-ids", "101,102,105", "--invalid-series-ids",
                     "999999", "--max-examples", "5", "--seed", "3", "--report-dir", str(tmp_path / "r")])
    assert code == 0
    assert base.total() > 20 and against.total() > 20
    assert listed(tmp_path / "r" / "coupons.csv", source_prefix="base:") == base.codes
    assert listed(tmp_path / "r" / "coupons.csv", source_prefix="against:") == against.codes


def test_replay_lists_what_its_requests_issued(tmp_path: Path) -> None:
    variant = next(v for v in BROKEN if v.name == "same-code-for-two-customers")
    with running_sandbox(mutate=variant.mutate(), before=variant.before) as sandbox:
        assert main(["contract", "--base-url", sandbox.base_url, "--max-examples", "5", "--seed", "5",
                     "--report-dir", str(tmp_path / "run")]) == 1
    issued = Issued()
    mutate = variant.mutate()

    def logged(answer: object) -> object:
        return issued(mutate(answer))  # type: ignore[arg-type]

    with running_sandbox(mutate=logged, before=variant.before) as sandbox:  # type: ignore[arg-type]
        code = main(["replay", str(tmp_path / "run"), "--base-url", sandbox.base_url,
                     "--report-dir", str(tmp_path / "replay")])
    assert code == 1
    assert issued.total() > 0
    assert listed(tmp_path / "replay" / "coupons.csv") == issued.codes
    assert _sources(tmp_path / "replay" / "coupons.csv") == {"replay"}
