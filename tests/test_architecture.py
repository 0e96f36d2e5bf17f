"""The layering of ARCHITECTURE.md, checked on the imports of every module of the package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "coupon_harness"

#: Layer (a module prefix) -> prefixes it must never import.
FORBIDDEN = {
    "coupon_harness.contract": ("coupon_harness.runners", "coupon_harness.sandbox", "coupon_harness.cli",
                                "coupon_harness.reporting", "coupon_harness.transport"),
    "coupon_harness.sandbox": ("coupon_harness.runners", "coupon_harness.cli", "coupon_harness.reporting"),
    "coupon_harness.runners.contract": ("coupon_harness.runners.load", "coupon_harness.sandbox",
                                        "coupon_harness.cli", "coupon_harness.reporting"),
    "coupon_harness.runners.load": ("coupon_harness.runners.contract", "coupon_harness.sandbox",
                                    "coupon_harness.cli", "coupon_harness.reporting"),
    "coupon_harness.reporting": ("coupon_harness.runners", "coupon_harness.sandbox", "coupon_harness.cli"),
    "coupon_harness.transport": ("coupon_harness.runners", "coupon_harness.sandbox", "coupon_harness.cli",
                                 "coupon_harness.reporting"),
}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[name for name, _ in _modules()])
def test_layers(module: str, path: Path) -> None:
    for layer, banned in FORBIDDEN.items():
        if module == layer or module.startswith(layer + "."):
            bad = sorted(name for name in _imports(path) if name.startswith(banned))
            assert not bad, f"{module} ({layer}) imports {bad}"


def test_gevent_stays_in_the_load_process() -> None:
    """Only the load runner's Locust-side modules may import locust or gevent."""
    allowed = {"coupon_harness.runners.load.process", "coupon_harness.runners.load.plugin",
               "coupon_harness.runners.load.user"}
    for module, path in _modules():
        heavy = sorted(n for n in _imports(path) if n.split(".")[0] in ("locust", "gevent", "geventhttpclient"))
        if heavy:
            assert module in allowed, f"{module} imports {heavy}"
