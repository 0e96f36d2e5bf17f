"""A contract run's report as a `Document` (console, report.md and report.html draw it), and the files of a
contract run's folder."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from coupon_harness.reporting.charts import TimelineMark, timeline_svg
from coupon_harness.reporting.contract.common import (
    BaselineGroups,
    FindingView,
    baseline_entries,
    baseline_groups,
    count_outcomes,
    curl_env_help,
    finding_views,
    first_finding_after,
    first_finding_summary,
    ordered_rules,
    replay_command,
    shown_outcomes,
    summary_line,
    verdict,
)
from coupon_harness.reporting.contract.junit import render_junit
from coupon_harness.reporting.contract.summary_json import write_summary_json
from coupon_harness.reporting.document import (
    Badge,
    Banner,
    Block,
    BulletList,
    Chart,
    Code,
    CodeBlock,
    Column,
    Details,
    Document,
    Figure,
    FindingBlock,
    Link,
    Paragraph,
    Quote,
    Row,
    Section,
    Span,
    Status,
    Strong,
    Table,
    Text,
    Verdict,
    joined,
)
from coupon_harness.reporting.text import plural, shorten
from coupon_harness.reporting.writer import text_file, traceback_files, write_document_reports
from coupon_harness.results.contract import ContractRunResult, HarnessFault, Outcome, RuleResult

__all__ = ["OUTCOME_STATUS", "contract_document", "write_contract_reports"]

OUTCOME_STATUS = {Outcome.PASSED: Status.PASS, Outcome.FAILED: Status.FAIL, Outcome.WARNED: Status.WARN,
                  Outcome.KNOWN: Status.KNOWN, Outcome.NOT_RUN: Status.SKIP}
_DETAILS_LIMIT = 160
#: The traceback shown in the report (its file holds it whole).
_TRACEBACK_LIMIT = 4000


def _badge(outcome: Outcome, text: str | None = None) -> Badge:
    return Badge(OUTCOME_STATUS[outcome], outcome.value if text is None else text)


def _anchor(rule_id: str) -> str:
    return "rule-" + re.sub(r"[^A-Za-z0-9_-]", "-", rule_id)


def _verdict(result: ContractRunResult) -> Verdict:
    status = Status.ERROR if result.faults else Status.PASS if result.holds else Status.FAIL
    detail = (f"{summary_line(result)}; {result.requests} requests in {result.duration_s:.1f}s, seed {result.seed}")
    first = first_finding_after(result)
    return Verdict(status, verdict(result), detail + (f"; first finding {first}" if first else ""))


def _tally(result: ContractRunResult) -> tuple[Span, ...]:
    counts = count_outcomes(result)
    badges = (_badge(outcome, f"{counts[outcome]} {outcome.value}") for outcome in shown_outcomes(result))
    return (f"{len(result.rules)} rules: ", *joined(badges, " · "))


def _fault_banner(fault: HarnessFault, seed: int) -> Banner:
    return Banner(Status.ERROR, (
        Strong(f"Harness error in pass '{fault.stage}'"), " (a bug in coupon-harness, not a finding): ",
        Code(fault.error), "; traceback in ", Link(fault.file_name, fault.file_name, code=True), "; seed ",
        Code(str(seed)), ". The other passes ran; the rules are judged on what ran."))


def _banners(result: ContractRunResult) -> tuple[Banner, ...]:
    banners = [_fault_banner(fault, result.seed) for fault in result.faults]
    if result.interrupted:
        banners.append(Banner(Status.WARN, (Strong("The run was interrupted"),
                                            ": these results cover only what ran before it stopped.")))
    not_run = count_outcomes(result)[Outcome.NOT_RUN]
    if not_run:
        banners.append(Banner(Status.SKIP, (Strong(f"{plural(not_run, 'rule')} not run"),
                                            " and not counted as passed: see ", Link("Not run", "#not-run"), ".")))
    return tuple(banners)


def _figures(result: ContractRunResult) -> tuple[Figure, ...]:
    figures = [Figure("Target", (Code(result.target),)), Figure("Seed", (Code(str(result.seed)),)),
               Figure("Duration", f"{result.duration_s:.1f} s"), Figure("Requests", str(result.requests)),
               Figure("Started", result.started_at),
               Figure("Replay", (Code(replay_command(result.seed, result.shape)),))]
    if result.workers > 1:  # a serial run's report stays as it was
        figures.insert(4, Figure("Workers", f"{result.workers} (at most {result.concurrency_peak} "
                                            f"request{'' if result.concurrency_peak == 1 else 's'} open at once)"))
    first = first_finding_after(result)
    return (*figures, Figure("First finding", first)) if first else tuple(figures)


def _details(rule_result: RuleResult) -> str:
    if rule_result.outcome is Outcome.NOT_RUN:
        return rule_result.reason or "no reason given"
    if not rule_result.findings:
        return ""
    occurrences = sum(finding.occurrences for finding in rule_result.findings)
    return shorten(f"{plural(len(rule_result.findings), 'finding')}, {plural(occurrences, 'occurrence')}: "
                   f"{first_finding_summary(rule_result)}", _DETAILS_LIMIT)


def _rules_table(result: ContractRunResult) -> Table:
    rows = []
    for rule_result in ordered_rules(result):
        rule = rule_result.rule
        problem = rule_result.outcome in (Outcome.FAILED, Outcome.WARNED, Outcome.KNOWN)
        rows.append(Row(((_badge(rule_result.outcome),),
                         (Link(rule.id, f"#{_anchor(rule.id)}", code=True) if problem else Code(rule.id),),
                         rule.title, rule.severity.value, str(rule_result.checks), _details(rule_result)),
                        OUTCOME_STATUS[rule_result.outcome]))
    return Table((Column("Outcome"), Column("Rule"), Column("Title"), Column("Severity", console=False),
                  Column("Checks", numeric=True), Column("Details", console=False)), tuple(rows))


def _finding(view: FindingView, number: int, total: int) -> FindingBlock:
    finding = view.finding
    status = f" ({finding.baseline.value} in the baseline)" if finding.baseline is not None else ""
    values = [("id", f"{finding.fingerprint}{status}"), *([("probe", finding.probe)] if finding.probe else []),
              ("expected", finding.expected), ("received", finding.received),
              *([("response", view.response)] if view.response else []), ("replay", view.replay)]
    if finding.sequence:
        values.append(("before it", f"{plural(len(finding.sequence), 'earlier request')} (coupon-harness replay "
                                    "sends them first)"))
    request: Block = (CodeBlock(finding.curl, "sh", "curl") if finding.curl
                      else Paragraph("No request recorded for this finding.", muted=True))
    summary = (f"Finding {number}/{total}: ", Code(finding.key), f" · {view.occurrences} · found in ",
               Code(finding.source), f" · seed {view.seed}")
    return FindingBlock(summary, tuple(values), (request,), open=number == 1)


def _rule_section(result: ContractRunResult, rule_result: RuleResult) -> Section:
    rule = rule_result.rule
    views = finding_views(result, rule_result)
    gate = "fails the gate" if rule_result.outcome is Outcome.FAILED else "does not fail the gate"
    blocks: list[Block] = [
        Paragraph((Strong(rule.severity.value), f" ({gate}) · group {rule.group} · {rule_result.checks} checks · "
                   f"{plural(len(views), 'finding')}")),
        Quote(rule.statement),
        *(_finding(view, number, len(views)) for number, view in enumerate(views, start=1)),
    ]
    if not views:
        blocks.append(Paragraph("No finding recorded.", muted=True))
    return Section((Code(rule.id), f": {rule.title}"), tuple(blocks), status=OUTCOME_STATUS[rule_result.outcome],
                   anchor=_anchor(rule.id))


def _baseline_section(groups: BaselineGroups) -> Section:
    updated = " · rewritten from this run (--baseline-update)" if groups.updated else ""
    items: list[Text] = [(f"{group}: ", Code(entry), note) for group, entry, note in baseline_entries(groups)]
    blocks: list[Block] = [
        Paragraph((Code(groups.file), ": ", Strong(f"{len(groups.new)} new"),
                   f" (fail the gate) · {len(groups.known)} known · {len(groups.fixed)} fixed{updated}")),
        *(Banner(Status.WARN, warning) for warning in groups.warnings), *([BulletList(tuple(items))] if items else [])]
    return Section("Baseline", tuple(blocks), anchor="baseline")


def _curls_need(result: ContractRunResult) -> Text | None:
    """What the curls need to run as pasted: the variables they read, and for a run against the sandbox `run`
    started (and stopped), how to serve one at that address again."""
    shape = result.shape
    needs = curl_env_help(shape) or None
    if shape is None or not shape.sandbox_started:
        return needs
    port = urlsplit(shape.base_url).port
    return (f"The sandbox this run started at {shape.base_url} is stopped: ",
            Code(f"coupon-harness serve --port {port}"), " (in another terminal) serves one there again and prints "
            "its demo credentials. " + (needs or ""))
#: A finding's dot on the timeline, by its rule's outcome.
_MARK_COLOURS = {Status.FAIL: "#cf222e", Status.WARN: "#bf8700", Status.KNOWN: "#57606a"}
_MARK_LEGEND = ((Status.FAIL, "failed rule"), (Status.WARN, "warned rule"), (Status.KNOWN, "known (baseline)"))


def _pass_at(result: ContractRunResult, seconds: float, fallback: str) -> str:
    """The pass that was running `seconds` into the run (the source's own name when no span holds it)."""
    for name, began, ended in result.pass_spans:
        if began <= seconds <= ended:
            return name
    return fallback


def _timeline_section(result: ContractRunResult) -> Section | None:
    """When each finding was first seen, in order, with the pass then running; and per pass, its span and how many
    findings it saw first. None when no finding carries its time (a file of an older version)."""
    seen = sorted(((finding.first_seen_s, rule_result, finding) for rule_result in ordered_rules(result)
                   for finding in rule_result.findings if finding.first_seen_s is not None),
                  key=lambda item: item[0])
    if not seen:
        return None
    rows = tuple(Row((f"{at:,.3f}", _pass_at(result, at, finding.first_seen_in or finding.source),
                      (Link(rule_result.rule.id, f"#{_anchor(rule_result.rule.id)}", code=True),),
                      finding.probe or finding.key, finding.first_seen_in or finding.source),
                     OUTCOME_STATUS[rule_result.outcome]) for at, rule_result, finding in seen)
    order = list(dict.fromkeys(rule_result.rule.id for _, rule_result, _ in seen))
    marks = [TimelineMark(at, order.index(rule_result.rule.id), _MARK_COLOURS[OUTCOME_STATUS[rule_result.outcome]],
                          f"{rule_result.rule.id}: {finding.probe or finding.key}, first seen at {at:,.3f} s in "
                          f"{finding.first_seen_in or finding.source}", rule_result.rule.id)
             for at, rule_result, finding in seen]
    chart = timeline_svg("Findings timeline: when each finding was first seen, per pass", result.pass_spans, marks,
                         len(order), legend=[(label, _MARK_COLOURS[status]) for status, label in _MARK_LEGEND
                                             if any(OUTCOME_STATUS[r.outcome] is status for _, r, _ in seen)])
    blocks: list[Block] = [Chart("findings-timeline", chart),
                           Table((Column("first seen (s)", numeric=True), Column("pass"), Column("rule"),
                                  Column("finding"), Column("seen in", console=False)), rows)]
    if result.pass_spans:
        sent = dict(result.passes)
        first = [_pass_at(result, at, "") for at, _, _ in seen]
        blocks.append(Table((Column("pass"), Column("from (s)", numeric=True), Column("to (s)", numeric=True),
                             Column("requests", numeric=True), Column("first seen in it", numeric=True)),
                            tuple(Row((name, f"{began:,.3f}", f"{ended:,.3f}", f"{sent.get(name, 0):,}",
                                       str(first.count(name))))
                                  for name, began, ended in result.pass_spans)))
    return Section("Findings timeline", tuple(blocks), anchor="timeline", console=False)


def _sections(result: ContractRunResult) -> tuple[Section, ...]:
    sections = [Section("Rules", (_rules_table(result),))]
    if (groups := baseline_groups(result)) is not None:
        sections.append(_baseline_section(groups))
    # Failed rules (most severe first), then warned rules, then known ones, as the table lists them.
    problems = [r for r in ordered_rules(result) if r.outcome in (Outcome.FAILED, Outcome.WARNED, Outcome.KNOWN)]
    if problems:
        # The variables the curls below read (the report never holds a credential), said once above them.
        needs = _curls_need(result)
        curls = any(finding.curl for rule in problems for finding in rule.findings)
        sections.append(Section("Violations and warnings", (Paragraph(needs, muted=True),) if needs and curls else (),
                                sections=tuple(_rule_section(result, r) for r in problems)))
    not_run = [r for r in ordered_rules(result) if r.outcome is Outcome.NOT_RUN]
    if not_run:
        sections.append(Section("Not run", (BulletList(tuple(
            (Code(r.rule.id), f" {r.rule.title}: {r.reason or 'no reason given'}") for r in not_run)),),
            anchor="not-run"))
    if (timeline := _timeline_section(result)) is not None:
        sections.append(timeline)
    if result.passes:
        sections.append(Section("Passes", (BulletList(tuple(
            (Code(name), f": {sent} requests") for name, sent in result.passes)),), console=False))
    if result.faults:
        sections.append(Section("Harness errors", tuple(
            Details(f"Traceback of pass '{fault.stage}' ({fault.file_name})",
                    (CodeBlock(shorten(fault.traceback, _TRACEBACK_LIMIT)),))
            for fault in result.faults), console=False))
    return tuple(sections)


def contract_document(result: ContractRunResult) -> Document:
    return Document("contract", _verdict(result), tally=_tally(result), banners=_banners(result),
                    figures=_figures(result), sections=_sections(result), notes=tuple(result.notes),
                    footer="Generated by coupon-harness. Credentials in requests were redacted.")


def write_contract_reports(result: ContractRunResult, report_dir: Path) -> dict[str, Path]:
    """Write the files of a contract run's folder into `report_dir`, the gate's junit.xml first (name -> path)."""
    return write_document_reports(report_dir, contract_document(result), {
        "junit.xml": text_file(partial(render_junit, result)), "summary.json": partial(write_summary_json, result),
        **traceback_files(result.faults)})
