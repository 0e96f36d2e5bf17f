"""report.html: one self-contained page (inline CSS, no script, no external asset), everything escaped."""

from __future__ import annotations

import html
import re
from pathlib import Path

from coupon_harness.reporting.common import atomic_write_text, html_mark, html_page, plural, shorten
from coupon_harness.reporting.contract.common import (
    BaselineGroups,
    FindingView,
    baseline_groups,
    count_outcomes,
    finding_label,
    finding_views,
    first_finding_after,
    first_finding_summary,
    ordered_rules,
    problem_rules,
    replay_command,
    shown_outcomes,
    verdict,
)
from coupon_harness.results.contract import BaselineStatus, ContractRunResult, HarnessFault, Outcome, RuleResult

__all__ = ["render_html", "write_html"]

_CSS = """
:root { color-scheme: light; --passed: #1a7f37; --passed-bg: #dafbe1; --failed: #cf222e; --failed-bg: #ffebe9;
  --warned: #9a6700; --warned-bg: #fff8c5; --not-run: #57606a; --not-run-bg: #eaeef2;
  --error: #8250df; --error-bg: #fbefff; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0 auto;
  max-width: 1200px; padding: 1.5rem; }
h1 { margin: 0; font-size: 1.6rem; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
.verdict { padding: 1rem 1.25rem; border-radius: 8px; border-left: 8px solid; margin-bottom: 1rem; }
.verdict.holds { background: var(--passed-bg); border-color: var(--passed); }
.verdict.violated { background: var(--failed-bg); border-color: var(--failed); }
.verdict.error { background: var(--error-bg); border-color: var(--error); }
.banner { padding: .6rem 1rem; border-radius: 6px; margin: .5rem 0; background: var(--warned-bg); }
.fault { padding: .6rem 1rem; border-radius: 6px; margin: .5rem 0 1rem; background: var(--error-bg);
  border: 1px solid var(--error); } .fault p { margin: 0 0 .3rem; } .fault a code { white-space: nowrap; }
.fault details { background: #fff; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 1rem 0; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .35rem .6rem;
  border-bottom: 1px solid #d0d7de; vertical-align: top; } td.num { text-align: right; }
tr.passed td:first-child { border-left: 4px solid var(--passed); }
tr.failed td:first-child { border-left: 4px solid var(--failed); } tr.failed { background: var(--failed-bg); }
tr.warned td:first-child { border-left: 4px solid var(--warned); } tr.warned { background: var(--warned-bg); }
tr.not-run td:first-child { border-left: 4px dashed var(--not-run); } tr.not-run { color: var(--not-run); }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-weight: 600;
  white-space: nowrap; }
.badge.passed { color: var(--passed); background: var(--passed-bg); }
.badge.failed { color: #fff; background: var(--failed); }
.badge.warned { color: var(--warned); background: var(--warned-bg); border: 1px solid var(--warned); }
.badge.known { color: var(--not-run); background: var(--warned-bg); border: 1px solid var(--not-run); }
tr.known td:first-child { border-left: 4px solid var(--not-run); }
section.rule.known { border-left-color: var(--not-run); }
.badge.not-run { color: var(--not-run); background: var(--not-run-bg); border: 1px dashed var(--not-run); }
section.rule { border: 1px solid #d0d7de; border-left: 6px solid; border-radius: 6px; padding: .5rem 1rem;
  margin: 1rem 0; } section.rule.failed { border-left-color: var(--failed); }
section.rule.warned { border-left-color: var(--warned); }
blockquote { margin: .5rem 0; padding-left: .8rem; border-left: 3px solid #d0d7de; color: #59636e; }
details { margin: .5rem 0; border: 1px solid #d0d7de; border-radius: 6px; padding: .3rem .8rem; }
summary { cursor: pointer; font-weight: 600; }
pre { background: #f6f8fa; padding: .5rem .8rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap;
  word-break: break-all; margin: .2rem 0; } code { font: 12px/1.4 ui-monospace, SFMono-Regular, monospace; }
dl.finding { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .8rem; }
dl.finding dt { font-weight: 600; padding-top: .5rem; } dl.finding dd { margin: 0; min-width: 0; }
footer { margin-top: 2rem; color: #59636e; font-size: 12px; }
"""


_COLUMNS = ("Outcome", "Rule", "Title", "Severity", "Checks", "Details")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _css_class(outcome: Outcome) -> str:
    return outcome.value.replace(" ", "-")


