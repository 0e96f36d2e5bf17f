"""Garbage at the HTTP level is a finding under a named rule, never a crash or a hang of the harness."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coupon_harness.results.contract import Outcome
from selftest.harness import describe, run_against_url
from targets.garbage import GARBAGE, Garbage
from targets.serving import serving_raw

REPORT_FILES = ("junit.xml", "summary.json", "report.md", "report.html")
#: Generous: a hung target costs request_timeout per request, and the run stops after a few in a row.
BOUND_S = 30.0


@pytest.mark.parametrize("garbage", GARBAGE, ids=[g.name for g in GARBAGE])
def test_garbage_is_a_finding(garbage: Garbage) -> None:
    started = time.monotonic()
    with serving_raw(garbage.handler) as base_url:
        result = run_against_url(base_url, passes=garbage.passes, max_examples=5, request_timeout=0.5,
                                 max_body_bytes=1024 * 1024)
    elapsed = time.monotonic() - started
    report = describe(result)
    assert elapsed < BOUND_S, f"{elapsed:.1f} s\n{report}"
    assert result.holds is False, report
    failed = {r.rule.id for r in result.failed}
    assert failed & garbage.rules, report
    for item in result.rules:
        if item.outcome is Outcome.FAILED:
            assert item.findings, report


def _cli() -> Path:
    return Path(sys.executable).with_name("coupon-harness")


@pytest.mark.parametrize("name", ["truncated-json", "entities-as-numbers", "drops-connection", "hangs"])
def test_cli_reports_garbage(name: str, tmp_path: Path) -> None:
    garbage = next(g for g in GARBAGE if g.name == name)
    report_dir = tmp_path / "reports"
    with serving_raw(garbage.handler) as base_url:
        done = subprocess.run(
            [str(_cli()), "contract", "--base-url", base_url, "--user", "sandbox:sandbox", "--series-ids", "101",
             "--max-examples", "5", "--request-timeout", "0.5", "--seed", "1", "--report-dir", str(report_dir),
             "--no-color"],
            capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    for file in REPORT_FILES:
        assert (report_dir / file).is_file(), file
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    text = json.dumps(summary)
    assert any(rule in text for rule in garbage.rules), text[:2000]
    assert "sandbox:sandbox" not in text and "c2FuZGJveDpzYW5kYm94" not in text


def test_endless_trickle_is_cut_at_request_timeout() -> None:
    from targets.garbage import endless_trickle

    started = time.monotonic()
    with serving_raw(endless_trickle(0.05, give_up_after=3.0)) as base_url:
        result = run_against_url(base_url, passes=("scenarios",), max_examples=5, request_timeout=0.5)
    elapsed = time.monotonic() - started
    assert {r.rule.id for r in result.failed} == {"transport"}, describe(result)
    # Preflight plus three more hung requests stop the run: four requests cut at 0.5 s each.
    assert elapsed < 6.0, f"{elapsed:.1f} s\n{describe(result)}"


def test_trickle_in_property_pass_is_a_transport_finding() -> None:
    from targets.garbage import trickle

    with serving_raw(trickle(0.1, b"[1, 2]")) as base_url:
        result = run_against_url(base_url, passes=("property-positive",), max_examples=5, request_timeout=0.3)
    transport = next(r for r in result.rules if r.rule.id == "transport")
    sources = {f.source for f in transport.findings}
    assert any(s.startswith("property/") for s in sources), describe(result)
    # The run stopping itself after hung answers is no Ctrl-C: not "interrupted" (exit 130 without a signal).
    assert not result.interrupted, describe(result)
