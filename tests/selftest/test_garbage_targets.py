"""Garbage at the HTTP level is a finding under a named rule, never a crash or a hang of the harness.

No test times a run: a hang fails on pytest's timeout; a deadline is seen by what the target was asked."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from coupon_harness.results.contract import Outcome
from selftest.harness import describe, run_against_url
from targets.garbage import GARBAGE, Garbage
from targets.serving import serving_raw

REPORT_FILES = ("junit.xml", "summary.json", "report.md", "report.html")


@pytest.mark.parametrize("garbage", GARBAGE, ids=[g.name for g in GARBAGE])
def test_garbage_is_a_finding(garbage: Garbage) -> None:
    with serving_raw(garbage.handler) as base_url:
        result = run_against_url(base_url, passes=garbage.passes, max_examples=5, request_timeout=0.5,
                                 max_body_bytes=1024 * 1024)
    report = describe(result)
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

    # A byte every 50 ms for 10 minutes: no read ever times out, so only the request's deadline ends one (without
    # it the run would hang: pytest's timeout).
    trickle = endless_trickle(0.05, give_up_after=600.0)
    asked: list[int] = []

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        asked.append(1)
        await trickle(reader, writer)

    with serving_raw(counted) as base_url:
        result = run_against_url(base_url, passes=("scenarios",), max_examples=5, request_timeout=0.5)
    assert {r.rule.id for r in result.failed} == {"transport"}, describe(result)
    # Preflight plus three more hung requests stop the run: four requests, each cut at its deadline.
    assert 1 <= len(asked) <= 4, f"{len(asked)} requests\n{describe(result)}"


def test_trickle_in_property_pass_is_a_transport_finding() -> None:
    from targets.garbage import trickle

    with serving_raw(trickle(0.1, b"[1, 2]")) as base_url:
        result = run_against_url(base_url, passes=("property-positive",), max_examples=5, request_timeout=0.3)
    transport = next(r for r in result.rules if r.rule.id == "transport")
    sources = {f.source for f in transport.findings}
    assert any(s.startswith("property/") for s in sources), describe(result)
    # The run stopping itself after hung answers is no Ctrl-C: not "interrupted" (exit 130 without a signal).
    assert not result.interrupted, describe(result)
