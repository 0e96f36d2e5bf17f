"""Reports of a load run: console, summary.json, Markdown, HTML (charts)."""
