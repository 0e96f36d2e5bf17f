"""The console table, its verdict line and the progress printer."""

from __future__ import annotations

import io
import re

import pytest
from tests.reporting.reporting_builders import build

from coupon_harness.contract import rules
from coupon_harness.reporting import ProgressPrinter, render_table
from coupon_harness.results.contract import ContractRunResult

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_table_without_color(failed_result: ContractRunResult) -> None:
    text = render_table(failed_result, color=False)
    assert "\x1b" not in text
    lines = text.splitlines()
    header = lines[0]
    assert header.split() == ["RULE", "OUTCOME", "CHECKS", "TITLE"]
    column = header.index("OUTCOME")
    table = lines[1:len(rules()) + 1]
    assert sorted(line.split()[0] for line in table) == sorted(rule.id for rule in rules())
    for line in table:
        assert line[column:].split()[0] in {"passed", "FAILED", "WARNED", "not"}
    outcomes = [line[column:].split()[0] for line in table]
    # Failed rules first (the most severe first), then warned, passed, not run.
    assert outcomes == sorted(outcomes, key=["FAILED", "WARNED", "passed", "not"].index)
    assert lines[1][column:].startswith("FAILED       812  Never a 5xx")


def test_violations_and_verdict(failed_result: ContractRunResult) -> None:
    text = render_table(failed_result, color=False)
    violated = text[text.index("Violated rules:"):]
    assert "  no-server-error [critical]: Never a 5xx\n    expected: a status below 500\n" in violated
    assert "    received: 500 Internal Server Error\n" in violated
    assert "    curl:     curl -X POST " in violated
    assert "    seed:     11\n    replay:   coupon-harness contract --seed 11\n" in violated
    assert "    id:       " in violated
    assert "(+1 more finding: see report.md)" in violated
    assert "  error-body: expected empty, JSON or XML, received <html>" in text
    assert "  invalid-series-refused: needs --invalid-series-ids | none given" in text
    total = len(rules())  # the catalog grows; 7 rules of the failed run are not passed
    assert text.splitlines()[-1] == (f"FAIL: 2 rules violated (1 critical) - {total} rules: {total - 7} passed, "
                                     "2 failed, 1 warned, 4 not run; 812 requests in 12.3s, seed 7")


def test_passed_verdict(passed_result: ContractRunResult) -> None:
    text = render_table(passed_result, color=False)
    assert "Violated rules:" not in text
    total = len(rules())
    assert text.splitlines()[-1].startswith(f"PASS: contract holds - {total} rules: {total} passed")


def test_interrupted(interrupted_result: ContractRunResult) -> None:
    text = render_table(interrupted_result, color=False)
    assert "Interrupted: these results cover only what ran." in text
    assert "(interrupted: partial results)" in text.splitlines()[-1]


def test_color_only_adds_escape_codes(failed_result: ContractRunResult) -> None:
    colored = render_table(failed_result, color=True)
    assert "\x1b[1;31mFAILED \x1b[0m" in colored
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


_FAULT_LINE = ("  Harness error in pass 'scenarios' (a bug in coupon-harness, not a finding): TypeError: Integer "
               "exceeds 64-bit range; traceback in harness-error-scenarios.txt; seed 7")


def test_harness_error_probe_and_first_finding(faulted_result: ContractRunResult) -> None:
    lines = render_table(faulted_result, color=False).splitlines()
    assert lines[-1].startswith("ERROR: harness error in 1 pass; 3 rules violated (1 critical) - ")
    assert lines[-1].endswith("seed 7; first finding after 0.4 s (property/negative)")
    assert lines[-3:-1] == [_FAULT_LINE, ""]
    probe = lines.index("    probe:    type confusion: numeric string in seriesIds[0]")
    assert lines[probe + 1] == "    expected: 400 Bad Request"
    assert lines[probe - 1] == "  rejects-malformed [error]: Malformed requests are answered 400"


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
