"""The console report (the rich renderer over a contract run's Document): its last line, colours, what it
folds; and the progress printer. What it shows line by line is in the snapshots (test_snapshots.py)."""

from __future__ import annotations

import io
import re

import pytest
from tests.reporting.reporting_builders import build

from coupon_harness.contract.catalog import rules
from coupon_harness.reporting.contract.document import contract_document
from coupon_harness.reporting.progress import ProgressPrinter
from coupon_harness.reporting.render.console import render_console
from coupon_harness.results.contract import ContractRunResult

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def render_table(result: ContractRunResult, *, color: bool) -> str:
    return render_console(contract_document(result), color=color, width=100)


def test_rules_in_order_of_attention(failed_result: ContractRunResult) -> None:
    text = render_table(failed_result, color=False)
    assert "\x1b" not in text
    lines = text.splitlines()
    head = next(n for n, line in enumerate(lines) if line.split() == ["OUTCOME", "RULE", "TITLE", "CHECKS"])
    table = lines[head + 2:head + 2 + len(rules())]
    assert sorted(line.split()[1 if not line.startswith("not run") else 2] for line in table) == sorted(
        rule.id for rule in rules())
    outcomes = [line.split()[0] for line in table]
    # Failed rules first (the most severe first), then warned, passed, not run.
    assert outcomes == sorted(outcomes, key=["FAILED", "WARNED", "passed", "not"].index)
    assert table[0].split() == ["FAILED", "no-server-error", "Never", "a", "5xx", "812"]


def test_first_finding_of_each_rule_and_verdict(failed_result: ContractRunResult) -> None:
    text = render_table(failed_result, color=False)
    violated = text[text.index("FAIL no-server-error: Never a 5xx"):]
    assert "      expected: a status below 500\n      received: 500 Internal Server Error\n" in violated
    assert "      curl:     curl -X POST " in violated
    assert "      replay:   coupon-harness contract --seed 11\n" in violated
    assert "Finding 1/1: 500 · 3 occurrences · found in property/negative · seed 11" in violated
    assert "(+1 more finding: see report.md)" in violated  # entity-order's second finding is folded
    assert "      received: <html><body>Bad Request</body></html>" in text  # the warning's
    assert "  invalid-series-refused An invalid series yields an entity error: needs --invalid-series-ids | none " \
           "given" in text
    total = len(rules())  # the catalog grows; 7 rules of the failed run are not passed
    assert text.splitlines()[-1] == (f"FAIL: 2 rules violated (1 critical) - {total} rules: {total - 7} passed, "
                                     "2 failed, 1 warned, 4 not run; 812 requests in 12.3s, seed 7")


def test_long_values_are_cut_but_never_a_curl() -> None:
    from tests.reporting.reporting_builders import finding

    from coupon_harness.contract.catalog import get_rule
    from coupon_harness.results.contract import Outcome, RuleResult

    long = finding("error-body", "html", "x", "y" * 1000, status=400, body='{"seriesIds":[1],"pad":"' + "z" * 900
                   + '"}')
    text = render_table(build({"error-body": RuleResult(get_rule("error-body"), Outcome.WARNED, 1, [long])}),
                        color=False)
    received = next(line for line in text.splitlines() if "received:" in line)
    assert len(received) < 320 and "more chars)" in received
    curl = next(line for line in text.splitlines() if "curl:" in line)
    assert "z" * 900 in curl


def test_passed_verdict(passed_result: ContractRunResult) -> None:
    text = render_table(passed_result, color=False)
    assert "Violations and warnings" not in text
    total = len(rules())
    assert text.splitlines()[-1].startswith(f"PASS: contract holds - {total} rules: {total} passed")


def test_interrupted(interrupted_result: ContractRunResult) -> None:
    text = render_table(interrupted_result, color=False)
    assert "warn: The run was interrupted: these results cover only what ran before it stopped." in text
    assert "(interrupted: partial results)" in text.splitlines()[-1]


def test_color_only_adds_escape_codes(failed_result: ContractRunResult) -> None:
    colored = render_table(failed_result, color=True)
    assert "\x1b[1;31mFAILED\x1b[0m" in colored
    assert _ANSI.sub("", colored) == render_table(failed_result, color=False)


class _Stream(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_progress_printer() -> None:
    ticks = iter([100.0, 103.2, 1234.56])
    stream = _Stream()
    progress = ProgressPrinter(stream, clock=lambda: next(ticks))
    progress("property/negative: 43 requests")
    assert stream.getvalue() == "[  3.2s] property/negative: 43 requests\n"
    assert stream.flushes == 1
    progress("two\nlines")
    assert stream.getvalue().splitlines()[1:] == ["[1134.6s] two", "          lines"]
    assert stream.flushes == 2


def test_progress_printer_defaults_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    ProgressPrinter()("auth: 6 requests")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.fullmatch(r"\[ +\d+\.\ds\] auth: 6 requests\n", captured.err)


_FAULT_LINE = ("error: Harness error in pass 'scenarios' (a bug in coupon-harness, not a finding): TypeError: "
               "Integer exceeds 64-bit range; traceback in harness-error-scenarios.txt; seed 7. The other passes ran; "
               "the rules are judged on what ran.")


def test_harness_error_probe_and_first_finding(faulted_result: ContractRunResult) -> None:
    lines = render_table(faulted_result, color=False).splitlines()
    assert lines[-1].startswith("ERROR: harness error in 1 pass; 3 rules violated (1 critical) - ")
    assert lines[-1].endswith("seed 7; first finding after 0.4 s (property/negative)")
    assert _FAULT_LINE in lines
    probe = lines.index("      probe:    type confusion: numeric string in seriesIds[0]")
    assert lines[probe + 1] == "      expected: 400 Bad Request"
    assert lines[probe - 2] == "    Finding 1/1: 200 · 1 occurrence · found in malformed · seed 7"
    assert lines[probe - 5] == "  FAIL rejects-malformed: Malformed requests are answered 400"
    assert not any(line.strip() == "Traceback (most recent call last):" for line in lines)  # in its file


def test_harness_error_with_no_violation_is_no_pass(faulted_result: ContractRunResult) -> None:
    result = build()
    result.faults = faulted_result.faults
    last = render_table(result, color=False).splitlines()[-1]
    assert last.startswith("ERROR: harness error in 1 pass; no rule violated in what ran - ")
    assert "first finding" not in last
    colored = render_table(result, color=True)
    assert "\x1b[1;35mERROR: " in colored
    assert _ANSI.sub("", colored) == render_table(result, color=False)


def test_first_finding_without_a_fault(failed_result: ContractRunResult) -> None:
    failed_result.first_finding_s, failed_result.first_finding_source = 0.0042, "classics"
    last = render_table(failed_result, color=False).splitlines()[-1]
    assert last.startswith("FAIL: ")
    assert last.endswith("; first finding after 0.004 s (classics)")
