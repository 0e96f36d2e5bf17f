"""`run`'s report.md: a headline over both stages, then each stage's own report.md (as its folder holds it), so
a CI job summary (`$GITHUB_STEP_SUMMARY`, a merge request note) gets the whole run from one file."""

from __future__ import annotations

import re

from coupon_harness.reporting.common import md_code, md_text
from coupon_harness.reporting.contract.common import verdict as contract_verdict
from coupon_harness.reporting.contract.markdown import render_markdown
from coupon_harness.reporting.load.common import verdict as load_verdict
from coupon_harness.reporting.load.document import render_load_markdown
from coupon_harness.results.contract import ContractRunResult
from coupon_harness.results.load import LoadRunResult
from coupon_harness.results.request import credentials_help
from coupon_harness.results.setup import SetupFailure

__all__ = ["render_run_markdown", "stage_passed"]

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


def render_run_markdown(contract: ContractRunResult | None, load: LoadRunResult | None, *,
                        interrupted: bool = False, load_error: SetupFailure | None = None) -> str:
    passed = stage_passed(contract, load)
    if load_error is not None:
        passed["Load"] = False
    everything = bool(passed) and all(passed.values()) and not interrupted
    if not passed:
        headline = "no stage ran"
    elif everything:
        headline = "every stage passed"
    else:
        failed = [stage for stage, ok in passed.items() if not ok]
        headline = (f"{', '.join(failed)} failed" if failed else "passed so far") + (
            " (interrupted)" if interrupted else "")
    lines = [f"# coupon-harness run: {'✅' if everything else '❌'} {md_text(headline)}", "",
             "| Stage | Verdict | Report |", "|---|---|---|"]
    if contract is not None:
        lines.append(f"| {'✅' if passed['Contract'] else '❌'} Contract | {md_text(contract_verdict(contract))} | "
                     "[contract/report.md](contract/report.md) |")
    if load is not None:
        lines.append(f"| {'✅' if passed['Load'] else '❌'} Load | {md_text(load_verdict(load))} | "
                     "[load/report.md](load/report.md) |")
    if load_error is not None:
        lines.append(f"| ❌ Load | setup error (exit 2): {md_text(load_error.message)} | "
                     "[load/report.md](load/report.md) |")
    elif load is None and contract is not None:
        lines.append("| Load | not run" + (" (interrupted)" if interrupted else "") + " | |")
    kind = contract.shape.credentials if contract is not None and contract.shape is not None else None
    helping = credentials_help(kind)
    if helping:
        lines += ["", f"_{md_text(helping)}_"]
    lines += ["", f"Both stages' tests are in {md_code('junit.xml')} beside this file; each stage's folder holds "
              "its own reports (HTML, summary.json)."]
    if contract is not None:
        lines += ["", "---", "", _relinked(render_markdown(contract), "contract").rstrip("\n")]
    if load is not None:
        lines += ["", "---", "", _relinked(render_load_markdown(load), "load").rstrip("\n")]
    return "\n".join(lines) + "\n"
