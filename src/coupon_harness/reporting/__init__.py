"""Reports: each kind (`contract/`, `diff/`, `run/`, `load/`, `capacity/`) builds a `document.Document` that
`render/` draws for the console, Markdown and HTML; JUnit and summary.json stay per kind; `writer.py` writes a
kind's files. `progress.py`, `index.py` (the index of `run`).

Consumes typed results only (coupon_harness.results); imports no runner, CLI or sandbox.
"""

from coupon_harness.reporting.contract.document import contract_document, contract_files, write_contract_reports
from coupon_harness.reporting.contract.junit import render_junit, write_junit
from coupon_harness.reporting.contract.summary_json import summary_dict, write_summary_json
from coupon_harness.reporting.progress import ProgressPrinter
from coupon_harness.reporting.render.console import render_console
from coupon_harness.reporting.render.html import render_html
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.reporting.stored import read_stored

__all__ = [
    "ProgressPrinter",
    "contract_document",
    "contract_files",
    "read_stored",
    "render_console",
    "render_html",
    "render_junit",
    "render_markdown",
    "summary_dict",
    "write_contract_reports",
    "write_junit",
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
    write_load_summary_json,
)

__all__ += [
    "load_document",
    "load_files",
    "load_summary_dict",
    "render_load_html",
    "render_load_markdown",
    "render_load_table",
    "write_load_reports",
    "write_load_summary_json",
]
