"""Write `run`'s combined files (junit.xml, report.md) into the run's folder, beside the stages' folders."""

from __future__ import annotations

from pathlib import Path

from coupon_harness.reporting.common import atomic_write_text
from coupon_harness.reporting.run.junit import render_run_junit
from coupon_harness.reporting.run.markdown import render_run_markdown
from coupon_harness.reporting.setup_error import write_setup_error_reports
from coupon_harness.results.contract import ContractRunResult
from coupon_harness.results.load import LoadRunResult
from coupon_harness.results.setup import SetupFailure

__all__ = ["write_run_reports"]


def write_run_reports(run_dir: Path, contract: ContractRunResult | None, load: LoadRunResult | None, *,
                      interrupted: bool = False, load_error: SetupFailure | None = None) -> dict[str, Path]:
    """Write run_dir/junit.xml and run_dir/report.md (atomically) for the stages that ran; a load stage that stopped
    on a setup error (`load_error`) gets its own reports in run_dir/load too."""
    run_dir.mkdir(parents=True, exist_ok=True)
    paths = {"junit.xml": run_dir / "junit.xml", "report.md": run_dir / "report.md"}
    if load_error is not None:
        write_setup_error_reports(load_error, run_dir / "load")
    atomic_write_text(paths["junit.xml"], render_run_junit(contract, load, load_error))
    atomic_write_text(paths["report.md"], render_run_markdown(contract, load, interrupted=interrupted,
                                                              load_error=load_error))
    return paths
