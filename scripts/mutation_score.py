"""Mutation score of the sandbox: how many of its mutants a default contract run kills.

    .venv/bin/python scripts/mutation_score.py [--max-children 2] [--first-failure] [--json FILE] [--keep DIR]

mutmut 3 mutates the sandbox's request validation, auth, issuing and answer building (the files and the
functions left out are in scripts/mutation_equivalents.toml, with the reason for each) in a temporary copy
of the project, never in this tree. Each mutant is judged by tests/mutation/mutant_judge.py: the default
contract run (default passes and max_examples, seed 1) against a fresh in-process sandbox, once per
credential form the sandbox accepts (tests/mutation/judge.py; issuer.py and codes.py, blind to credentials,
get the plain Basic run alone). A run that fails (exit 1), or that the
harness refuses naming why (exit 2: a valid series refused, valid credentials refused), kills the mutant;
a sandbox that no longer starts kills it too (no-start, counted apart). A harness fault with no failed rule
is the harness's bug and kills nothing.

The score is killed / (mutants - equivalent). Equivalent mutants are listed in the TOML file, each with its
reason, by (file, function, line before, line after), so the list survives mutmut renumbering its mutants
and a stale entry is reported. `--first-failure` stops each run at its first finding that fails the gate
(the same verdict, much sooner: for iterating; the figures in BENCHMARKS.md come from full runs).

Exit status: 0 when every mutant is killed or equivalent, 1 when a survivor is left, 2 when the run itself
could not be made.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "scripts" / "mutation_equivalents.toml"
SEPARATOR = "ǁ"  # mutmut's class separator in mangled names
#: mutmut's exit codes (mutmut.stats.status_by_exit_code).
STATUS = {0: "survived", 1: "killed", 3: "killed", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}

PYPROJECT = """\
[tool.mutmut]
source_paths = ["src/"]
only_mutate = {only}
also_copy = ["contracts/", "specs/"]
pytest_add_cli_args_test_selection = ["tests/mutation/mutant_judge.py"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:coupon_harness"]
use_git_change_detection = false

[tool.pytest.ini_options]
addopts = "-p no:cacheprovider"
"""


@dataclass(slots=True)
class Mutant:
    name: str
    file: str
    function: str
    line: int
    before: str
    after: str
    #: Which occurrence of `before` in the function it changes (1: the first), for lines a function holds twice.
    occurrence: int = 1
    status: str = "not checked"
    #: killed (violated, refused, no-start), survived, equivalent, harness-fault, no-verdict, timeout, not-reached
    verdict: str = ""
    reasons: list[str] = field(default_factory=list)
    equivalent_reason: str = ""
    seconds: float = 0.0


def load_data(path: Path = DATA) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def functions_of(path: Path) -> list[str]:
    """Top-level functions and methods (Class.method) of a module: the units mutmut mutates."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef):
            names += [f"{node.name}.{item.name}" for item in node.body
                      if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)]
    return names


def mangled(function: str) -> str:
    owner, _, name = function.rpartition(".")
    return f"x{SEPARATOR}{owner}{SEPARATOR}{name}" if owner else f"x_{name}"


def module_of(file: str) -> str:
    return file.removeprefix("src/").removesuffix(".py").replace("/", ".")


def in_scope(data: dict[str, Any]) -> dict[str, list[str]]:
    """file -> the functions mutated in it: every function of the listed files but those left outside."""
    outside = {entry["function"] for entry in data.get("outside", [])}
    scope = {}
    for file in data["files"]:
        names = functions_of(ROOT / file)
        mine = {o for o in outside if o.startswith(Path(file).name + ":")}
        unknown = mine - {f"{Path(file).name}:{n}" for n in names}
        if unknown:
            raise SystemExit(f"mutation_equivalents.toml: outside names no function of {file}: {sorted(unknown)}")
        scope[file] = [n for n in names if f"{Path(file).name}:{n}" not in outside]
    return scope


def make_copy(work: Path, data: dict[str, Any]) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("src", "contracts", "specs"):
        shutil.copytree(ROOT / folder, work / folder, ignore=ignore)
    shutil.copytree(ROOT / "tests" / "mutation", work / "tests" / "mutation", ignore=ignore)
    only = json.dumps(list(data["files"]))
    (work / "pyproject.toml").write_text(PYPROJECT.format(only=only), encoding="utf-8")


def run_mutmut(work: Path, scope: dict[str, list[str]], max_children: int, first_failure: bool) -> int:
    globs = [f"{module_of(file)}.{mangled(function)}__mutmut_*" for file, functions in scope.items()
             for function in functions]
    env = dict(os.environ, COUPON_HARNESS_MUTATION_VERDICTS=str(work / "verdicts"))
    if first_failure:
        env["COUPON_HARNESS_MUTATION_FIRST_FAILURE"] = "1"
    mutmut = Path(sys.executable).with_name("mutmut")
    with (work / "mutmut.log").open("wb") as log:
        return subprocess.run([str(mutmut), "run", "--max-children", str(max_children), *globs], cwd=work, env=env,
                              stdout=log, stderr=subprocess.STDOUT, check=False).returncode


