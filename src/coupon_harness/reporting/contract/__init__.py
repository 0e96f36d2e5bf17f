"""Reports of a contract run: console, JUnit XML, summary.json, Markdown, HTML."""
