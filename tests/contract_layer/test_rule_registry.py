"""Rule ids come from one registry (RuleId), checked against contracts/rules.yaml at import; an unknown id
is an error wherever it shows up, never a finding silently dropped (issue 8)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from coupon_harness.contract.catalog import RULE_IDS, RuleId, UnknownRuleError, rules
from coupon_harness.contract.violations import Violation
from coupon_harness.results.contract import Finding
from coupon_harness.runners.contract.collector import Collector

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "coupon_harness"

#: Modules that name rules through RuleId only (no rule id as a string literal outside docstrings).
REGISTRY_ONLY = (
    *sorted((SRC / "contract").glob("*.py")),
    SRC / "runners" / "contract" / "judge.py",
    SRC / "runners" / "contract" / "collector.py",
    SRC / "runners" / "contract" / "classics.py",
    SRC / "runners" / "contract" / "preflight.py",
    SRC / "runners" / "contract" / "probes.py",
    SRC / "runners" / "contract" / "scenarios.py",
    SRC / "runners" / "contract" / "client.py",
    SRC / "runners" / "contract" / "exchange.py",
    SRC / "runners" / "load" / "checker.py",
    SRC / "runners" / "load" / "recorder.py",
)
#: Where a rule id's spelling is the point: the registry itself.
SPELLED_OUT = {SRC / "contract" / "catalog.py"}


def test_the_registry_is_the_catalog_in_order() -> None:
    assert [member.value for member in RuleId] == [rule.id for rule in rules()]
    assert frozenset(RuleId) == RULE_IDS


def test_a_violation_of_an_unknown_rule_raises() -> None:
    with pytest.raises(UnknownRuleError, match=r"no rule 'no-such-rule' in contracts/rules\.yaml"):
        Violation("no-such-rule", "kind", "expected", "received")


def test_a_violation_keeps_the_id_as_a_plain_str() -> None:
    violation = Violation(RuleId.TRANSPORT, "connection", "a", "b")
    assert type(violation.rule_id) is str and violation.rule_id == "transport"
    assert Violation("transport", "connection", "a", "b") == violation


def test_the_collector_refuses_unknown_ids_rather_than_drop_them() -> None:
    collector = Collector(seed=0, max_transport_failures=5)
    with pytest.raises(UnknownRuleError):
        collector.checked(("transport", "not-a-rule"))
    # A finding that slipped in by another way (a Finding made by hand) fails the results, not vanishes.
    collector._findings[("not-a-rule", "k", None)] = Finding(
        rule_id="not-a-rule", key="k", expected="e", received="r", request=None, response_status=200,
        response_excerpt="", source="test", seed=0)
    from coupon_harness.contract.expectations import Expectations

    with pytest.raises(UnknownRuleError):
        collector.rule_results(Expectations())


def _run_with_rules(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "rules.yaml").write_text(text)
    # The package imports the catalog first thing: point the resources at the folder, then import the
    # catalog module afresh (reload runs its module code, the check included, as a first import does).
    code = textwrap.dedent(f"""
        import importlib
        from pathlib import Path
        import coupon_harness.contract.catalog as catalog
        import coupon_harness.contract.resources as resources
        resources.contracts_dir = lambda: Path({str(tmp_path)!r})
        importlib.reload(catalog)
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_a_rule_without_a_registry_member_fails_the_import(tmp_path: Path) -> None:
    original = (ROOT / "contracts" / "rules.yaml").read_text()
    added = original + ("  - id: brand-new-rule\n    group: http\n    severity: error\n    title: New\n"
                        "    statement: New.\n")
    done = _run_with_rules(tmp_path, added)
    assert done.returncode != 0
    assert "ImportError" in done.stderr
    assert "in contracts/rules.yaml but not in RuleId: brand-new-rule" in done.stderr


def test_a_registry_member_without_a_rule_fails_the_import(tmp_path: Path) -> None:
    original = (ROOT / "contracts" / "rules.yaml").read_text()
    start = original.index("  - id: strict-json")
    end = original.index("  - id: auth-required")
    done = _run_with_rules(tmp_path, original[:start] + original[end:])
    assert done.returncode != 0
    assert "in RuleId but not in contracts/rules.yaml: strict-json" in done.stderr


def _rule_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in RULE_IDS
            and id(node) not in docstrings]


@pytest.mark.parametrize("path", [p for p in REGISTRY_ONLY if p not in SPELLED_OUT],
                         ids=lambda p: str(p.relative_to(SRC)))
def test_rules_are_named_through_the_registry(path: Path) -> None:
    assert _rule_literals(path) == []
