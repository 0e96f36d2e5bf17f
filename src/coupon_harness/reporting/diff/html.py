"""report.html of a differential run: self-contained, one table per group, each difference's reproducer."""

from __future__ import annotations

import html
from pathlib import Path

from coupon_harness.reporting.common import atomic_write_text, html_mark, html_page, shorten
from coupon_harness.reporting.diff.common import against_curl, replay_command, verdict
from coupon_harness.results.diff import DiffRunResult

__all__ = ["render_diff_html", "write_diff_html"]

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #1f2328; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } code, pre { font: 12px ui-monospace, monospace; }
pre { background: #f6f8fa; padding: .5rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.verdict { font-size: 1.2rem; font-weight: 600; display: flex; gap: .5rem; align-items: center; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def render_diff_html(result: DiffRunResult) -> str:
    mark = "error" if result.faults else ("pass" if result.holds else "fail")
    body = ["<h1>Differential run</h1>", f'<p class="verdict">{html_mark(mark)} {_e(verdict(result))}</p>', "<ul>",
            f"<li>base: <code>{_e(result.base_target)}</code> ({result.base_coupons:,} coupons issued)</li>",
            f"<li>against: <code>{_e(result.against_target)}</code> ({result.against_coupons:,} coupons issued)</li>",
            f"<li>seed {result.seed}, {result.cases:,} cases in {result.duration_s:.1f} s, started "
            f"{_e(result.started_at)}</li>",
            f"<li>passes: {_e(', '.join(f'{n} ({c})' for n, c in result.passes) or 'none')}</li>",
            f"<li>replay: <code>{_e(replay_command(result))}</code></li>"]
    if result.series_map:
        body.append(f"<li>series map: <code>{_e(', '.join(f'{a}={b}' for a, b in result.series_map.items()))}"
                    "</code></li>")
    body += [f"<li>note: {_e(note)}</li>" for note in result.notes]
    body += [f"<li>harness error in {_e(f.stage)}: {_e(f.error)} (traceback in <code>{_e(f.file_name)}</code>)</li>"
             for f in result.faults]
    body.append("</ul>")
    for category, differences in result.by_category():
        body += [f"<h2>{_e(category.capitalize())} ({len(differences)})</h2>",
                 "<table><tr><th>where</th><th>base</th><th>against</th><th>cases</th><th>reproducer</th></tr>"]
        for d in differences:
            r = d.reproducer
            body.append(
                f"<tr><td>{_e(d.where)}</td><td><code>{_e(d.base)}</code></td><td><code>{_e(d.against)}</code></td>"
                f"<td>{d.occurrences}</td><td><details><summary>{_e(r.source)}</summary>"
                f"<p>base answered {_e(r.base_status)}: <code>{_e(shorten(r.base_excerpt, 300))}</code></p>"
                f"<pre>{_e(r.base_request.curl)}</pre>"
                f"<p>against answered {_e(r.against_status)}: <code>{_e(shorten(r.against_excerpt, 300))}</code></p>"
                f"<pre>{_e(against_curl(r.against_request))}</pre></details></td></tr>")
        body.append("</table>")
    return html_page("coupon-harness differential run", _CSS, body)


def write_diff_html(result: DiffRunResult, path: Path) -> None:
    atomic_write_text(path, render_diff_html(result))
