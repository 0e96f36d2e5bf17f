"""`run`'s report.md (a headline and table of the stages, then each stage's own report.md, so a CI job summary
gets the whole run from one file) and `run`'s files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from coupon_harness.reporting.contract.common import curl_env_help
from coupon_harness.reporting.contract.common import verdict as contract_verdict
from coupon_harness.reporting.contract.document import contract_document
from coupon_harness.reporting.document import (
    Badge,
    Block,
    Code,
    Column,
    Document,
    Link,
    Paragraph,
    Row,
    Section,
    Status,
    Table,
    Verdict,
)
from coupon_harness.reporting.load.common import verdict as load_verdict
from coupon_harness.reporting.load.document import load_document
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.reporting.run.junit import render_run_junit
from coupon_harness.reporting.setup_error import write_setup_error_reports
from coupon_harness.reporting.writer import text_file, write_reports
from coupon_harness.results.contract import ContractRunResult
from coupon_harness.results.load import LoadRunResult
from coupon_harness.results.setup import SetupFailure

__all__ = ["render_run_markdown", "run_document", "stage_passed", "stages_verdict", "write_run_reports"]

_LINK = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:|#|/)([^)\s]+)\)")


def _relinked(text: str, folder: str) -> str:
    """A stage's report.md with its relative links (a traceback file beside it) pointing into its folder."""
    return _LINK.sub(lambda match: f"]({folder}/{match.group(1)})", text)


def stage_passed(contract: ContractRunResult | None, load: LoadRunResult | None) -> dict[str, bool]:
    """Each stage that ran -> whether it passed (as the index and the exit code judge it)."""
    passed: dict[str, bool] = {}
    if contract is not None:
        passed["Contract"] = contract.holds and not contract.faults
    if load is not None:
        passed["Load"] = load.holds and not load.regressed and not load.harness_errors
    return passed


def stages_verdict(passed: Mapping[str, bool], *, interrupted: bool = False) -> Verdict:
    """The verdict over the stages that ran (stage -> whether it passed): "every stage passed", "Load failed",
    "no stage ran"; a run cut short passes nothing ("passed so far (interrupted)")."""
    everything = bool(passed) and all(passed.values()) and not interrupted
    failed = [stage for stage, ok in passed.items() if not ok]
    if not passed:
        headline = "no stage ran"
    elif everything:
        headline = "every stage passed"
    else:
        headline = (f"{', '.join(failed)} failed" if failed else "passed so far") + (
            " (interrupted)" if interrupted else "")
    return Verdict(Status.PASS if everything else Status.FAIL, headline)


def _stage(name: str, ok: bool, verdict: str, report: str = "") -> Row:
    return Row(((Badge(Status.PASS if ok else Status.FAIL, name),), verdict,
                (Link(report, report),) if report else ""), Status.PASS if ok else Status.FAIL)


def run_document(contract: ContractRunResult | None, load: LoadRunResult | None, *, interrupted: bool = False,
                 load_error: SetupFailure | None = None) -> Document:
    """The headline and the table of stages (each stage's own report follows it in report.md)."""
    passed = stage_passed(contract, load)
    if load_error is not None:
        passed["Load"] = False
    rows = []
    if contract is not None:
        rows.append(_stage("Contract", passed["Contract"], contract_verdict(contract), "contract/report.md"))
    if load is not None:
        rows.append(_stage("Load", passed["Load"], load_verdict(load), "load/report.md"))
    if load_error is not None:
        rows.append(_stage("Load", False, f"setup error (exit 2): {load_error.message}", "load/report.md"))
    elif load is None and contract is not None:
        rows.append(Row(((Badge(Status.SKIP, "Load"),), "not run" + (" (interrupted)" if interrupted else ""), ""),
                        Status.SKIP))
    helping = curl_env_help(contract.shape if contract is not None else None)
    blocks: tuple[Block, ...] = (Table((Column("Stage"), Column("Verdict"), Column("Report")), tuple(rows)),
              *([Paragraph(helping, muted=True)] if helping else []),
              Paragraph(("Both stages' tests are in ", Code("junit.xml"), " beside this file; each stage's folder "
                         "holds its own reports (HTML, summary.json).")))
    return Document("run", stages_verdict(passed, interrupted=interrupted), sections=(Section("Stages", blocks),))


def render_run_markdown(contract: ContractRunResult | None, load: LoadRunResult | None, *,
                        interrupted: bool = False, load_error: SetupFailure | None = None) -> str:
    parts = [render_markdown(run_document(contract, load, interrupted=interrupted, load_error=load_error),
                             level=1).rstrip("\n")]
    if contract is not None:
        parts.append(_relinked(render_markdown(contract_document(contract)), "contract").rstrip("\n"))
    if load is not None:
        parts.append(_relinked(render_markdown(load_document(load)), "load").rstrip("\n"))
    return "\n\n---\n\n".join(parts) + "\n"


def write_run_reports(run_dir: Path, contract: ContractRunResult | None, load: LoadRunResult | None, *,
                      interrupted: bool = False, load_error: SetupFailure | None = None) -> dict[str, Path]:
    """Write run_dir/junit.xml and run_dir/report.md for the stages that ran; a load stage that stopped on a setup
    error (`load_error`) gets its own reports in run_dir/load too."""
    if load_error is not None:
        write_setup_error_reports(load_error, run_dir / "load")
    return write_reports(run_dir, {
        "junit.xml": text_file(lambda: render_run_junit(contract, load, load_error)),
        "report.md": text_file(lambda: render_run_markdown(contract, load, interrupted=interrupted,
                                                           load_error=load_error))})
