"""reports/<timestamp>/index.html: one page linking every report of a `run`."""

from __future__ import annotations

import html
import os
from pathlib import Path

from coupon_harness.reporting.common import atomic_write_text

__all__ = ["write_index"]


def write_index(run_dir: Path, reports: dict[str, tuple[Path, bool]]) -> Path:
    """`reports` maps a title to (report file, whether it passed)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for title, (path, passed) in reports.items():
        link = html.escape(os.path.relpath(path, run_dir))
        verdict = "passed" if passed else "failed"
        rows.append(f'<li class="{verdict}"><a href="{link}">{html.escape(title)}</a>: {verdict}</li>')
    title = html.escape(run_dir.name)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>coupon-harness run</title>"
        "<style>body{font-family:sans-serif;margin:2em}.passed{color:#1a7f37}.failed{color:#cf222e}</style>"
        f"</head><body><h1>coupon-harness run {title}</h1><ul>{''.join(rows)}</ul></body></html>"
    )
    index = run_dir / "index.html"
    atomic_write_text(index, page)
    return index
