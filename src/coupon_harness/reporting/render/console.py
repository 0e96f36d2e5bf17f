"""A `Document` for the terminal (rich): the key figures, the sections the console shows, each with its first
finding only (the others are counted: report.md has them), and the verdict as the last line, "FAIL: ..."."""

from __future__ import annotations

import io
import shutil

from rich import box
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text as RichText

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
    Paragraph,
    Quote,
    Section,
    Status,
    Strong,
    Table,
    Text,
    plain,
)
from coupon_harness.reporting.text import one_line, plural, shorten

__all__ = ["STATE_WORDS", "console_width", "render_console", "verdict_line"]

#: The first word of the last line, what a CI log is searched for.
STATE_WORDS = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.WARN: "WARN", Status.KNOWN: "PASS",
               Status.SKIP: "SKIP", Status.STOP: "STOPPED", Status.ERROR: "ERROR"}
_STYLES = {Status.PASS: "green", Status.FAIL: "bold red", Status.WARN: "yellow", Status.KNOWN: "dim yellow",
           Status.SKIP: "dim cyan", Status.STOP: "red", Status.ERROR: "bold magenta"}
#: Upper case for what needs attention, so it stands out without colour too.
_LOUD = (Status.FAIL, Status.WARN, Status.STOP, Status.ERROR)
#: A value on the console is cut to one line of at most this many characters.
_VALUE_LIMIT = 300
_LABEL_WIDTH = 10


#: The style of each kind of inline span but a badge (a link's text is plain: a terminal cannot follow it).
_SPAN_STYLES = {Code: "cyan", Strong: "bold"}


def _text(text: Text) -> RichText:
    out = RichText()
    for span in (text,) if isinstance(text, str) else text:
        if isinstance(span, Badge):
            out.append_text(_badge(span))
        else:
            out.append(span if isinstance(span, str) else span.text, style=_SPAN_STYLES.get(type(span)))
    return out


def _badge(badge: Badge) -> RichText:
    return RichText(badge.text.upper() if badge.status in _LOUD else badge.text, style=_STYLES[badge.status])


def _table(block: Table) -> RichTable:
    table = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    shown = [index for index, column in enumerate(block.columns) if column.console]
    for index in shown:
        column = block.columns[index]
        table.add_column(column.name.upper(), justify="right" if column.numeric else "left", overflow="fold")
    for row in block.rows:
        table.add_row(*(_text(row.cells[index]) for index in shown))
    return table


def _label(label: str, width: int = _LABEL_WIDTH) -> str:
    """'label:' padded to `width`, and at least one space after it."""
    return f"{label + ':':<{max(width, len(label) + 2)}}"


class _Printer:
    def __init__(self, console: Console) -> None:
        self.console = console

    def line(self, text: RichText | str, indent: str = "") -> None:
        line = RichText(indent)
        line.append_text(text if isinstance(text, RichText) else RichText(text))
        self.console.print(line, soft_wrap=True)

    def blocks(self, blocks: tuple[Block, ...], indent: str) -> None:
        folded = 0
        for block in blocks:
            if isinstance(block, FindingBlock) and not block.open:
                folded += 1
                continue
            self.block(block, indent)
        if folded:
            self.line(f"(+{plural(folded, 'more finding')}: see report.md)", indent)

    # Complexity allowed: one branch per kind of Document block.
    def block(self, block: Block, indent: str) -> None:  # noqa: C901
        if isinstance(block, Paragraph | Quote):
            self.line(_text(block.text), indent)
        elif isinstance(block, Banner):
            text = plain(block.text)
            loud = f"{STATE_WORDS[block.status].lower()}: {text}" if block.status in _LOUD else text
            self.line(RichText(loud, style=_STYLES[block.status]), indent)
        elif isinstance(block, Fields):
            width = max(len(label) + 2 for label, _ in block.rows)
            for label, value in block.rows:
                self.line(_text(value), indent + _label(label, width))
        elif isinstance(block, BulletList):
            for item in block.items:
                self.line(_text(item), indent)
        elif isinstance(block, Table):
            self.console.print(_table(block))
        elif isinstance(block, CodeBlock):  # whole, never cut: a command is pasted as it is
            lines = block.text.splitlines() or [""]
            if block.label and len(lines) == 1:
                self.line(lines[0], indent + _label(block.label))
                return
            if block.label:
                self.line(f"{block.label}:", indent)
            for text in lines:
                self.line(text, indent + ("  " if block.label else ""))
        elif isinstance(block, FindingBlock):
            self.line(_text(block.summary), indent)
            for label, value in block.values:
                self.line(shorten(one_line(value), _VALUE_LIMIT), indent + "  " + _label(label))
            self.blocks(block.blocks, indent + "  ")
        elif isinstance(block, Details):
            self.line(f"{block.summary} (see report.md)", indent)
        elif isinstance(block, Chart) and block.text:
            self.line(block.text, indent)

    def section(self, section: Section, indent: str) -> None:
        if not section.console:
            return
        title = _text(section.title)
        if section.status is not None:
            title = RichText.assemble(_badge(Badge(section.status, section.status.name)), " ", title)
        self.console.print()
        self.line(RichText.assemble(title, style="bold") if not indent else title, indent)
        self.blocks(section.blocks, indent + "  ")
        for sub in section.sections:
            self.section(sub, indent + "  ")


def verdict_line(document: Document) -> str:
    """'FAIL: 2 rules violated (1 critical) - 25 rules: ...': the console's last line."""
    verdict = document.verdict
    return f"{STATE_WORDS[verdict.status]}: {verdict.line}" + (f" - {verdict.detail}" if verdict.detail else "")


def render_console(document: Document, *, color: bool, width: int = 120) -> str:
    """The document for a terminal `width` columns wide (no final newline); ANSI colours when `color`."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system="standard" if color else None, force_terminal=color,
                      no_color=not color, highlight=False, emoji=False, markup=False, legacy_windows=False)
    printer = _Printer(console)
    if document.figures:
        printer.block(Fields(tuple((figure.label, figure.value) for figure in document.figures)), "")
    for banner in document.banners:
        printer.block(banner, "")
    for section in document.sections:
        printer.section(section, "")
    for note in document.notes:
        printer.line(f"note: {note}")
    console.print()
    printer.line(RichText(verdict_line(document), style=_STYLES[document.verdict.status]))
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").splitlines())


def console_width() -> int:
    """The terminal's width (COLUMNS, else the terminal's, else 120), at least 80."""
    return max(80, shutil.get_terminal_size((120, 24)).columns)
