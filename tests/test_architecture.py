"""The layering of ARCHITECTURE.md, checked on the imports of every module of the package.

Four checks: each module imports only the layers its own layer may import (every module has a layer,
top-level ones included); no import cycle among the package's modules; the CLI's import leaves gevent
and Locust out of the process; every third-party module the package imports is a declared dependency.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PACKAGE = SRC / "coupon_harness"
LOCUSTFILES = ROOT / "locustfiles"
NAME = "coupon_harness"

#: Module (or package prefix) -> its layer, as in ARCHITECTURE.md's table. The longest match wins, so
#: `coupon_harness.runners.contract.judge` is in `runners.contract`; a module no entry covers fails the
#: test below, so a new top-level module must be given its layer here (and in ARCHITECTURE.md).
LAYER_OF = {
    "coupon_harness": "root",
    "coupon_harness.codestore": "codestore",
    "coupon_harness.contract": "contract",
    "coupon_harness.errors": "errors",
    "coupon_harness.interrupts": "interrupts",
    "coupon_harness.coupon_log": "coupon_log",
    "coupon_harness.input_files": "input_files",
    "coupon_harness.file_lock": "file_lock",
    "coupon_harness.log_setup": "log_setup",
    "coupon_harness.results": "results",
    "coupon_harness.results.load": "load_results",
    "coupon_harness.results.codec": "load_results",
    "coupon_harness.results.capacity": "load_results",
    "coupon_harness.results.progress": "progress_results",
    "coupon_harness.config": "config",
    "coupon_harness.safety": "safety",
    "coupon_harness.transport": "transport",
    "coupon_harness.sandbox": "sandbox",
    "coupon_harness.runners": "runners",
    "coupon_harness.runners.contract": "runners.contract",
    "coupon_harness.runners.load": "runners.load",
    "coupon_harness.reporting": "reporting",
    "coupon_harness.cli": "cli",
}

#: The middle row of the table ("errors, results, config, safety"): typed values and guards every layer
#: below may use, which themselves use only the contract and the errors.
_FOUNDATION = {"contract", "errors"}

#: Layer -> the other layers it may import (the "may import" column). A layer may always import its own
#: modules and the package root (`ENDPOINT`, `__version__`).
MAY_IMPORT: dict[str, set[str]] = {
    "root": set(),
    # The exact store of issued codes, shared by the contract's Ledger and the sandbox: standard library only.
    "codestore": set(),
    "contract": {"codestore"},
    "errors": _FOUNDATION,
    # Installed before anything heavy is imported: standard library only.
    "interrupts": set(),
    # Imported by the load process before Locust patches it: standard library and the errors only.
    "coupon_log": {"errors"},
    # Bounded reading of the files a user names (config, baseline, summary.json): standard library only.
    "input_files": set(),
    # A lock file between threads and processes: standard library only.
    "file_lock": set(),
    # The logging setup of the CLI and of the load process: standard library only.
    "log_setup": set(),
    "results": _FOUNDATION | {"input_files", "file_lock", "load_results", "progress_results"},
    "load_results": _FOUNDATION,
    # The figures a running stage reports (both runners send them, the CLI shows them): standard library only.
    "progress_results": set(),
    "config": _FOUNDATION | {"input_files"},
    "safety": _FOUNDATION,
    # transport.outbound applies the production guard to every client it builds.
    "transport": {"results", "errors", "safety"},
    "sandbox": {"contract", "codestore", "input_files"},
    # runners/__init__.py: a namespace, each runner is its own layer.
    "runners": set(),
    "runners.contract": {"contract", "results", "transport", "errors", "safety", "interrupts", "coupon_log",
                         "log_setup", "progress_results"},
    "runners.load": {"contract", "load_results", "transport", "errors", "safety", "interrupts", "coupon_log",
                     "log_setup", "progress_results"},
    "reporting": {"results", "load_results", "contract", "input_files", "progress_results"},
    "cli": {"root", "contract", "errors", "interrupts", "coupon_log", "file_lock", "input_files", "log_setup",
            "results", "load_results", "progress_results", "config", "safety", "transport", "sandbox", "runners",
            "runners.contract", "runners.load", "reporting"},
}


# --- the import graph --------------------------------------------------------------------------------

def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported_names(path: Path, module: str) -> set[str]:
    """Every module name an import statement of the file names, wherever the statement is.

    All of them count: module level, inside functions and under `if TYPE_CHECKING:`. A function-level or
    type-only import still makes one module depend on the other (the function fails without it, the
    types mean nothing without it); it only moves *when* the import runs. Counting them is what shows a
    cycle hidden in a function (results.RequestSample.curl once imported transport.curl, which imported
    results for its type), which is the kind of cycle this test is for.
    `from a.b import c` names `a.b.c` as well, since c may be a submodule; _resolve keeps what exists.
    """
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _resolve(name: str, modules: Iterable[str]) -> str | None:
    """The package module a dotted name refers to (`a.b.Class` -> `a.b`), None outside the package."""
    known = set(modules)
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Module -> the package modules it imports.

    An import of `a.b.c` counts as an edge to `a.b.c` only, not to the packages `a` and `a.b` whose
    `__init__` Python runs first: those run for any submodule, and counting them would make every
    package that re-exports its submodules (sandbox/__init__.py) a cycle with each of them.
    """
    modules = _modules()
    graph: dict[str, frozenset[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in _imported_names(path, module):
            if name == NAME or name.startswith(NAME + "."):
                target = _resolve(name, modules)
                if target is not None and target != module:
                    targets.add(target)
        graph[module] = frozenset(targets)
    return graph


# Complexity allowed: Tarjan's strongly connected components, iteratively.
def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:  # noqa: C901
    """One cycle per strongly connected component that has one, as [m1, m2, ..., m1], sorted.

    Tarjan's algorithm finds the components; inside each, a breadth-first search from its smallest
    module back to itself gives a shortest cycle through that module, the one to report.
    """
    edges = {node: sorted(set(targets)) for node, targets in graph.items()}
    for targets in list(edges.values()):
        for target in targets:
            edges.setdefault(target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:  # recursion depth is bounded by the number of modules (~100)
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)

    cycles = []
    for component in components:
        members = set(component)
        start = min(component)
        if len(component) == 1 and start not in edges[start]:
            continue
        came_from: dict[str, str] = {}
        frontier = [start]
        while frontier and start not in came_from:
            following = []
            for node in frontier:
                for target in edges[node]:
                    if target in members and target not in came_from:
                        came_from[target] = node
                        following.append(target)
            frontier = following
        path = [start]
        node = came_from[start]
        while node != start:
            path.append(node)
            node = came_from[node]
        path.reverse()
        cycles.append([start, *path])
    return sorted(cycles)


# --- layers ------------------------------------------------------------------------------------------

def _layer(module: str) -> str | None:
    prefix = _resolve(module, LAYER_OF)
    return None if prefix is None else LAYER_OF[prefix]


def test_every_layer_is_described() -> None:
    assert set(LAYER_OF.values()) == set(MAY_IMPORT)
    for layer, allowed in MAY_IMPORT.items():
        assert allowed <= set(MAY_IMPORT), f"{layer} may import unknown layers {allowed - set(MAY_IMPORT)}"


@pytest.mark.parametrize("module", sorted(_modules()))
def test_layers(module: str) -> None:
    layer = _layer(module)
    assert layer is not None, f"{module} has no layer; give it one in LAYER_OF and in ARCHITECTURE.md"
    allowed = MAY_IMPORT[layer] | {layer, "root"}
    bad = sorted(f"{target} ({_layer(target)})" for target in import_graph()[module]
                 if _layer(target) not in allowed)
    assert not bad, f"{module} ({layer}) imports {bad}; it may import {sorted(allowed)}"


def test_layer_rules_catch_a_forbidden_import() -> None:
    """The check itself: a sandbox importing a runner, or the contract importing results, is refused."""
    assert _layer("coupon_harness.runners.load.user") == "runners.load"
    assert _layer("coupon_harness.results.contract") == "results"
    assert _layer("coupon_harness") == "root"
    assert "runners.contract" not in MAY_IMPORT["sandbox"]
    assert "results" not in MAY_IMPORT["contract"]
    assert "transport" not in MAY_IMPORT["results"]


def test_gevent_stays_in_the_load_process() -> None:
    """Only the load runner's Locust-side modules (and the load user's client) may import locust or gevent."""
    allowed = {"coupon_harness.runners.load.process", "coupon_harness.runners.load.plugin",
               "coupon_harness.runners.load.user", "coupon_harness.transport.outbound_gevent"}
    for module, path in _modules().items():
        heavy = sorted(n for n in _imported_names(path, module)
                       if n.split(".")[0] in ("locust", "gevent", "geventhttpclient"))
        if heavy:
            assert module in allowed, f"{module} imports {heavy}"


#: The modules that build HTTP clients (transport/outbound.py's policy: ARCHITECTURE.md, "One way out").
OUTBOUND = frozenset({"coupon_harness.transport.outbound", "coupon_harness.transport.outbound_gevent"})
#: Module -> names whose import means a client of its own (any name of a module listed with None).
_CLIENT_IMPORTS: dict[str, frozenset[str] | None] = {
    "requests": frozenset({"Session", "session", "request", "get", "post", "put", "patch", "delete", "head",
                           "options"}),
    "requests.sessions": None, "requests.api": None,
    "urllib3": frozenset({"PoolManager", "ProxyManager", "HTTPConnectionPool", "HTTPSConnectionPool",
                          "connection_from_url", "request", "proxy_from_url"}),
    "urllib3.poolmanager": None, "urllib3.connectionpool": None,
    "geventhttpclient": None, "urllib.request": None, "http.client": None, "httpx": None,
    "aiohttp": frozenset({"ClientSession", "request", "TCPConnector"}), "aiohttp.client": None,
}


def _client_uses(tree: ast.AST) -> list[str]:
    """What in a module makes or uses an HTTP client: imports of client modules and names, and calls such as
    `requests.Session()`, `requests.post(...)`, `urllib3.PoolManager()`, `aiohttp.ClientSession()` (a name in
    an annotation, `requests.Session`, makes nothing)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names = _CLIENT_IMPORTS.get(alias.name, frozenset())
                if names is None or alias.name.split(".")[0] in ("geventhttpclient", "httpx"):
                    found.append(f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            module = node.module
            names = _CLIENT_IMPORTS.get(module, frozenset())
            if names is None or module.split(".")[0] in ("geventhttpclient", "httpx"):
                found.append(f"from {module} import ...")
            else:
                found += [f"from {module} import {a.name}" for a in node.names if a.name in names]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name):  # requests.sessions.Session()
                if owner.value.id == "requests" and owner.attr in ("sessions", "api"):
                    found.append(f"requests.{owner.attr}.{node.func.attr}")
                continue
            if not isinstance(owner, ast.Name):
                continue
            names = _CLIENT_IMPORTS.get(owner.id)
            if names is not None and node.func.attr in names:
                found.append(f"{owner.id}.{node.func.attr}")
    return sorted(set(found))


def test_only_the_outbound_modules_build_http_clients() -> None:
    """Every HTTP client of the harness comes from transport/outbound.py (requests, Schemathesis' sessions through
    `harden_session`) or transport/outbound_gevent.py (the load user): no other module may create a requests
    Session, call requests.get/post/request, create a urllib3 pool, a geventhttpclient client, use urllib.request
    or http.client, or an aiohttp ClientSession (the sandbox serves with aiohttp: a server, not a client). The
    shipped locustfile is held to it too."""
    sources = {**{module: path for module, path in _modules().items() if module not in OUTBOUND},
               **{f"locustfiles/{path.name}": path for path in sorted(LOCUSTFILES.glob("*.py"))}}
    offenders = {name: uses for name, path in sources.items()
                 if (uses := _client_uses(ast.parse(path.read_text(encoding="utf-8"))))}
    assert not offenders, f"HTTP clients built outside transport/outbound: {offenders}"
    for module in OUTBOUND:
        assert module in _modules(), f"{module} is gone: update OUTBOUND"


def test_the_client_check_catches_each_way_to_make_a_client() -> None:
    """The check itself: each way of making a client is found; a server's aiohttp, requests' exceptions are not."""
    caught = {
        "import requests\ns = requests.Session()": "requests.Session",
        "import requests\nrequests.post('http://x')": "requests.post",
        "import requests\nrequests.request('GET', 'http://x')": "requests.request",
        "from requests import Session": "from requests import Session",
        "from requests import get": "from requests import get",
        "from geventhttpclient import HTTPClient": "from geventhttpclient import ...",
        "import urllib.request": "import urllib.request",
        "from urllib.request import urlopen": "from urllib.request import ...",
        "import http.client": "import http.client",
        "import aiohttp\naiohttp.ClientSession()": "aiohttp.ClientSession",
        "from aiohttp import ClientSession": "from aiohttp import ClientSession",
        "import urllib3\nurllib3.PoolManager()": "urllib3.PoolManager",
        "import urllib3\nurllib3.request('GET', 'http://x')": "urllib3.request",
    }
    for source, expected in caught.items():
        assert expected in _client_uses(ast.parse(source)), source
    for quiet in ("from aiohttp import web\napp = web.Application()", "import requests\nrequests.RequestException",
                  "import urllib3\nurllib3.HTTPResponse", "from requests.auth import AuthBase"):
        assert _client_uses(ast.parse(quiet)) == [], quiet


def test_schemathesis_stays_behind_its_adapter() -> None:
    """Only runners/contract/schemathesis_adapter.py imports schemathesis: its pinned internals live in one place
    (tests/contract_layer/test_schemathesis_adapter.py pins them)."""
    allowed = {"coupon_harness.runners.contract.schemathesis_adapter"}
    for module, path in _modules().items():
        names = sorted(n for n in _imported_names(path, module) if n.split(".")[0] == "schemathesis")
        if names:
            assert module in allowed, f"{module} imports {names}"


# --- cycles ------------------------------------------------------------------------------------------

def test_no_import_cycle() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


def test_imports_inside_functions_and_for_types_count(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import coupon_harness.errors\n"
        "if TYPE_CHECKING:\n"
        "    from coupon_harness.results.contract import Finding\n"
        "def later() -> None:\n"
        "    from coupon_harness.sandbox import config\n"
        "    from . import sibling\n", encoding="utf-8")
    names = _imported_names(source, "coupon_harness.cli.sample")
    assert {"coupon_harness.errors", "coupon_harness.results.contract", "coupon_harness.sandbox.config",
            "coupon_harness.cli.sibling"} <= names
    assert _resolve("coupon_harness.results.contract.Finding", _modules()) == "coupon_harness.results.contract"


def test_cycle_finder_reports_each_cycle_as_its_modules() -> None:
    graph = {
        "a": ["b"], "b": ["c"], "c": ["a", "d"],  # a -> b -> c -> a
        "d": ["e"], "e": [],                        # no cycle through d, e
        "x": ["y"], "y": ["x"],                     # x <-> y
        "s": ["s"],                                 # imports itself
        "t": ["u"],                                 # u appears only as a target
    }
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["s", "s"], ["x", "y", "x"]]
    assert find_cycles({"a": ["b"], "b": ["c"], "c": []}) == []
    # The two cycles this test was written for, as they were in the code:
    before = dict(import_graph())
    results = "coupon_harness.results.contract"
    before[results] = before[results] | {"coupon_harness.transport.curl"}
    before["coupon_harness.transport.curl"] = frozenset({"coupon_harness.results.contract"})
    before["coupon_harness.sandbox.config"] = before["coupon_harness.sandbox.config"] | {
        "coupon_harness.sandbox.config_file"}
    found = find_cycles(before)  # test_no_import_cycle reports any other cycle of the live graph
    assert [results, "coupon_harness.transport.curl", results] in found
    assert ["coupon_harness.sandbox.config", "coupon_harness.sandbox.config_file",
            "coupon_harness.sandbox.config"] in found


# --- what the CLI's process loads ---------------------------------------------------------------------

def test_cli_parser_loads_no_gevent_or_locust() -> None:
    """Importing the CLI and building its parser, in a fresh interpreter, imports neither gevent nor Locust.

    gevent monkey-patches; once loaded in the CLI's process it would change how the contract runner's
    sockets and threads behave. Only `runners.load.process`, a child process, may load it.
    """
    code = (
        "import json, sys\n"
        "import coupon_harness.cli.main as main\n"
        "main.build_parser()\n"
        "heavy = sorted(n for n in sys.modules if n.split('.')[0] in ('gevent', 'locust', 'geventhttpclient'))\n"
        "print(json.dumps(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


# --- declared dependencies ----------------------------------------------------------------------------

def _normalize(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_normalize(re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0])
            for requirement in project["dependencies"]}


def _top_level_imports() -> dict[str, set[str]]:
    """Top-level name -> the files (src/ and locustfiles/) that import it, at any depth."""
    found: dict[str, set[str]] = {}
    for path in [*sorted(PACKAGE.rglob("*.py")), *sorted(LOCUSTFILES.glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_import_is_stdlib_ours_or_declared() -> None:
    declared = _declared()
    providers = packages_distributions()
    undeclared = []
    for name, files in sorted(_top_level_imports().items()):
        if name in sys.stdlib_module_names or name == NAME:
            continue
        distributions = {_normalize(d) for d in providers.get(name, [])}
        if not distributions & declared:
            undeclared.append(f"{name} (from {sorted(distributions) or 'no installed distribution'}; "
                              f"imported by {', '.join(sorted(files))})")
    assert not undeclared, "imported but not in [project] dependencies: " + "; ".join(undeclared)


# --- the slow marks ------------------------------------------------------------------------------------

def test_every_slow_mark_names_an_existing_test() -> None:
    """tests/conftest.py marks tests slow by path and name: a renamed file or test must not fall out silently."""
    spec = importlib.util.spec_from_file_location("_slow_marks", ROOT / "tests" / "conftest.py")
    assert spec is not None and spec.loader is not None
    marks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(marks)
    for file in marks.SLOW_FILES:
        assert (ROOT / file).is_file(), f"SLOW_FILES names {file}, which does not exist"
    for node in [*marks.SLOW_TESTS, *marks.SERIAL_TESTS, *marks.EXTENDED_TESTS]:
        file, _, name = node.split("[", 1)[0].partition("::")
        assert re.search(rf"^def {re.escape(name)}\(", (ROOT / file).read_text(encoding="utf-8"), re.M), (
            f"SLOW_TESTS names {node}, which does not exist")
    echo = (ROOT / marks.ECHO_FILE).read_text(encoding="utf-8")
    assert all(f'"{kind}"' in echo for kind in marks.EXTENDED_ECHO_KINDS), "EXTENDED_ECHO_KINDS names a kind gone"


def _class_names(files: Iterable[Path]) -> dict[str, list[str]]:
    """Every class name defined in `files` (at any depth), with where each is defined."""
    where: dict[str, list[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                where.setdefault(node.name, []).append(f"{path.name}:{node.lineno}")
    return where


def test_one_class_per_name_across_the_package() -> None:
    """Two classes of one name (three `Answer`s once) make a reader guess which is meant."""
    twice = {name: places for name, places in _class_names(sorted(PACKAGE.rglob("*.py"))).items() if len(places) > 1}
    assert not twice, f"class names defined more than once: {twice}"


def test_the_class_name_check_catches_a_second_class_of_one_name(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("class Answer:\n    pass\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("def f():\n    class Answer:\n        pass\n", encoding="utf-8")
    assert _class_names(sorted(tmp_path.glob("*.py")))["Answer"] == ["a.py:1", "b.py:2"]
