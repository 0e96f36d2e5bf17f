"""Reports: `contract/` (console table, JUnit XML, summary.json, Markdown, HTML of a contract run), `load/`
(the same of a load run, with charts), `common.py` (what both share once), `progress.py`, `index.py` (the
index of `run`).

Consumes typed results only (coupon_harness.results); imports no runner, CLI or sandbox.
"""

from coupon_harness.reporting.contract.console import render_table
from coupon_harness.reporting.contract.html import render_html, write_html
from coupon_harness.reporting.contract.junit import render_junit, write_junit
from coupon_harness.reporting.contract.markdown import render_markdown, write_markdown
from coupon_harness.reporting.contract.summary_json import read_summary_json, summary_dict, write_summary_json
from coupon_harness.reporting.contract.writer import REPORT_FILES, write_contract_reports
from coupon_harness.reporting.progress import ProgressPrinter

__all__ = [
    "REPORT_FILES",
    "ProgressPrinter",
    "read_summary_json",
    "render_html",
    "render_junit",
    "render_markdown",
    "render_table",
    "summary_dict",
    "write_contract_reports",
    "write_html",
    "write_junit",
    "write_markdown",
    "write_summary_json",
]

# Reports of a load run (coupon_harness.results.load).
from coupon_harness.reporting.load.document import (
    load_document,
    load_files,
    render_load_html,
    render_load_markdown,
    render_load_table,
    write_load_reports,
)
from coupon_harness.reporting.load.summary_json import (
    load_summary_dict,
    read_load_summary_json,
    write_load_summary_json,
)

__all__ += [
    "load_document",
    "load_files",
    "load_summary_dict",
    "read_load_summary_json",
    "render_load_html",
    "render_load_markdown",
    "render_load_table",
    "write_load_reports",
    "write_load_summary_json",
]
