"""Differences of one cause in one row of the diff report: twelve off-by-one differences of one field over twelve
series are one row with their count and examples; a different change, field or group stays its own row."""

from __future__ import annotations

import re
from dataclasses import replace

from tests.reporting.test_snapshots import _reproducer, diff_result

from coupon_harness.reporting.diff.causes import causes, change_of
from coupon_harness.reporting.diff.document import diff_document
from coupon_harness.reporting.render.console import render_console
from coupon_harness.reporting.render.html import render_html
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.results.diff import Difference, DiffRunResult


def off_by_one_result() -> DiffRunResult:
    """Twelve series whose discountValue is one more on the second target, each validTill one day later on three,
    and one unrelated difference."""
    differences = [Difference("attributes", f"series {101 + n}: result.discountValue", str(10 * (n + 1)),
                              str(10 * (n + 1) + 1), _reproducer(f"scenario/{n}", "{}"), occurrences=n + 1)
                   for n in range(12)]
    differences += [Difference("attributes", f"series {101 + n}: result.validTill", "30 days after issue",
                               "31 days after issue", _reproducer("classics/x", "{}")) for n in range(3)]
    differences.append(Difference("attributes", "series 101: result.discountType", '"PERC"', '"ABS"',
                                  _reproducer("classics/y", "{}")))
    return replace(diff_result(), differences=differences)


def test_one_cause_is_one_group() -> None:
    grouped = causes(off_by_one_result().differences)
    assert [(c.field, c.change, len(c.members)) for c in grouped] == [
        ("result.discountValue", "against = base +1", 12), ("result.validTill", "against 1 day later", 3),
        ("result.discountType", "", 1)]
    assert grouped[0].cases == sum(range(1, 13))


def test_a_different_change_field_or_group_is_another_cause() -> None:
    make = lambda category, where, base, against: Difference(category, where, base, against,  # noqa: E731
                                                             _reproducer("s", "{}"))
    differences = [make("attributes", "series 1: result.x", "10", "11"),
                   make("attributes", "series 2: result.x", "10", "20"),  # +10: another change
                   make("attributes", "series 3: result.y", "10", "11"),  # another field
                   make("response shape", "series 4: result.x", "10", "11"),  # another group
                   make("attributes", "series 5: result.z", '"a"', '"b"'),
                   make("attributes", "series 6: result.z", '"a"', '"c"'),  # another pair
                   make("attributes", "series 7: result.z", '"a"', '"b"')]  # the same pair: the same cause
    assert [len(c.members) for c in causes(differences)] == [1, 1, 1, 1, 2, 1]
    assert change_of(make("a", "w", "2.5", "2")) == "against = base -0.5"
    assert change_of(make("a", "w", "1 day before issue", "2 days after issue")) == "against 3 days later"


def test_every_format_shows_one_row_with_the_count_and_examples() -> None:
    document = diff_document(off_by_one_result())
    section = document.sections[0]
    assert section.title == "Attributes (16, 3 causes)"
    page = render_html(document)
    assert page.count("<tr class=\"fail\">") == 3
    assert ("<td>result.discountValue (against = base +1) in series 101, series 102, series 103 and 9 more</td>"
            "<td><code>10</code>, <code>20</code>, <code>30</code> and 9 more</td>") in page
    assert re.search(r'<td class="num">12</td><td class="num">78</td><td>scenario/0</td>', page)
    assert page.count("Reproducer ") == 3 and "(the first of 12 of this cause)" in page
    text = render_markdown(document)
    assert "| result.discountValue (against = base +1) in series 101, series 102, series 103 and 9 more |" in text
    console = render_console(document, color=False, width=200)
    assert "result.discountValue (against = base +1) in series" in console and "series 112:" not in console
    assert re.search(r"\b12 +78 +scenario/0", console)
    assert "<td><code>30 days after issue</code></td><td><code>31 days after issue</code></td>" in page