def _anchor(rule_id: str) -> str:
    return "rule-" + re.sub(r"[^A-Za-z0-9_-]", "-", rule_id)


def _badge(outcome: Outcome) -> str:
    return f'<span class="badge {_css_class(outcome)}">{_e(outcome.value)}</span>'


def _finding(view: FindingView, number: int, total: int) -> str:
    finding = view.finding
    status = f" ({finding.baseline.value} in the baseline)" if finding.baseline is not None else ""
    rows = [("id", f"{finding.fingerprint}{status}")]
    rows += [("probe", finding.probe)] if finding.probe else []
    rows += [("expected", finding.expected), ("received", finding.received)]
    if view.response:
        rows.append(("response", view.response))
    rows.append(("curl", view.curl or "(no request recorded)"))
    rows.append(("replay", view.replay))
    if finding.sequence:
        rows.append(("before it", f"{plural(len(finding.sequence), 'earlier request')} (coupon-harness replay "
                                  "sends them first)"))
    items = "".join(f"<dt>{_e(label)}</dt><dd><pre><code>{_e(value)}</code></pre></dd>"
                    for label, value in rows)
    summary = (f"Finding {number}/{total}: <code>{_e(finding.key)}</code> · {_e(view.occurrences)} · "
               f"found in <code>{_e(finding.source)}</code> · seed {_e(view.seed)}")
    opened = " open" if number == 1 else ""
    return f'<details{opened}><summary>{summary}</summary><dl class="finding">{items}</dl></details>'


def _rule_section(result: ContractRunResult, rule_result: RuleResult) -> str:
    rule = rule_result.rule
    views = finding_views(result, rule_result)
    gate = "fails the gate" if rule_result.outcome is Outcome.FAILED else "does not fail the gate"
    findings = "".join(_finding(view, number, len(views)) for number, view in enumerate(views, start=1))
    return (
        f'<section class="rule {_css_class(rule_result.outcome)}" id="{_anchor(rule.id)}">'
        f"<h3>{_badge(rule_result.outcome)} <code>{_e(rule.id)}</code>: {_e(rule.title)}</h3>"
        f"<p><strong>{_e(rule.severity.value)}</strong> ({gate}) · group {_e(rule.group)} · "
        f"{rule_result.checks} checks · {plural(len(views), 'finding')}</p>"
        f"<blockquote>{_e(rule.statement)}</blockquote>"
        f"{findings or '<p><em>No finding recorded.</em></p>'}</section>"
    )


def _table(result: ContractRunResult) -> str:
    rows = []
    for rule_result in ordered_rules(result):
        rule = rule_result.rule
        rule_id = f"<code>{_e(rule.id)}</code>"
        if rule_result.outcome in (Outcome.FAILED, Outcome.WARNED, Outcome.KNOWN):
            rule_id = f'<a href="#{_anchor(rule.id)}">{rule_id}</a>'
        if rule_result.outcome is Outcome.NOT_RUN:
            details = _e(rule_result.reason or "no reason given")
        elif rule_result.findings:
            count = len(rule_result.findings)
            first = shorten(first_finding_summary(rule_result), 160)
            details = f"{plural(count, 'finding')}: {_e(first)}"
        else:
            details = ""
        rows.append(
            f'<tr class="{_css_class(rule_result.outcome)}"><td>{_badge(rule_result.outcome)}</td>'
            f"<td>{rule_id}</td><td>{_e(rule.title)}</td><td>{_e(rule.severity.value)}</td>"
            f'<td class="num">{rule_result.checks}</td><td>{details}</td></tr>'
        )
    head = "<tr>" + "".join(f"<th>{name}</th>" for name in _COLUMNS) + "</tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _fault(fault: HarnessFault, seed: int) -> str:
    file = _e(fault.file_name)
    return (f'<div class="fault"><p>{html_mark("error")} '
            f"<strong>Harness error in pass '{_e(fault.stage)}'</strong> "
            f"(a bug in coupon-harness, not a finding): <code>{_e(fault.error)}</code>; "
            f'traceback in <a href="{file}"><code>{file}</code></a>; seed <code>{_e(seed)}</code>. '
            "The other passes ran; the rules are judged on what ran.</p>"
            f"<details><summary>Traceback</summary><pre><code>{_e(fault.traceback)}</code></pre></details></div>")


