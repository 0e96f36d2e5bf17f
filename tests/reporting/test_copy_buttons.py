"""A copy button beside every curl and replay line of the HTML reports, added by one inline script: the page
without JavaScript holds every command, selectable, and no button that could not work."""

from __future__ import annotations

import re

from tests.reporting.capacity_builders import knee_result
from tests.reporting.load_builders import ramp_compared_result
from tests.reporting.reporting_builders import build, failed_overrides
from tests.reporting.test_snapshots import diff_result

from coupon_harness.reporting.capacity.document import capacity_document
from coupon_harness.reporting.contract.document import contract_document
from coupon_harness.reporting.diff.document import diff_document
from coupon_harness.reporting.load.document import load_document
from coupon_harness.reporting.render.html import COPY_SCRIPT, STYLESHEET, render_html

_COPY = re.compile(r'<(pre|code) class="copy">(?:<code>)?([^<]*)<')


def _copyable(page: str) -> list[str]:
    return [text for _, text in _COPY.findall(page)]


def test_every_curl_and_replay_line_is_marked_and_the_static_page_has_no_button() -> None:
    pages = {"contract": render_html(contract_document(build(failed_overrides()))),
             "diff": render_html(diff_document(diff_result())),
             "load": render_html(load_document(ramp_compared_result()))}
    for name, page in pages.items():
        static = page.replace(COPY_SCRIPT, "")
        curls = re.findall(r"<pre[^>]*><code>(curl [^<]*)</code>", static)
        assert curls, name
        assert all(curl in _copyable(static) for curl in curls), name
        assert "<button" not in static, name  # no dead button without JavaScript
        assert page.count(COPY_SCRIPT) == 1, name
    contract = pages["contract"]
    replays = [text for text in _copyable(contract) if text.startswith("coupon-harness contract")]
    assert len(replays) >= 2  # the Replay figure and each finding's replay
    assert any(text.startswith("coupon-harness diff") for text in _copyable(pages["diff"]))
    assert '<div class="copyable"><pre class="copy"><code>' in contract
    assert ".copy-button" in STYLESHEET and ".copyable" in STYLESHEET


def test_a_page_with_nothing_to_copy_has_no_script() -> None:
    page = render_html(capacity_document(knee_result()))
    assert "<script" not in page and 'class="copy"' not in page


def test_the_script_adds_a_button_after_each_copy_element_and_copies_its_text() -> None:
    assert 'querySelectorAll(".copy")' in COPY_SCRIPT and 'insertAdjacentElement("afterend", button)' in COPY_SCRIPT
    assert "navigator.clipboard.writeText(el.textContent)" in COPY_SCRIPT and 'execCommand("copy")' in COPY_SCRIPT
