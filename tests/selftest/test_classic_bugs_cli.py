"""The acceptance of the classics through the CLI: each classic server bug makes `contract` exit 1, naming
the rule and the probe class; the plain sandbox exits 0 with the same flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coupon_harness.cli.main import main
from coupon_harness.sandbox.server import running_sandbox
from targets.broken import BROKEN

CLASSIC = [v for v in BROKEN if v.passes == ("classics",) and not v.warning]


@pytest.mark.parametrize("variant", CLASSIC, ids=lambda v: v.name)
def test_classic_bug_fails_the_gate_naming_rule_and_probe(variant: object, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    broken = next(v for v in CLASSIC if v is variant)
    with running_sandbox(mutate=broken.mutate(), before=broken.before) as sandbox:
        code = main(["contract", "--base-url", sandbox.base_url, "--max-examples", "5", "--no-color",
                     "--report-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "Traceback" not in out + err
    family = broken.probe.split(":")[0]  # "type confusion": the console shows the first finding of a rule
    assert broken.rule in out and f"probe:    {family}:" in out, out
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["first_finding_source"] == "classics", summary["first_finding_source"]
    failed = {r["id"]: r for r in summary["rules"] if r["outcome"] == "failed"}
    assert broken.probe in {f["probe"] for f in failed[broken.rule]["findings"]}
    # One bug tried at several sizes is one finding, reproduced by the smallest failing size.
    sized = [f for f in failed[broken.rule]["findings"] if (f["probe"] or "").startswith("string length")]
    assert len(sized) <= 1, sized


def test_the_sandbox_passes_with_the_same_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_sandbox() as sandbox:
        code = main(["contract", "--base-url", sandbox.base_url, "--max-examples", "5", "--no-color",
                     "--report-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["passes"][0]["name"] == "classics" and summary["first_finding_s"] is None
