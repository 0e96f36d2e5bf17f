"""Reports of a differential run (coupon_harness.results.diff): its Document (console, Markdown, HTML),
summary.json, JUnit."""
