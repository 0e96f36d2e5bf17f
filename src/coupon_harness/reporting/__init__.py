"""Reports of a contract run: JUnit XML, summary.json, Markdown, HTML and the console table.

Consumes typed results only (coupon_harness.results); imports no runner, CLI or sandbox.
"""

from coupon_harness.reporting.console import ProgressPrinter, render_table
from coupon_harness.reporting.html import render_html, write_html
from coupon_harness.reporting.junit import render_junit, write_junit
from coupon_harness.reporting.markdown import render_markdown, write_markdown
from coupon_harness.reporting.summary_json import read_summary_json, summary_dict, write_summary_json
from coupon_harness.reporting.writer import REPORT_FILES, write_contract_reports

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

# Reports of a load run (coupon_harness.load_results).
from coupon_harness.reporting.load_console import render_load_table
from coupon_harness.reporting.load_html import render_load_html, write_load_html
from coupon_harness.reporting.load_markdown import render_load_markdown, write_load_markdown
from coupon_harness.reporting.load_summary_json import (
    load_summary_dict,
    read_load_summary_json,
    write_load_summary_json,
)
from coupon_harness.reporting.load_writer import LOAD_REPORT_FILES, write_load_reports

__all__ += [
    "LOAD_REPORT_FILES",
    "load_summary_dict",
    "read_load_summary_json",
    "render_load_html",
    "render_load_markdown",
    "render_load_table",
    "write_load_html",
    "write_load_markdown",
    "write_load_reports",
    "write_load_summary_json",
]