_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
names = json.load(sys.stdin)
json.dump({name: get_diff_for_mutant(name, path=path) for name, path in names.items()}, sys.stdout)
"""


def collect(work: Path, scope: dict[str, list[str]]) -> list[Mutant]:
    """Every in-scope mutant with its status, function, line and the lines it changes."""
    statuses: dict[str, tuple[str, int | None, float]] = {}
    for file in scope:
        meta = json.loads((work / "mutants" / (file + ".meta")).read_text(encoding="utf-8"))
        for name, code in meta["exit_code_by_key"].items():
            statuses[name] = (file, code, meta.get("durations_by_key", {}).get(name, 0.0))
    wanted = {}
    for name, (file, _, _) in statuses.items():
        function = _function_of(name, file)
        if function in scope[file]:
            wanted[name] = file
    out = subprocess.run([sys.executable, "-c", _DIFFS], cwd=work, input=json.dumps(wanted), capture_output=True,
                         text=True, check=True).stdout
    diffs: dict[str, str] = json.loads(out)
    mutants = []
    for name, file in wanted.items():
        _, code, seconds = statuses[name]
        before, after, offset = _changed(diffs[name])
        function = _function_of(name, file)
        line = _first_line(ROOT / file, function) + offset
        occurrence = _occurrence(ROOT / file, function, line, before)
        mutants.append(Mutant(name, file, function, line, before, after, occurrence,
                              STATUS.get(code, "suspicious") if code is not None else "not checked",
                              seconds=round(seconds or 0.0, 2)))
    return sorted(mutants, key=lambda m: (m.file, m.line, m.name))


def _occurrence(path: Path, function: str, line: int, before: str) -> int:
    """1 + how many lines of the function before `line` read as the mutated line does (stripped)."""
    first = _first_line(path, function)
    text = before.split("\n", maxsplit=1)[0]
    lines = path.read_text(encoding="utf-8").splitlines()
    return 1 + sum(1 for number in range(first, line) if lines[number - 1].strip() == text)


def _function_of(name: str, file: str) -> str:
    mangled_name = name.removeprefix(module_of(file) + ".").partition("__mutmut_")[0]
    if mangled_name.startswith("x_"):
        return mangled_name[2:]
    _, owner, method = mangled_name.split(SEPARATOR)
    return f"{owner}.{method}"


def _first_line(path: Path, function: str) -> int:
    owner, _, name = function.rpartition(".")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = tree.body
    if owner:
        body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == owner).body
    node = next(n for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name)
    return node.decorator_list[0].lineno if node.decorator_list else node.lineno


def _changed(diff: str) -> tuple[str, str, int]:
    """(lines removed, lines added, offset of the first changed line in the function) of a unified diff."""
    removed, added, offset = [], [], 0
    line = 0
    for text in diff.splitlines()[2:]:
        header = re.match(r"@@ -(\d+)", text)
        if header:
            line = int(header.group(1)) - 1
            continue
        if text.startswith("-"):
            if not removed:
                offset = line
            removed.append(text[1:].strip())
            line += 1
        elif text.startswith("+"):
            added.append(text[1:].strip())
        else:
            line += 1
    return "\n".join(removed), "\n".join(added), offset


def judge_all(mutants: list[Mutant], work: Path, data: dict[str, Any]) -> list[str]:
    """Set each mutant's verdict; the problems of the equivalent list (entries matching nothing or a killed mutant)."""
    reasons = data.get("reasons", {})
    equivalents = {(e["function"], e["before"], e["after"], e.get("occurrence", 1)):
                   reasons.get(e["reason"], e["reason"]) for e in data.get("equivalent", [])}
    used: set[tuple[str, str, str, int]] = set()
    problems = []
    for mutant in mutants:
        key = (f"{Path(mutant.file).name}:{mutant.function}", mutant.before, mutant.after, mutant.occurrence)
        verdicts = [json.loads(p.read_text(encoding="utf-8"))
                    for p in sorted((work / "verdicts").glob(f"{mutant.name}.*.json"))]
        killing = [v for v in verdicts if v["outcome"] in ("violated", "refused", "no-start")]
        if key in equivalents:
            used.add(key)
            mutant.equivalent_reason = equivalents[key]
            if killing:
                problems.append(f"listed as equivalent but killed: {mutant.file}:{mutant.line} {mutant.name}")
            mutant.verdict = "equivalent"
        elif mutant.status == "killed" and killing:
            mutant.verdict = killing[0]["outcome"]
            mutant.reasons = [f"{v['form']}: {r}" for v in killing[:1] for r in v["reasons"][:3]]
        elif mutant.status == "killed":
            faults = [v for v in verdicts if v["outcome"] == "harness-fault"]
            mutant.verdict = "harness-fault" if faults else "no-verdict"
            mutant.reasons = [r for v in faults for r in v["reasons"]][:3]
        elif mutant.status == "timeout":
            mutant.verdict = "timeout"
        elif mutant.status == "no tests":
            mutant.verdict = "not-reached"
        else:
            mutant.verdict = "survived"
    problems += [f"equivalent entry matches no mutant: {function} {before!r} -> {after!r} (occurrence {n})"
                 for (function, before, after, n) in equivalents.keys() - used]
    return problems


