"""Text helpers and every escaping the reports need, in one place: counts, one-line and shortened texts, HTML
escaping, Markdown inline text, code spans and fenced blocks."""

from __future__ import annotations

import html
import re

__all__ = ["e", "md_code", "md_fenced", "md_text", "one_line", "plural", "shorten"]

#: Characters Markdown (or HTML inside it) would read as syntax.
_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&!])")


def plural(count: int, word: str) -> str:
    """'1 finding', '2 findings'."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def one_line(text: str) -> str:
    """Collapse whitespace (newlines included) to single spaces."""
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    cut = max(limit - 30, 1)
    return f"{text[:cut]}… ({len(text) - cut} more chars)"


def e(text: object) -> str:
    """HTML text or attribute value, quotes included."""
    return html.escape(str(text), quote=True)


def md_text(text: str) -> str:
    """Free text on one line with Markdown (and HTML) syntax escaped; safe in a table cell."""
    return _SPECIAL.sub(r"\\\1", one_line(text))


def md_code(text: str, *, in_table: bool = False) -> str:
    """An inline code span holding `text` on one line, whatever backticks it contains."""
    text = one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") or not text else text
    span = f"{fence}{padded}{fence}"
    # GFM splits table cells on "|" even inside code spans; "\|" keeps it a literal pipe.
    return span.replace("|", "\\|") if in_table else span


def md_fenced(text: str, language: str = "", indent: str = "") -> str:
    """A fenced code block holding `text` as it is, its fence longer than any backtick run inside."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    body = "\n".join(indent + line for line in text.splitlines() or [""])
    return f"{indent}{fence}{language}\n{body}\n{indent}{fence}"
