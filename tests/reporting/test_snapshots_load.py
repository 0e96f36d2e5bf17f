"""Snapshots of every report format of the load, compare and capacity kinds and of `run`'s index page, over
fixed results built here (no clock, no random path): a change to any of them shows as a diff to review.

Each snapshot is a file of its own format under `__snapshots__/test_snapshots_load/` (open a `.html` one in a
browser). `pytest --snapshot-update` rewrites them after a deliberate change.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from tests.reporting.capacity_builders import generator_limited_result, knee_result
from tests.reporting.load_builders import (
    failing_result,
    interrupted_result,
    load_result,
    long_result,
    ramp_compared_result,
)
from tests.reporting.test_index import build_run_tree

from coupon_harness.reporting.capacity.document import (
    capacity_document,
    render_capacity_table,
)
from coupon_harness.reporting.capacity.junit import render_capacity_junit
from coupon_harness.reporting.capacity.summary_json import write_capacity_summary_json
from coupon_harness.reporting.load.document import load_document, render_load_table
from coupon_harness.reporting.load.junit import render_load_junit
from coupon_harness.reporting.load.summary_json import write_load_summary_json
from coupon_harness.reporting.render.html import render_html
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.results.capacity import CapacityResult
from coupon_harness.results.load import LoadRunResult


def _extension(suffix: str) -> type[SingleFileSnapshotExtension]:
    return type(f"{suffix.title()}Snapshot", (SingleFileSnapshotExtension,),
                {"file_extension": suffix, "_write_mode": WriteMode.TEXT})


_EXTENSIONS = {suffix: _extension(suffix) for suffix in ("txt", "md", "html", "xml", "json")}


def _stable(text: str) -> str:
    """The text without what differs between machines: junit's hostname."""
    return re.sub(r'hostname="[^"]*"', 'hostname="HOST"', text)


def _written(write: Callable[[Any, Path], None], result: object, tmp_path: Path) -> str:
    path = tmp_path / "out"
    write(result, path)
    return path.read_text(encoding="utf-8")


LOAD_RESULTS: dict[str, Callable[[], LoadRunResult]] = {
    "passed": load_result, "failed": failing_result, "interrupted": interrupted_result,
    "long": long_result, "ramp-compared": ramp_compared_result}
CAPACITY_RESULTS: dict[str, Callable[[], CapacityResult]] = {
    "knee": knee_result, "generator-limited": generator_limited_result}


#: (format, result): every format of every result, but the long run (its timeline merged to rows) only where rows
#: are merged.
LOAD_CASES = [(kind, name) for kind in ("console", "console-color", "md", "html", "junit", "summary")
              for name in LOAD_RESULTS if name != "long" or kind in ("md", "html")]


@pytest.mark.parametrize(("kind", "name"), LOAD_CASES)
def test_load_report(name: str, kind: str, snapshot: SnapshotAssertion, tmp_path: Path) -> None:
    result = LOAD_RESULTS[name]()
    renders: dict[str, tuple[str, Callable[[], str]]] = {
        "console": ("txt", lambda: render_load_table(result, color=False) + "\n"),
        "console-color": ("txt", lambda: render_load_table(result, color=True) + "\n"),
        "md": ("md", lambda: render_markdown(load_document(result))),
        "html": ("html", lambda: render_html(load_document(result))),
        "junit": ("xml", lambda: render_load_junit(result)),
        "summary": ("json", lambda: _written(write_load_summary_json, result, tmp_path)),
    }
    suffix, render = renders[kind]
    assert _stable(render()) == snapshot(extension_class=_EXTENSIONS[suffix])


@pytest.mark.parametrize("name", CAPACITY_RESULTS)
@pytest.mark.parametrize("kind", ["console", "md", "html", "junit", "summary"])
def test_capacity_report(name: str, kind: str, snapshot: SnapshotAssertion, tmp_path: Path) -> None:
    result = CAPACITY_RESULTS[name]()
    renders: dict[str, tuple[str, Callable[[], str]]] = {
        "console": ("txt", lambda: render_capacity_table(result, color=False) + "\n"),
        "md": ("md", lambda: render_markdown(capacity_document(result))),
        "html": ("html", lambda: render_html(capacity_document(result))),
        "junit": ("xml", lambda: render_capacity_junit(result)),
        "summary": ("json", lambda: _written(write_capacity_summary_json, result, tmp_path)),
    }
    suffix, render = renders[kind]
    assert _stable(render()) == snapshot(extension_class=_EXTENSIONS[suffix])


def test_run_index(snapshot: SnapshotAssertion, tmp_path: Path) -> None:
    """The index of the last of four runs: both stages' cards, links, the trend charts and table."""
    run_dir = build_run_tree(tmp_path / "reports")
    page = (run_dir / "index.html").read_text(encoding="utf-8").replace(str(tmp_path), "TMP")
    assert page == snapshot(extension_class=_EXTENSIONS["html"])
