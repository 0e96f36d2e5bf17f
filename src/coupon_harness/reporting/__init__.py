"""Reports: each kind (`contract/`, `diff/`, `run/`, `load/`, `capacity/`) builds a `document.Document` that
`render/` draws for the console, Markdown and HTML; JUnit and summary.json stay per kind; `writer.py` writes a
kind's files. `progress.py`, `index.py` (the index of `run`).

Consumes typed results only (coupon_harness.results); imports no runner, CLI or sandbox.
"""