def _baseline(groups: BaselineGroups) -> str:
    rows = [("new", finding_label(f) + (" (expired entry)" if f.baseline is BaselineStatus.EXPIRED else ""))
            for f in groups.new]
    rows += [("known", finding_label(f)) for f in groups.known]
    rows += [("fixed", f"{e.fingerprint} {e.rule_id}: {e.description} (not seen: trim it from the file)")
             for e in groups.fixed]
    warnings = "".join(f'<p class="banner">{html_mark("warn")} {_e(w)}</p>' for w in groups.warnings)
    table = ("<table><thead><tr><th>Group</th><th>Finding</th></tr></thead><tbody>"
             + "".join(f"<tr><td>{_e(group)}</td><td><code>{_e(text)}</code></td></tr>" for group, text in rows)
             + "</tbody></table>") if rows else ""
    updated = " · rewritten from this run (--baseline-update)" if groups.updated else ""
    return (f'<h2 id="baseline">Baseline</h2><p><code>{_e(groups.file)}</code>: <strong>{len(groups.new)} new'
            f"</strong> (fail the gate) · {len(groups.known)} known · {len(groups.fixed)} fixed{_e(updated)}</p>"
            f"{warnings}{table}")


def _header(result: ContractRunResult) -> str:
    counts = count_outcomes(result)
    state = "error" if result.faults else "holds" if result.holds else "violated"
    mark = html_mark("error" if result.faults else "pass" if result.holds else "fail")
    meta = [("Target", f"<code>{_e(result.target)}</code>"), ("Seed", f"<code>{_e(result.seed)}</code>"),
            ("Duration", f"{result.duration_s:.1f} s"), ("Requests", _e(result.requests)),
            ("Started", _e(result.started_at)),
            ("Replay", f"<code>{_e(replay_command(result.seed, result.shape))}</code>")]
    first = first_finding_after(result)
    if first:
        meta.append(("First finding", _e(first)))
    tally = " ".join(f'<span class="badge {_css_class(outcome)}">{counts[outcome]} {_e(outcome.value)}</span>'
                     for outcome in shown_outcomes(result))
    parts = [f'<header class="verdict {state}"><h1>{mark} {_e(verdict(result))}</h1>'
             f"<p>coupon-harness contract · {len(result.rules)} rules: {tally}</p></header>",
             *(_fault(fault, result.seed) for fault in result.faults),
             '<dl class="meta">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta) + "</dl>"]
    if result.interrupted:
        parts.append(f'<p class="banner">{html_mark("warn")} <strong>The run was interrupted</strong>: '
                     "these results cover only what ran before it stopped.</p>")
    if counts[Outcome.NOT_RUN]:
        parts.append(f'<p class="banner">{html_mark("skip")} '
                     f"<strong>{counts[Outcome.NOT_RUN]} rules were not run</strong> "
                     "and are not counted as passed: see <a href=\"#not-run\">Not run</a>.</p>")
    return "".join(parts)


def render_html(result: ContractRunResult) -> str:
    """The report as one HTML document."""
    body = [_header(result), "<h2>Rules</h2>", _table(result)]
    groups = baseline_groups(result)
    if groups is not None:
        body.append(_baseline(groups))
    problems = problem_rules(result)
    if problems:
        body.append("<h2>Violations and warnings</h2>")
        body += [_rule_section(result, rule_result) for rule_result in problems]
    not_run = [r for r in ordered_rules(result) if r.outcome is Outcome.NOT_RUN]
    if not_run:
        items = "".join(f"<li><code>{_e(r.rule.id)}</code> {_e(r.rule.title)}: "
                        f"{_e(r.reason or 'no reason given')}</li>" for r in not_run)
        body.append(f'<h2 id="not-run">Not run</h2><ul>{items}</ul>')
    if result.passes:
        items = "".join(f"<li><code>{_e(name)}</code>: {sent} requests</li>" for name, sent in result.passes)
        body.append(f"<h2>Passes</h2><ul>{items}</ul>")
    if result.notes:
        body.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(note)}</li>" for note in result.notes) + "</ul>")
    body.append("<footer>Generated by coupon-harness. Credentials in requests were redacted.</footer>")
    title = _e(f"coupon-harness contract: {verdict(result)}")
    return html_page(title, _CSS, body)


def write_html(result: ContractRunResult, path: Path) -> None:
    """Write report.html to `path` (atomically)."""
    atomic_write_text(path, render_html(result))
