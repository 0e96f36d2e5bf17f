"""Reports of a differential run (coupon_harness.results.diff): its Document (console, Markdown, HTML),
summary.json, JUnit."""

from coupon_harness.reporting.diff.document import diff_document, diff_files, write_diff_reports
from coupon_harness.reporting.diff.summary_json import DIFF_SCHEMA, diff_summary_dict

__all__ = ["DIFF_SCHEMA", "diff_document", "diff_files", "diff_summary_dict",
           "write_diff_reports"]
