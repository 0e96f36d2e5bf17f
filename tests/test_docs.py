"""The docs build and stay complete: `mkdocs build --strict` passes (no broken link or anchor, every page in
the nav), the README stays short and its links resolve, and every sandbox config key (the fault keys first),
rule, exit code and summary.json field the code knows is documented."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from coupon_harness.cli import exit_codes
from coupon_harness.sandbox.config import Faults, SandboxConfig, SeriesConfig, Variations
from coupon_harness.sandbox.config_file import config_from_mapping

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
SANDBOX_PAGE = (DOCS / "sandbox.md").read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    """The text under `## heading`, up to the next heading of level 2 or less."""
    start = text.index(f"\n## {heading}\n")
    following = re.search(r"\n#{1,2} ", text[start + 1:])
    return text[start:start + 1 + following.start()] if following else text[start:]


def _documented_keys(section: str) -> set[str]:
    """The keys a table documents: the first cell of each row, in backticks."""
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


def test_mkdocs_builds_strictly(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, ("mkdocs build --strict failed (pip install -e '.[dev]' installs mkdocs-material):\n"
                                  + done.stdout + done.stderr)
    assert (tmp_path / "site" / "sandbox" / "index.html").is_file()


def test_readme_is_short_and_its_links_resolve() -> None:
    assert len(README.splitlines()) <= 200, "README.md is the front page: at most 200 lines; move detail to docs/"
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if "://" not in target:
            assert (ROOT / target).exists(), f"README links to {target}, which does not exist"


@pytest.mark.parametrize(("heading", "record"), [
    ("Fault keys", Faults),
    ("Top-level keys", SandboxConfig),
    ("Series keys", SeriesConfig),
    ("Variation keys", Variations),
])
def test_every_sandbox_config_key_is_documented(heading: str, record: type) -> None:
    known = {f.name for f in dataclasses.fields(record)}
    documented = _documented_keys(_section(SANDBOX_PAGE, heading))
    assert known - documented == set(), f"docs/sandbox.md '{heading}' lacks {sorted(known - documented)}"
    assert documented - known == set(), f"docs/sandbox.md '{heading}' names keys the sandbox refuses"


def test_the_sandbox_pages_examples_are_accepted() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", SANDBOX_PAGE, flags=re.DOTALL)
    assert len(blocks) >= 2
    for block in blocks:
        config_from_mapping(yaml.safe_load(block))


def test_every_rule_is_documented() -> None:
    rules = yaml.safe_load((ROOT / "contracts" / "rules.yaml").read_text(encoding="utf-8"))["rules"]
    page = (DOCS / "rules.md").read_text(encoding="utf-8")
    missing = [rule["id"] for rule in rules if f"| `{rule['id']}` |" not in page]
    assert not missing, f"docs/rules.md's table lacks {missing}"


def test_every_exit_code_is_documented() -> None:
    page = (DOCS / "reference" / "exit-codes.md").read_text(encoding="utf-8")
    codes = {value for name, value in vars(exit_codes).items() if name.startswith("EXIT_")} | {143}
    for code in codes:
        assert f"\n| {code} |" in page, f"docs/reference/exit-codes.md lacks exit code {code}"


def test_every_summary_field_is_documented() -> None:
    """Each top-level key of every summary.json snapshot (tests/reporting/__snapshots__) is in docs/reports.md."""
    page = (DOCS / "reports.md").read_text(encoding="utf-8")
    snapshots = sorted((ROOT / "tests" / "reporting" / "__snapshots__").rglob("*summary*.json"))
    assert snapshots
    missing = {key for path in snapshots for key in json.loads(path.read_text(encoding="utf-8"))
               if f"`{key}`" not in page}
    assert not missing, f"docs/reports.md lacks the summary.json fields {sorted(missing)}"
