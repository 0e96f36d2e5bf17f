"""Reports of a differential run (coupon_harness.results.diff): console, summary.json, Markdown, HTML, JUnit."""

from coupon_harness.reporting.diff.console import render_diff_table
from coupon_harness.reporting.diff.summary_json import DIFF_SCHEMA, diff_summary_dict
from coupon_harness.reporting.diff.writer import DIFF_REPORT_FILES, write_diff_reports

__all__ = ["DIFF_REPORT_FILES", "DIFF_SCHEMA", "diff_summary_dict", "render_diff_table",
           "write_diff_reports"]
