"""Reports of a capacity search: console lines, summary.json, Markdown and HTML (with the latency-vs-rate curve)."""
