"""A `Document` as GitHub-flavoured Markdown that fits a CI job summary (`$GITHUB_STEP_SUMMARY`, a merge
request note): the verdict as a level-2 heading, sections at level 3, findings folded after the first."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

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
    FindingBlock,
    Link,
    Paragraph,
    Quote,
    Section,
    Status,
    Strong,
    Table,
    Text,
    plain,
)
from coupon_harness.reporting.text import md_code, md_fenced, md_text, shorten

__all__ = ["EMOJI", "render_markdown"]

EMOJI = {Status.PASS: "✅", Status.FAIL: "❌", Status.WARN: "⚠️", Status.KNOWN: "📌", Status.SKIP: "⏭️",
         Status.STOP: "⏹️", Status.ERROR: "🛑"}
#: A finding's value longer than this (or on several lines) is a fenced block, cut to _BLOCK_LIMIT.
_INLINE_LIMIT = 160
_BLOCK_LIMIT = 4000


def _spaced(text: str) -> str:
    """Markdown text that keeps a space at either end (spans are joined as they are)."""
    return (" " if text[:1].isspace() else "") + md_text(text) + (" " if text[-1:].isspace() and text.strip() else "")


def _link(span: Link, in_table: bool) -> str:
    inner = md_code(span.text, in_table=in_table) if span.code else md_text(span.text)
    return f"[{inner}]({span.href.replace(' ', '%20').replace(')', '%29')})"


#: Each kind of inline span as Markdown, given whether it is in a table cell.
_SPANS: dict[type, Callable[[Any, bool], str]] = {
    Code: lambda span, in_table: md_code(span.text, in_table=in_table), Link: _link,
    Strong: lambda span, _: f"**{md_text(span.text)}**",
    Badge: lambda span, _: f"{EMOJI[span.status]} {md_text(span.text)}"}


def _text(text: Text, *, in_table: bool = False) -> str:
    if isinstance(text, str):
        return md_text(text)
    return "".join(_spaced(span) if isinstance(span, str) else _SPANS[type(span)](span, in_table) for span in text)


def _table(block: Table) -> list[str]:
    head = "| " + " | ".join(md_text(c.name) for c in block.columns) + " |"
    align = "|" + "".join("--:|" if c.numeric else "---|" for c in block.columns)
    rows = ["| " + " | ".join(_text(cell, in_table=True) for cell in row.cells) + " |" for row in block.rows]
    return [head, align, *rows]


def _value(label: str, value: str) -> str:
    """A finding's value: inline code when short, else an indented fenced block."""
    if len(value) <= _INLINE_LIMIT and "\n" not in value:
        return f"- **{md_text(label)}:** {md_code(value)}"
    return f"- **{md_text(label)}:**\n\n{md_fenced(shorten(value, _BLOCK_LIMIT), 'text', indent='  ')}\n"


def _finding(block: FindingBlock) -> list[str]:
    body = [_value(label, value) for label, value in block.values]
    if block.blocks:
        body += ["", *_blocks(block.blocks)]
    if block.open:
        return [f"**{_text(block.summary)}**", "", *body]
    # Markdown is not read inside <summary>: its text goes as escaped HTML.
    return [f"<details><summary>{html.escape(plain(block.summary))}</summary>", "", *body, "", "</details>"]


#: Each kind of block as Markdown lines.
_BLOCKS: dict[type, Callable[[Any], list[str]]] = {
    Paragraph: lambda b: [f"_{_text(b.text)}_" if b.muted else _text(b.text)],
    Banner: lambda b: [f"> {EMOJI[b.status]} {_text(b.text)}"],
    Quote: lambda b: [f"> {md_text(b.text)}"],
    Fields: lambda b: [f"- **{md_text(label)}:** {_text(value)}" for label, value in b.rows],
    BulletList: lambda b: [f"- {_text(item)}" for item in b.items],
    Table: _table,
    CodeBlock: lambda b: [*([f"{md_text(b.label)}:", ""] if b.label else []), md_fenced(b.text, b.language)],
    FindingBlock: _finding,
    Details: lambda b: [] if b.html_only else [f"<details><summary>{html.escape(b.summary)}</summary>", "",
                                               *_blocks(b.blocks), "", "</details>"],
    Chart: lambda b: [md_text(b.text)] if b.text else []}


def _block(block: Block) -> list[str]:
    return _BLOCKS[type(block)](block)


def _blocks(blocks: tuple[Block, ...]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        drawn = _block(block)
        if drawn:
            lines += [*([""] if lines else []), *drawn]
    return lines


def _section(section: Section, level: int) -> list[str]:
    mark = f"{EMOJI[section.status]} " if section.status is not None else ""
    lines = [f"{'#' * level} {mark}{_text(section.title)}"]
    body = _blocks(section.blocks)
    if body:
        lines += ["", *body]
    for sub in section.sections:
        lines += ["", *_section(sub, level + 1)]
    return lines


def render_markdown(document: Document, *, level: int = 2) -> str:
    """The document as Markdown, its verdict a heading of `level` (2: one report among others in a CI summary),
    its sections one level below."""
    verdict = document.verdict
    lines = [f"{'#' * level} {document.title}: {EMOJI[verdict.status]} {md_text(verdict.line)}"]
    if document.tally:
        lines += ["", _text(document.tally)]
    for banner in document.banners:
        lines += ["", *_block(banner)]
    if document.figures:
        lines.append("")
        lines += [f"- **{md_text(f.label)}:** {EMOJI[f.status] + ' ' if f.status is not None else ''}"
                  f"{_text(f.value)}" for f in document.figures]
    for section in document.sections:
        lines += ["", *_section(section, level + 1)]
    if document.notes:
        lines += ["", f"{'#' * (level + 1)} Notes", "", *(f"- {md_text(note)}" for note in document.notes)]
    return "\n".join(lines) + "\n"
