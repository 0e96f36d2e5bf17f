"""Apply one stored mutant to the loaded sandbox, in-process, for the length of a `with` block.

A mutant is named as the equivalents list names it (scripts/mutation_equivalents.toml): the module, the
function (`Class.method` or `function`) and the line it changes, before and after, stripped. The module's
source with that line replaced is compiled, and the function's code object is swapped into the loaded
function: every caller (bound methods, the sandbox's handlers) runs the mutant, and its globals stay the
module's own. `apply` raises `Stale` when the line is not in the function exactly once, so a stored mutant
that no longer applies fails loudly instead of testing nothing.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FunctionType, SimpleNamespace
from typing import Any

__all__ = ["Stale", "StoredMutant", "applied", "mutated_source"]


class Stale(Exception):
    """The stored mutant's line is no longer in its function exactly once."""


@dataclass(frozen=True, slots=True)
class StoredMutant:
    module: str  # coupon_harness.sandbox.auth
    function: str  # Authenticator.identify
    before: str
    after: str
    why: str = ""

    @property
    def label(self) -> str:
        return f"{self.module.rpartition('.')[2]}:{self.function}:{self.before} -> {self.after}"


def _node(tree: ast.Module, function: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    owner, _, name = function.rpartition(".")
    body: list[ast.stmt] = tree.body
    if owner:
        classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == owner]
        if not classes:
            raise Stale(f"no class {owner}")
        body = classes[0].body
    found = [n for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name]
    if not found:
        raise Stale(f"no function {function}")
    return found[0]


def mutated_source(source: str, mutant: StoredMutant) -> str:
    """The module's source with the mutant's line(s) changed; Stale when they are not there exactly once."""
    lines = source.splitlines(keepends=True)
    node = _node(ast.parse(source), mutant.function)
    first, last = node.lineno - 1, node.end_lineno or node.lineno
    before, after = mutant.before.split("\n"), mutant.after.split("\n")
    if len(before) != len(after):
        raise Stale(f"{mutant.label}: before and after differ in line count")
    starts = [i for i in range(first, last - len(before) + 1)
              if all(lines[i + k].strip() == before[k] for k in range(len(before)))]
    if len(starts) != 1:
        raise Stale(f"{mutant.label}: the line occurs {len(starts)} times in {mutant.function}")
    start = starts[0]
    for k, text in enumerate(after):
        old = lines[start + k]
        indent = old[: len(old) - len(old.lstrip())]
        lines[start + k] = indent + text + "\n"
    return "".join(lines)


def _target(module: Any, function: str) -> FunctionType:
    owner, _, name = function.rpartition(".")
    holder = getattr(module, owner) if owner else module
    value = inspect.getattr_static(holder, name)
    if isinstance(value, property):
        value = value.fget
    if isinstance(value, staticmethod | classmethod):
        value = value.__func__
    if not isinstance(value, FunctionType):
        raise Stale(f"{function} is no plain function")
    return value


@contextlib.contextmanager
def applied(mutant: StoredMutant) -> Iterator[None]:
    module = importlib.import_module(mutant.module)
    path = Path(inspect.getfile(module))
    source = mutated_source(path.read_text(encoding="utf-8"), mutant)
    scratch: dict[str, Any] = {"__name__": mutant.module, "__file__": str(path)}
    exec(compile(source, str(path), "exec"), scratch)  # the project's own module, one line changed
    original = _target(module, mutant.function)
    replacement = _target(SimpleNamespace(**scratch), mutant.function)
    saved = original.__code__
    original.__code__ = replacement.__code__
    try:
        yield
    finally:
        original.__code__ = saved
