"""A `Document` as one self-contained HTML page: the stylesheet and SVG charts inline, every text escaped here.
Each command to paste carries the class `copy`; a small inline script (`COPY_SCRIPT`) adds a copy button beside
it. Without JavaScript the page is whole, and no button is drawn that could not work."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import Any

from coupon_harness.reporting.charts import scale_toggle
from coupon_harness.reporting.document import (
    Badge,
    Banner,
    Block,
    BulletList,
    Chart,
    Code,
    CodeBlock,
    Details,
    Document,
    Fields,
    Figure,
    FindingBlock,
    Link,
    Paragraph,
    Quote,
    Section,
    Strong,
    Table,
    Text,
    plain,
)
from coupon_harness.reporting.text import e

__all__ = ["COPY_LABELS", "COPY_SCRIPT", "MARK_KINDS", "STYLESHEET", "mark", "page", "render_html"]

STYLESHEET = files("coupon_harness.reporting.render").joinpath("style.css").read_text(encoding="utf-8")
#: What each status mark says to a screen reader.
MARK_KINDS = {"pass": "passed", "fail": "failed", "warn": "warning", "stop": "stopped", "skip": "not run",
              "error": "harness error", "known": "known"}


#: The finding values and figures whose value is a command to paste.
COPY_LABELS = frozenset({"replay", "curl"})
#: Adds a copy button after each `.copy` element (the text copied as shown); the page holds no button without it.
COPY_SCRIPT = """<script>
document.querySelectorAll(".copy").forEach(function (el) {
  var button = document.createElement("button");
  button.type = "button"; button.className = "copy-button"; button.textContent = "copy";
  button.title = "Copy to the clipboard";
  function done(word) { button.textContent = word; setTimeout(function () { button.textContent = "copy"; }, 1500); }
  function fallback() {
    var range = document.createRange(), selection = window.getSelection();
    range.selectNodeContents(el); selection.removeAllRanges(); selection.addRange(range);
    try { done(document.execCommand("copy") ? "copied" : "selected"); } catch (error) { done("selected"); }
  }
  button.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(el.textContent).then(function () { done("copied"); }, fallback);
    } else { fallback(); }
  });
  el.insertAdjacentElement("afterend", button);
});
</script>"""


def mark(kind: str) -> str:
    """A status mark drawn by CSS, with its meaning for screen readers; no font needed."""
    label = MARK_KINDS[kind]
    return f'<span class="mark {kind}" role="img" aria-label="{label}" title="{label}"></span>'


def page(title: str, body: list[str]) -> str:
    """A self-contained page: `title` plain text, `body` HTML fragments (with the copy script when one of them
    holds a command to copy)."""
    script = "\n" + COPY_SCRIPT if any('class="copy' in part for part in body) else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title>'
            f"<style>{STYLESHEET}</style></head><body>\n" + "\n".join(body) + script + "\n</body></html>\n")


def _copyable_pre(text: str) -> str:
    """A command to paste: its block, and room for the button the script adds beside it."""
    return f'<div class="copyable"><pre class="copy"><code>{e(text)}</code></pre></div>'


#: Each kind of inline span as HTML.
_SPANS: dict[type, Callable[[Any], str]] = {
    Code: lambda span: f"<code>{e(span.text)}</code>", Strong: lambda span: f"<strong>{e(span.text)}</strong>",
    Link: lambda span: f'<a href="{e(span.href)}">{_text((Code(span.text),) if span.code else span.text)}</a>',
    Badge: lambda span: f'<span class="badge {span.status}">{e(span.text)}</span>'}


def _text(text: Text) -> str:
    spans = (text,) if isinstance(text, str) else text
    return "".join(e(span) if isinstance(span, str) else _SPANS[type(span)](span) for span in spans)


def _table(block: Table) -> str:
    num = [' class="num"' if column.numeric else "" for column in block.columns]
    head = "".join(f"<th{css}>{e(column.name)}</th>" for css, column in zip(num, block.columns, strict=True))
    rows = "".join(("<tr>" if row.status is None else f'<tr class="{row.status}">')
                   + "".join(f"<td{css}>{_text(cell)}</td>" for css, cell in zip(num, row.cells, strict=False))
                   + "</tr>" for row in block.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _finding(block: FindingBlock) -> str:
    items = "".join(f"<dt>{e(label)}</dt><dd>"
                    + (_copyable_pre(value) if label in COPY_LABELS else f"<pre><code>{e(value)}</code></pre>")
                    + "</dd>" for label, value in block.values)
    opened = " open" if block.open else ""
    return (f'<details class="finding"{opened}><summary>{_text(block.summary)}</summary>'
            f'<dl class="finding">{items}</dl>{_blocks(block.blocks)}</details>')


def _chart(block: Chart) -> str:
    if not block.log_svg:
        return f'<div class="chart">{block.svg}</div>'
    return scale_toggle(block.name, block.svg, block.log_svg, log_first=block.log_first)


#: Each kind of block as HTML.
_BLOCKS: dict[type, Callable[[Any], str]] = {
    Paragraph: lambda b: f'<p class="muted">{_text(b.text)}</p>' if b.muted else f"<p>{_text(b.text)}</p>",
    Banner: lambda b: f'<p class="banner {b.status}">{mark(b.status)} {_text(b.text)}</p>',
    Quote: lambda b: f"<blockquote>{e(b.text)}</blockquote>",
    Fields: lambda b: '<dl class="meta">' + "".join(f"<dt>{e(k)}</dt><dd>{_text(v)}</dd>" for k, v in b.rows) + "</dl>",
    BulletList: lambda b: "<ul>" + "".join(f"<li>{_text(item)}</li>" for item in b.items) + "</ul>",
    Table: _table,
    CodeBlock: lambda b: ((f'<p class="label">{e(b.label)}</p>' if b.label else "")
                          + (_copyable_pre(b.text) if b.language == "sh" else f"<pre><code>{e(b.text)}</code></pre>")),
    FindingBlock: _finding,
    Details: lambda b: f"<details><summary>{e(b.summary)}</summary>{_blocks(b.blocks)}</details>",
    Chart: _chart}


def _block(block: Block) -> str:
    return _BLOCKS[type(block)](block)


def _blocks(blocks: tuple[Block, ...]) -> str:
    return "".join(_block(block) for block in blocks)


def _section(section: Section, level: int) -> str:
    status = f" {section.status}" if section.status is not None else ""
    ident = f' id="{e(section.anchor)}"' if section.anchor else ""
    title = _text(section.title)
    if section.status is not None and level > 2:
        title = f"{mark(section.status)} {title}"
    inner = _blocks(section.blocks) + "".join(_section(sub, level + 1) for sub in section.sections)
    css = "part" if level > 2 else "top"
    return f'<section class="{css}{status}"{ident}><h{level}>{title}</h{level}>{inner}</section>'


def _figure(figure: Figure) -> str:
    """A figure's value; the `Replay` figure's command marked to copy."""
    if figure.label.lower() in COPY_LABELS and isinstance(figure.value, tuple) and len(figure.value) == 1 \
            and isinstance(figure.value[0], Code):
        return f'<code class="copy">{e(figure.value[0].text)}</code>'
    return _text(figure.value)


def render_html(document: Document) -> str:
    verdict = document.verdict
    tally = f" · {_text(document.tally)}" if document.tally else ""
    body = [f'<header class="verdict {verdict.status}"><h1>{mark(verdict.status)} {e(verdict.line)}</h1>'
            f"<p>{e(document.title)}{tally}</p></header>",
            *(_block(banner) for banner in document.banners)]
    if document.figures:
        body.append('<dl class="meta">' + "".join(
            f"<dt>{e(f.label)}</dt><dd>{mark(f.status) + ' ' if f.status is not None else ''}{_figure(f)}</dd>"
            for f in document.figures) + "</dl>")
    body += [_section(section, 2) for section in document.sections]
    if document.notes:
        body.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(note)}</li>" for note in document.notes) + "</ul>")
    body.append(f"<footer>{e(document.footer)}</footer>")
    return page(f"{document.title}: {plain(verdict.line)}", body)
