"""What the terminal shows: progress lines while a run goes, a table of rules and a verdict at the end."""

from __future__ import annotations

from coupon_harness.reporting.common import one_line, plural, shorten
from coupon_harness.reporting.contract.common import (
    baseline_groups,
    baseline_text,
    fault_headline,
    finding_views,
    first_finding_after,
    first_finding_summary,
    ordered_rules,
    plain_finding,
    replay_command,
    summary_line,
    verdict,
)
from coupon_harness.results.contract import ContractRunResult, Outcome, RuleResult

__all__ = ["render_table"]

_RESET = "\033[0m"
_BOLD = "\033[1m"
_COLORS = {
    Outcome.PASSED: "\033[32m",
    Outcome.FAILED: "\033[1;31m",
    Outcome.WARNED: "\033[33m",
    Outcome.KNOWN: "\033[2;33m",
    Outcome.NOT_RUN: "\033[2;36m",
}
# Upper case for what needs attention, so it stands out without colour too.
_LABELS = {
    Outcome.PASSED: "passed",
    Outcome.FAILED: "FAILED",
    Outcome.WARNED: "WARNED",
    Outcome.KNOWN: "known",
    Outcome.NOT_RUN: "not run",
}
#: The final state word when the harness met a bug of its own (exit 2), whatever the rules say.
_ERROR = "\033[1;35m"
_VALUE_LIMIT = 300


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _short_finding(result: ContractRunResult, rule_result: RuleResult) -> str:
    views = finding_views(result, rule_result)
    if not views:
        return "    (no finding recorded)"
    text = plain_finding(views[0], indent="    ", limit=_VALUE_LIMIT)
    if len(views) > 1:
        text += f"\n    (+{plural(len(views) - 1, 'more finding')}: see report.md)"
    return text


def render_table(result: ContractRunResult, *, color: bool) -> str:
    """The final table of rules, the violated rules' first findings, harness errors, and a verdict line
    (PASS, FAIL or ERROR; no final newline)."""
    ordered = ordered_rules(result)
    width = max([len("RULE"), *(len(r.rule.id) for r in ordered)])
    lines = [_paint(f"{'RULE':<{width}}  {'OUTCOME':<7}  {'CHECKS':>7}  TITLE", _BOLD, color)]
    for rule_result in ordered:
        outcome = _paint(f"{_LABELS[rule_result.outcome]:<7}", _COLORS[rule_result.outcome], color)
        rule = rule_result.rule
        lines.append(f"{rule.id:<{width}}  {outcome}  {rule_result.checks:>7}  {rule.title}")
    failed = [r for r in ordered if r.outcome is Outcome.FAILED]
    if failed:
        lines += ["", _paint("Violated rules:", _COLORS[Outcome.FAILED], color)]
        for rule_result in failed:
            rule = rule_result.rule
            lines.append(f"  {rule.id} [{rule.severity.value}]: {rule.title}")
            lines.append(_short_finding(result, rule_result))
    warned = [r for r in ordered if r.outcome is Outcome.WARNED]
    if warned:
        lines += ["", _paint("Warnings (do not fail the gate):", _COLORS[Outcome.WARNED], color)]
        lines += [f"  {r.rule.id}: {shorten(first_finding_summary(r), _VALUE_LIMIT)}" for r in warned]
    not_run = [r for r in ordered if r.outcome is Outcome.NOT_RUN]
    if not_run:
        lines += ["", _paint("Not run (not counted as passed):", _COLORS[Outcome.NOT_RUN], color)]
        lines += [f"  {r.rule.id}: {one_line(r.reason or 'no reason given')}" for r in not_run]
    groups = baseline_groups(result)
    if groups is not None:
        text = baseline_text(groups)
        lines += ["", _paint(text[0], _BOLD, color), *text[1:]]
    lines += ["", f"Replay: {replay_command(result.seed, result.shape)}"]
    if result.interrupted:
        notice = "Interrupted: these results cover only what ran."
        lines += ["", _paint(notice, _COLORS[Outcome.WARNED], color)]
    if result.faults:
        lines += ["", _paint("Harness errors (the passes named stopped early; the others ran):", _ERROR, color)]
        lines += [f"  {fault_headline(fault, result.seed)}" for fault in result.faults]
        state, code = "ERROR", _ERROR
    elif result.holds:
        state, code = "PASS", _BOLD + _COLORS[Outcome.PASSED]
    else:
        state, code = "FAIL", _BOLD + _COLORS[Outcome.FAILED]
    line = (f"{state}: {verdict(result)} - {summary_line(result)}; "
            f"{result.requests} requests in {result.duration_s:.1f}s, seed {result.seed}")
    first = first_finding_after(result)
    if first:
        line += f"; first finding {first}"
    lines += ["", _paint(line, code, color)]
    return "\n".join(lines)


