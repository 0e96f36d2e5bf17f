"""A run's report as one typed document, drawn by one renderer per format (`render/`): each kind builds a
`Document` from its result, so a new section is a block added once, not a string in every renderer.

Text is plain (`str`) or a tuple of inline spans (`Code`, `Strong`, `Link`, `Badge`); each renderer escapes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import KW_ONLY, dataclass
from enum import StrEnum

__all__ = ["Badge", "Banner", "Block", "BulletList", "Chart", "Code", "CodeBlock", "Column", "Details", "Document",
           "Fields", "Figure", "FindingBlock", "Link", "Paragraph", "Quote", "Row", "Section", "Span", "Status",
           "Strong", "Table", "Text", "Verdict", "joined", "plain"]


class Status(StrEnum):
    """Every state a report shows (a verdict, a row, a badge, a banner)."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    #: Broken, but every finding is in the baseline: does not fail the gate.
    KNOWN = "known"
    SKIP = "skip"
    STOP = "stop"
    #: The harness could not judge (a bug of its own, a setup error).
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Code:
    """Inline code: a value to copy (an id, a URL, a command)."""

    text: str


@dataclass(frozen=True, slots=True)
class Strong:
    text: str


@dataclass(frozen=True, slots=True)
class Link:
    """A link to a file beside the report or an anchor in it (`#rule-x`); `code` draws its text as code."""

    text: str
    href: str
    code: bool = False


@dataclass(frozen=True, slots=True)
class Badge:
    """A status with its word: "failed", "2 passed"."""

    status: Status
    text: str


Span = str | Code | Strong | Link | Badge
#: Plain text, or inline spans in order.
Text = str | tuple[Span, ...]


def joined(spans: Iterable[Span], separator: str) -> tuple[Span, ...]:
    """The spans with `separator` between them."""
    out: list[Span] = []
    for span in spans:
        out += [separator, span] if out else [span]
    return tuple(out)


def plain(text: Text) -> str:
    """The text without its formatting."""
    if isinstance(text, str):
        return text
    return "".join(span if isinstance(span, str) else span.text for span in text)


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: Text
    muted: bool = False


@dataclass(frozen=True, slots=True)
class Banner:
    """A call-out that needs reading first (interrupted run, rules not run, a harness error)."""

    status: Status
    text: Text


@dataclass(frozen=True, slots=True)
class Quote:
    """A statement quoted as written (a rule's)."""

    text: str


@dataclass(frozen=True, slots=True)
class Fields:
    """Label: value pairs."""

    rows: tuple[tuple[str, Text], ...]


@dataclass(frozen=True, slots=True)
class BulletList:
    items: tuple[Text, ...]


@dataclass(frozen=True, slots=True)
class Column:
    """A table column; `console=False` leaves it out on the console (a long text the files carry)."""

    name: str
    _: KW_ONLY
    numeric: bool = False
    console: bool = True


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[Text, ...]
    status: Status | None = None


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """Text shown as it is, to copy (a curl command, a traceback); `language` names it for Markdown."""

    text: str
    language: str = "text"
    label: str = ""


@dataclass(frozen=True, slots=True)
class FindingBlock:
    """One finding: a summary, its values (shown as code), blocks after them (its curl). `open`: shown whole; a
    closed one is folded in HTML and Markdown and only counted on the console."""

    summary: Text
    values: tuple[tuple[str, str], ...]
    blocks: tuple[Block, ...] = ()
    open: bool = False


@dataclass(frozen=True, slots=True)
class Details:
    """Blocks folded under a summary (a traceback, a long table). `html_only`: too long for report.md (a CI job
    summary has a size limit), drawn in report.html alone (every interval of a long load run)."""

    summary: str
    blocks: tuple[Block, ...]
    html_only: bool = False


@dataclass(frozen=True, slots=True)
class Chart:
    """An inline SVG (from `charts.py`), with a log-scale rendering to switch to (`log_svg`, opened first with
    `log_first`); `text` stands in for it where no image can be drawn (Markdown, console), if anything."""

    name: str
    svg: str
    log_svg: str = ""
    log_first: bool = False
    text: str = ""


Block = Paragraph | Banner | Quote | Fields | BulletList | Table | CodeBlock | FindingBlock | Details | Chart


@dataclass(frozen=True, slots=True)
class Section:
    """A titled part of the report; `sections` are its subsections. `status` marks it (a failed rule's section);
    `anchor` is its id in the HTML page; `console`: whether the console shows it (the files always do)."""

    title: Text
    blocks: tuple[Block, ...] = ()
    sections: tuple[Section, ...] = ()
    status: Status | None = None
    anchor: str = ""
    console: bool = True


@dataclass(frozen=True, slots=True)
class Verdict:
    """The headline: a status and one line ("2 rules violated (1 critical)"); `detail` follows it on the
    console's last line (counts, seed)."""

    status: Status
    line: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Figure:
    """A key figure at the top of the report; `status` when it passes or fails on its own."""

    label: str
    value: Text
    status: Status | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """One report: what kind of run, its verdict, the line under it (`tally`), banners, key figures, sections
    and notes. `footer` closes the HTML page."""

    kind: str
    verdict: Verdict
    tally: Text = ""
    banners: tuple[Banner, ...] = ()
    figures: tuple[Figure, ...] = ()
    sections: tuple[Section, ...] = ()
    notes: tuple[str, ...] = ()
    footer: str = "Generated by coupon-harness."

    @property
    def title(self) -> str:
        return f"coupon-harness {self.kind}"