KILLED = ("violated", "refused", "no-start")


def figures(mutants: list[Mutant], seconds: float) -> dict[str, Any]:
    counts = Counter(m.verdict for m in mutants)
    killed = sum(counts[k] for k in KILLED)
    equivalent = counts["equivalent"]
    counted = len(mutants) - equivalent
    per_file = {}
    for file in sorted({m.file for m in mutants}):
        mine = [m for m in mutants if m.file == file]
        mine_killed = sum(1 for m in mine if m.verdict in KILLED)
        mine_counted = sum(1 for m in mine if m.verdict != "equivalent")
        per_file[file] = {"mutants": len(mine), "killed": mine_killed, "equivalent": len(mine) - mine_counted,
                          "survived": mine_counted - mine_killed}
    return {"mutants": len(mutants), "killed": killed, "survived": counted - killed, "equivalent": equivalent,
            "score": round(killed / counted, 4) if counted else 1.0, "seconds": round(seconds),
            "by_verdict": dict(sorted(counts.items())), "per_file": per_file}


def report(mutants: list[Mutant], numbers: dict[str, Any], problems: list[str]) -> str:
    lines = [f"mutants {numbers['mutants']}  killed {numbers['killed']}  survived {numbers['survived']}  "
             f"equivalent {numbers['equivalent']}  score {numbers['score']:.1%}  time {numbers['seconds']} s",
             "verdicts: " + ", ".join(f"{k} {v}" for k, v in numbers["by_verdict"].items()), "per file:"]
    for file, row in numbers["per_file"].items():
        lines.append(f"  {file}: {row['mutants']} mutants, {row['killed']} killed, {row['survived']} survived, "
                     f"{row['equivalent']} equivalent")
    survivors = [m for m in mutants if m.verdict not in (*KILLED, "equivalent")]
    if survivors:
        lines.append("survivors:")
        for m in survivors:
            lines.append(f"  {m.file}:{m.line} {m.function} [{m.verdict}] {m.before!r} -> {m.after!r} ({m.name})")
            lines += [f"      {r}" for r in m.reasons]
    lines += [f"problem: {p}" for p in problems]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-children", type=int, default=2, help="mutants judged at once (default 2)")
    parser.add_argument("--first-failure", action="store_true",
                        help="stop each run at its first gate-failing finding (same verdicts, sooner)")
    parser.add_argument("--json", type=Path, help="write the figures and every mutant's verdict there")
    parser.add_argument("--keep", type=Path, help="make the copy in this (new) folder and keep it")
    parser.add_argument("--rescore", type=Path, metavar="DIR",
                        help="score a folder kept by --keep again (after editing the equivalents), running nothing")
    args = parser.parse_args(argv)
    data = load_data()
    scope = in_scope(data)
    if args.rescore is not None:
        return _score(args.rescore, scope, data, args.json, 0.0)
    work = args.keep if args.keep is not None else Path(tempfile.mkdtemp(prefix="coupon-harness-mutation-"))
    if args.keep is not None:
        work.mkdir(parents=True, exist_ok=False)
    started = time.monotonic()
    try:
        make_copy(work, data)
        code = run_mutmut(work, scope, args.max_children, args.first_failure)
        if code != 0:
            tail = (work / "mutmut.log").read_text(encoding="utf-8", errors="replace")[-3000:]
            print(f"mutmut run exited {code}:\n{tail}", file=sys.stderr)
            return 2
        return _score(work, scope, data, args.json, time.monotonic() - started)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def _score(work: Path, scope: dict[str, list[str]], data: dict[str, Any], json_path: Path | None,
           seconds: float) -> int:
    mutants = collect(work, scope)
    problems = judge_all(mutants, work, data)
    numbers = figures(mutants, seconds)
    print(report(mutants, numbers, problems))
    if json_path is not None:
        json_path.write_text(json.dumps({"figures": numbers, "problems": problems,
                                         "mutants": [asdict(m) for m in mutants]}, indent=1), encoding="utf-8")
    return 0 if numbers["survived"] == 0 and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
