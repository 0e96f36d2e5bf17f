"""Shared pieces the kinds not yet drawn from a `Document` still import (load, capacity, the index): the HTML page
frame over the one stylesheet, status marks, `write_all`; and re-exports of `text`, `charts` and `writer`, where
those pieces now live."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from coupon_harness.reporting.charts import (
    PLOT,
    ChartLine,
    ChartThreshold,
    chart_frame,
    legend_svg,
    line_chart_svg,
    log_ticks,
    nice_ticks,
    scale_toggle,
    tick_label,
)
from coupon_harness.reporting.render.html import MARK_KINDS, STYLESHEET
from coupon_harness.reporting.render.html import mark as html_mark
from coupon_harness.reporting.text import md_code, md_fenced, md_text, one_line, plural, shorten
from coupon_harness.reporting.writer import atomic_write_text, write_reports

__all__ = ["MARK_KINDS", "PLOT", "ChartLine", "ChartThreshold", "atomic_write_text", "chart_frame", "html_mark",
           "html_page", "legend_svg", "line_chart_svg", "log_ticks", "md_code", "md_fenced", "md_text", "nice_ticks",
           "one_line", "plural", "scale_toggle", "shorten", "tick_label", "write_all"]

R = TypeVar("R")


def html_page(title: str, css: str, body: list[str]) -> str:
    """A self-contained page: `title` already escaped, `body` HTML fragments joined by newlines; the one
    stylesheet comes with it, then `css`."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
            f"<style>{STYLESHEET}{css}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_all(result: R, report_dir: Path, writers: dict[str, Callable[[R, Path], None]]) -> dict[str, Path]:
    """`writer.write_reports` with writers that take the result first."""
    return write_reports(report_dir, {name: partial(write, result) for name, write in writers.items()})
