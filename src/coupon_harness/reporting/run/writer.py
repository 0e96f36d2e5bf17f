"""Write `run`'s combined files (junit.xml, report.md) into the run's folder, beside the stages' folders."""

from __future__ import annotations

from pathlib import Path

from coupon_harness.reporting.common import atomic_write_text
from coupon_harness.reporting.run.junit import render_run_junit
from coupon_harness.reporting.run.markdown import render_run_markdown
from coupon_harness.results.contract import ContractRunResult
from coupon_harness.results.load import LoadRunResult

__all__ = ["write_run_reports"]


def write_run_reports(run_dir: Path, contract: ContractRunResult | None, load: LoadRunResult | None, *,
                      interrupted: bool = False) -> dict[str, Path]:
    """Write run_dir/junit.xml and run_dir/report.md (atomically) for the stages that ran."""
    run_dir.mkdir(parents=True, exist_ok=True)
    paths = {"junit.xml": run_dir / "junit.xml", "report.md": run_dir / "report.md"}
    atomic_write_text(paths["junit.xml"], render_run_junit(contract, load))
    atomic_write_text(paths["report.md"], render_run_markdown(contract, load, interrupted=interrupted))
    return paths
