"""report.md: a Markdown report that fits a CI job summary (GitHub step summary, GitLab, a PR comment)."""

from __future__ import annotations

import re
from pathlib import Path

from coupon_harness.reporting.common import atomic_write_text, md_code, md_text, plural, shorten
from coupon_harness.reporting.contract.common import (
    BaselineGroups,
    FindingView,
    baseline_groups,
    count_outcomes,
    finding_label,
    finding_views,
    first_finding_after,
    ordered_rules,
    problem_rules,
    replay_command,
    shown_outcomes,
    verdict,
)
from coupon_harness.results.contract import ContractRunResult, HarnessFault, Outcome, RuleResult

__all__ = ["OUTCOME_EMOJI", "render_markdown", "write_markdown"]

OUTCOME_EMOJI = {
    Outcome.PASSED: "✅",
    Outcome.FAILED: "❌",
    Outcome.WARNED: "⚠️",
    Outcome.KNOWN: "📌",
    Outcome.NOT_RUN: "⏭️",
}
_INLINE_LIMIT = 160
_BLOCK_LIMIT = 4000


def _fenced(text: str, language: str, indent: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    body = "\n".join(indent + line for line in text.splitlines() or [""])
    return f"{indent}{fence}{language}\n{body}\n{indent}{fence}"


def _value(label: str, text: str) -> str:
    """A list item `label: value`: inline code when short, else an indented fenced block."""
    if len(text) <= _INLINE_LIMIT and "\n" not in text:
        return f"- **{label}:** {md_code(text)}"
    return f"- **{label}:**\n\n{_fenced(shorten(text, _BLOCK_LIMIT), 'text', indent='  ')}\n"


def _finding(view: FindingView, number: int, total: int) -> str:
    finding = view.finding
    status = f" · **{finding.baseline.value}** in the baseline" if finding.baseline is not None else ""
    head = (f"**Finding {number}/{total}** {md_code(finding.key)} · id {md_code(finding.fingerprint)}{status} · "
            f"{view.occurrences} · found in {md_code(finding.source)}")
    lines = [head, "", _value("replay", view.replay)]
    if finding.sequence:
        lines.append(f"- **before it:** {plural(len(finding.sequence), 'earlier request')} "
                     "(`coupon-harness replay` sends them first)")
    if finding.probe:
        lines.append(_value("probe", finding.probe))
    lines += [_value("expected", finding.expected), _value("received", finding.received)]
    if view.response:
        lines.append(_value("response", view.response))
    lines.append("")
    lines.append(_fenced(view.curl, "sh") if view.curl else "_No request recorded for this finding._")
    return "\n".join(lines)


def _rule_section(result: ContractRunResult, rule_result: RuleResult) -> str:
    rule = rule_result.rule
    views = finding_views(result, rule_result)
    gate = "fails the gate" if rule_result.outcome is Outcome.FAILED else "does not fail the gate"
    parts = [
        f"### {OUTCOME_EMOJI[rule_result.outcome]} {md_code(rule.id)}: {md_text(rule.title)}",
        "",
        f"**{rule.severity.value}** ({gate}) · group {rule.group} · {rule_result.checks} checks · "
        f"{plural(len(views), 'finding')}",
        "",
        f"> {md_text(rule.statement)}",
    ]
    if not views:
        parts += ["", "_No finding recorded._"]
    for number, view in enumerate(views[:1], start=1):
        parts += ["", _finding(view, number, len(views))]
    if len(views) > 1:
        parts += ["", f"<details><summary>{plural(len(views) - 1, 'more finding')}</summary>", ""]
        for number, view in enumerate(views[1:], start=2):
            parts += [_finding(view, number, len(views)), ""]
        parts.append("</details>")
    return "\n".join(parts)


def _details_cell(rule_result: RuleResult) -> str:
    if rule_result.outcome is Outcome.NOT_RUN:
        return md_text(rule_result.reason or "no reason given")
    findings = len(rule_result.findings)
    if rule_result.outcome in (Outcome.FAILED, Outcome.WARNED, Outcome.KNOWN):
        occurrences = sum(finding.occurrences for finding in rule_result.findings)
        return f"{plural(findings, 'finding')}, {plural(occurrences, 'occurrence')}"
    return ""


def _table(result: ContractRunResult) -> list[str]:
    lines = ["| Outcome | Rule | Title | Severity | Checks | Details |", "|---|---|---|---|--:|---|"]
    for rule_result in ordered_rules(result):
        rule = rule_result.rule
        lines.append(
            f"| {OUTCOME_EMOJI[rule_result.outcome]} {rule_result.outcome.value} "
            f"| {md_code(rule.id, in_table=True)} | {md_text(rule.title)} | {rule.severity.value} "
            f"| {rule_result.checks} | {_details_cell(rule_result)} |"
        )
    return lines


def _baseline(groups: BaselineGroups) -> list[str]:
    lines = ["## Baseline", "",
             f"{md_code(groups.file)}: **{len(groups.new)} new** (fail the gate) · {len(groups.known)} known · "
             f"{len(groups.fixed)} fixed" + (" · rewritten from this run (`--baseline-update`)" if groups.updated
                                             else "")]
    lines += ["", *(f"> ⚠️ {md_text(warning)}" for warning in groups.warnings)] if groups.warnings else []
    rows = [("new", md_text(finding_label(f)) + (" (expired entry)" if f.baseline and f.baseline.value == "expired"
                                                  else "")) for f in groups.new]
    rows += [("known", md_text(finding_label(f))) for f in groups.known]
    rows += [("fixed", f"{md_code(e.fingerprint)} {md_code(e.rule_id)} {md_text(e.description)} (not seen: trim "
                       "it from the file)") for e in groups.fixed]
    if rows:
        lines += ["", "| Group | Finding |", "|---|---|", *(f"| {group} | {text.replace('|', '&#124;')} |"
                                                              for group, text in rows)]
    return lines


def _headline(result: ContractRunResult) -> str:
    mark = "🛑" if result.faults else "✅" if result.holds else "❌"
    return f"## coupon-harness contract: {mark} {verdict(result)}"


def _fault(fault: HarnessFault, seed: int) -> list[str]:
    """A harness error: what broke, where its traceback is (a link beside report.md), and the traceback."""
    file = fault.file_name
    return [
        f"> 🛑 **Harness error in pass '{md_text(fault.stage)}'** (a bug in coupon-harness, not a finding): "
        f"{md_code(fault.error)}; traceback in [{md_code(file)}]({file}); seed {md_code(str(seed))}. "
        "The other passes ran; the rules are judged on what ran.",
        "",
        f"<details><summary>Traceback of pass '{md_text(fault.stage)}'</summary>",
        "",
        _fenced(shorten(fault.traceback, _BLOCK_LIMIT), "text"),
        "",
        "</details>",
    ]


def render_markdown(result: ContractRunResult) -> str:
    """The report as Markdown."""
    counts = count_outcomes(result)
    tally = " · ".join(f"{OUTCOME_EMOJI[outcome]} {counts[outcome]} {outcome.value}"
                       for outcome in shown_outcomes(result))
    lines = [_headline(result)]
    for fault in result.faults:
        lines += ["", *_fault(fault, result.seed)]
    first = first_finding_after(result)
    lines += [
        "",
        f"**Target** {md_code(result.target)} · **Seed** {md_code(str(result.seed))} · "
        f"**Duration** {result.duration_s:.1f} s · **Requests** {result.requests} · "
        f"**Started** {md_code(result.started_at)}"
        + (f" · **First finding** {md_text(first)}" if first else ""),
        "",
        f"**{len(result.rules)} rules:** {tally}",
        "",
        f"**Replay:** {md_code(replay_command(result.seed, result.shape))}",
    ]
    if result.interrupted:
        lines += ["", "> ⚠️ **The run was interrupted**: these results cover only what ran before it stopped."]
    if counts[Outcome.NOT_RUN]:
        lines += ["", f"> ⏭️ **{counts[Outcome.NOT_RUN]} rules were not run** and are not counted as passed: "
                      "see **Not run** below."]
    lines += ["", *_table(result)]
    groups = baseline_groups(result)
    if groups is not None:
        lines += ["", *_baseline(groups)]
    problems = problem_rules(result)
    if problems:
        lines += ["", "## Violations and warnings"]
        for rule_result in problems:
            lines += ["", _rule_section(result, rule_result)]
    not_run = [r for r in ordered_rules(result) if r.outcome is Outcome.NOT_RUN]
    if not_run:
        lines += ["", "## Not run", ""]
        lines += [f"- ⏭️ {md_code(r.rule.id)} {md_text(r.rule.title)}: {md_text(r.reason or 'no reason given')}"
                  for r in not_run]
    if result.passes:
        passes = ", ".join(f"{md_code(name)} {sent} requests" for name, sent in result.passes)
        lines += ["", "## Passes", "", passes]
    if result.notes:
        lines += ["", "## Notes", "", *(f"- {md_text(note)}" for note in result.notes)]
    return "\n".join(lines) + "\n"


def write_markdown(result: ContractRunResult, path: Path) -> None:
    """Write report.md to `path` (atomically)."""
    atomic_write_text(path, render_markdown(result))
