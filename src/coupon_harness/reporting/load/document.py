"""A load run's report as one `Document` for the shared renderers, and every file of its folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

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
    Paragraph,
    Row,
    Section,
    Status,
    Strong,
    Table,
    Text,
    Verdict,
)
from coupon_harness.reporting.load.charts import CHART_POINTS, latency_chart_svg, tails_matter, throughput_chart_svg
from coupon_harness.reporting.load.common import (
    FIGURE_LABELS,
    TimelineRow,
    causes,
    downsample,
    figure_label,
    finite,
    fmt_count,
    fmt_cpu,
    fmt_measured,
    fmt_ms,
    fmt_ratio,
    fmt_threshold,
    generator_warning,
    interval_s,
    load_shape,
    no_sample_text,
    sample_curl,
    slo_label,
    sorted_violations,
    span_label,
    throughput_rps,
    verdict,
)
from coupon_harness.reporting.load.compare import comparison_section, fmt_change, fmt_limit
from coupon_harness.reporting.load.junit import render_load_junit
from coupon_harness.reporting.load.rerun import rerun_command
from coupon_harness.reporting.load.summary_json import write_load_summary_json
from coupon_harness.reporting.render.console import render_console, verdict_line
from coupon_harness.reporting.text import plural, shorten
from coupon_harness.reporting.writer import FileWriter, text_file, write_document_reports
from coupon_harness.results.load import LoadRunResult, SampleData, StepFigures

__all__ = ["TIMELINE_ROWS", "load_document", "load_verdict_line", "redact_load_result", "render_load_table",
           "sparkline", "write_load_reports"]

#: At most this many rows in the timeline table; longer runs merge consecutive intervals.
TIMELINE_ROWS = 20
_SPARK_WIDTH = 60
_SPARKS = "▁▂▃▄▅▆▇█"
_EXAMPLE_LIMIT = 600
_CURL_LIMIT = 4000
#: The latency figures the reports show, in this order (LATENCY_KEYS without min and mean first).
LATENCY_ROWS = ("p50", "p90", "p95", "p99", "p99.9", "max", "min", "mean")


def sparkline(values: list[float]) -> str:
    """Block characters scaled to the largest value ('▁' for 0)."""
    top = max(values, default=0.0)
    if top <= 0:
        return _SPARKS[0] * len(values)
    return "".join(_SPARKS[min(len(_SPARKS) - 1, round(value / top * (len(_SPARKS) - 1)))] for value in values)


def _passes(ok: bool) -> Status:
    return Status.PASS if ok else Status.FAIL


def _verdict(result: LoadRunResult) -> Verdict:
    """The headline: the causes of a failure, a regression with its changes and limits first."""
    text = verdict(result)
    if result.regressed and result.comparison is not None:
        regressions = "; ".join(f"{row.key} {fmt_change(row, row.change)} beyond {fmt_limit(row.limit)}"
                                for row in result.comparison.regressions if row.limit is not None)
        others = [cause for cause in causes(result) if not cause.startswith("regression against the earlier run")]
        text = f"regression against the earlier run ({regressions})" + "".join(f"; {cause}" for cause in others)
        if result.interrupted:
            text += " (interrupted: partial results)"
    return Verdict(_passes(result.holds and not result.regressed), text)


def _banners(result: LoadRunResult) -> tuple[Banner, ...]:
    banners = []
    if (warning := generator_warning(result)) is not None:
        banners.append(Banner(Status.WARN, (Strong(warning),)))
    if result.interrupted:
        banners.append(Banner(Status.WARN, (Strong("The run was interrupted"),
                                            ": these figures cover only what ran before it stopped.")))
    if result.stopped_reason:
        banners.append(Banner(Status.STOP, (Strong("Stopped before its time:"), f" {result.stopped_reason}")))
    coupons, warn = _coupons_line(result)
    if warn:
        banners.append(Banner(Status.WARN, coupons))
    return tuple(banners)


def _coupons_line(result: LoadRunResult) -> tuple[str, bool]:
    """The coupons sentence, and whether it is a warning (coupons issued but no coupons.csv to revoke them)."""
    issued = f"{fmt_count(result.coupons_issued)} {'coupon' if result.coupons_issued == 1 else 'coupons'}"
    csv = result.files.get("coupons.csv")
    if csv:
        return f"{issued} issued; every code is listed in {csv} (for revocation)", False
    if result.coupons_issued:
        return f"{issued} issued, but no coupons.csv was written: the codes cannot be revoked from it", True
    return f"{issued} issued", False


def _tally(result: LoadRunResult) -> Text:
    return ("target ", Code(result.target), f" · started {result.started_at} · {result.duration_s:.1f} s")


def _counted(count: int) -> Text:
    """A count that fails the gate unless it is 0, with its mark."""
    return (Badge(_passes(not count), fmt_count(count)),)


def _key_figures(result: LoadRunResult) -> Section:
    latency = result.latency_ms
    coupons, warn = _coupons_line(result)
    cpu = f"max {fmt_cpu(result.generator_cpu_max)}, mean {fmt_cpu(result.generator_cpu_mean)}"
    rows: list[tuple[str, Text, Status | None]] = [
        ("Requests", f"{fmt_count(result.requests)} in {result.duration_s:.1f} s ({throughput_rps(result):,.1f} "
                     f"req/s; {load_shape(result)})", None),
        ("Latency p50 / p95 / p99", " / ".join(fmt_ms(latency.get(key)) for key in ("p50", "p95", "p99")), None),
        (FIGURE_LABELS["error-rate"], fmt_ratio(result.error_rate), None),
        ("Contract violations", _counted(result.violations), _passes(not result.violations)),
        ("Duplicate coupon codes", _counted(result.duplicate_codes), _passes(not result.duplicate_codes)),
        (FIGURE_LABELS["failure-ratio"], f"{fmt_ratio(result.failure_ratio)}: {fmt_count(result.unexpected_failures)} "
                                         f"unexpected; {fmt_count(result.expected_failures)} expected (invalid series)",
         None),
        (FIGURE_LABELS["failure-count-ratio"], f"{fmt_ratio(result.failure_count_ratio)}: "
                                               f"{fmt_count(result.entity_failures)} of {fmt_count(result.entities)} "
                                               "entities", None),
        ("Coupons issued", coupons + (f"; {fmt_count(result.duplicate_codes)} duplicate codes"
                                      if result.duplicate_codes else ""), Status.WARN if warn else None),
        ("Generator CPU", cpu + (" (saturated)" if result.generator_saturated else ""),
         Status.WARN if result.generator_saturated else None),
    ]
    table = Table((Column("Figure"), Column("Value")),
                  tuple(Row((name, value), status) for name, value, status in rows))
    return Section("Key figures", (table,))


def _slos(result: LoadRunResult) -> Section:
    if not result.slos:
        return Section("SLOs", (Paragraph(("No SLO set (", Code("--slo"), "): only the contract gates this run."),
                                          muted=True),))
    rows = tuple(Row(((Code(slo_label(slo)),), figure_label(slo.key), fmt_threshold(slo), fmt_measured(slo),
                      (Badge(_passes(slo.passed), "pass" if slo.passed else "FAIL"),)), _passes(slo.passed))
                 for slo in result.slos)
    table = Table((Column("SLO"), Column("Figure"), Column("Threshold", numeric=True),
                   Column("Measured", numeric=True), Column("Result")), rows)
    return Section("SLOs", (table,))


def _latency(result: LoadRunResult) -> Section:
    if not result.latency_ms:
        return Section("Latency (HDR histogram)", (Paragraph("No request completed: no latency to show.", muted=True),))
    keys = [key for key in LATENCY_ROWS if key in result.latency_ms]
    keys += sorted(key for key in result.latency_ms if key not in LATENCY_ROWS)
    table = Table(tuple(Column(key, numeric=True) for key in keys),
                  (Row(tuple(fmt_ms(result.latency_ms[key]) for key in keys)),))
    return Section("Latency (HDR histogram)", (table,))


def _step_load(step: StepFigures) -> str:
    """A step's load: '20 users', '20 users, 400 req/s' (open model)."""
    parts = [] if step.users is None else [plural(step.users, "user")]
    if step.rate is not None:
        parts.append(f"{step.rate:,.4g} req/s")
    return ", ".join(parts) or "—"


def _steps(result: LoadRunResult) -> Section:
    rows = tuple(Row((str(step.index + 1), _step_load(step), f"{step.start_s:g}-{step.end_s:g}",
                      fmt_count(step.requests), f"{step.rps:,.1f}", _errors(step.errors), fmt_ratio(step.error_rate),
                      fmt_ms(step.p50_ms), fmt_ms(step.p95_ms), fmt_ms(step.p99_ms)),
                     Status.FAIL if step.errors else None) for step in result.steps)
    columns = (Column("Step", numeric=True), Column("Load"),
               *(Column(name, numeric=True) for name in ("t (s)", "Requests", "req/s", "Errors", "Error rate", "p50",
                                                          "p95", "p99")))
    return Section(f"Steps ({result.shape})", (Table(columns, rows),))


def _errors(count: int) -> Text:
    """A count of errors, strong when there are any."""
    return (Strong(fmt_count(count)),) if count else "0"


def _timeline_table(rows: list[TimelineRow]) -> Table:
    columns = tuple(Column(name, numeric=True) for name in ("t (s)", "Requests", "req/s", "Errors", "p50", "p95",
                                                            "p99"))
    return Table(columns, tuple(Row((span_label(row), fmt_count(row.requests), f"{finite(row.rps) or 0.0:,.1f}",
                                     _errors(row.errors), fmt_ms(row.p50_ms), fmt_ms(row.p95_ms),
                                     fmt_ms(row.p99_ms)), Status.FAIL if row.errors else None) for row in rows))


def _timeline(result: LoadRunResult) -> Section:
    latency, throughput = latency_chart_svg(result), throughput_chart_svg(result)
    if latency is None or throughput is None:
        return Section("Timeline", (Paragraph("No timeline recorded.", muted=True),), console=False)
    sparks = downsample(result.timeline, _SPARK_WIDTH)
    p95 = sparkline([finite(row.p95_ms) or 0.0 for row in sparks])
    blocks: list[Block] = [
        Paragraph((Strong("Latency percentiles over time"),)),
        Chart("latency-scale", latency, latency_chart_svg(result, log=True) or "", log_first=tails_matter(result),
              text=f"p95 {p95}"),
        Paragraph((Strong("Throughput over time"),)),
        Chart("throughput", throughput, text=f"requests/s {sparkline([row.rps for row in sparks])}")]
    rows = downsample(result.timeline, TIMELINE_ROWS)
    if len(rows) < len(result.timeline):
        blocks += [Paragraph(f"{len(result.timeline)} intervals of {interval_s(result.timeline):g} s, merged "
                             f"{rows[0].intervals} to a row: counts summed, req/s averaged, latencies of the worst "
                             "interval.", muted=True), _timeline_table(rows)]
        full = downsample(result.timeline, CHART_POINTS)  # bounded: a long soak keeps the page small
        what = (f"All {len(result.timeline)} intervals" if len(full) == len(result.timeline)
                else f"{len(full)} rows of {full[0].intervals} intervals (all {len(result.timeline)})")
        blocks.append(Details(what, (_timeline_table(full),), html_only=True))
    else:
        blocks.append(_timeline_table(rows))
    return Section("Timeline", tuple(blocks), console=False)


def _status_order(item: tuple[str, int]) -> tuple[bool, int, str]:
    """HTTP statuses in numeric order, then the others ("transport") by name."""
    status = item[0]
    return not status.isdigit(), int(status) if status.isdigit() else 0, status


def _statuses(result: LoadRunResult) -> Section:
    if not result.status_counts:
        return Section("HTTP status", (Paragraph("No answer recorded.", muted=True),))
    rows = tuple(Row(((Code(status),), fmt_count(count),
                      f"{count / result.requests * 100:.3g}%" if result.requests else "—"), _passes(status == "200"))
                 for status, count in sorted(result.status_counts.items(), key=_status_order))
    return Section("HTTP status", (Table((Column("Status"), Column("Requests", numeric=True),
                                          Column("Share", numeric=True)), rows),))


def _violations(result: LoadRunResult) -> Section:
    title = f"Contract violations ({fmt_count(result.violations)})"
    if not result.violation_counts:
        return Section(title, (Paragraph("No contract violation under load."),), status=Status.PASS)
    findings: list[Block] = []
    for rule, count in sorted_violations(result):
        example = result.violation_examples.get(rule)
        curl = sample_curl(result, rule)
        sample: Block = (CodeBlock(shorten(curl, _CURL_LIMIT), "sh", label="sample request (curl, redacted, as sent)")
                         if curl is not None else Paragraph(f"sample request: {no_sample_text(rule)}", muted=True))
        findings.append(FindingBlock((Code(rule), f": {fmt_count(count)} responses"),
                                (("example", shorten(example, _EXAMPLE_LIMIT)),) if example else (),
                                (sample,), open=True))
    return Section(title, tuple(findings), status=Status.FAIL)


def _codes(result: LoadRunResult) -> Section:
    if not result.entity_error_codes:
        return Section("Entity error codes", (Paragraph("No entity error code.", muted=True),), console=False)
    codes = sorted(result.entity_error_codes.items(), key=lambda item: (-item[1], item[0]))  # most frequent first
    rows = tuple(Row(((Code(code),), fmt_count(count))) for code, count in codes)
    return Section("Entity error codes", (Table((Column("Code"), Column("Entities", numeric=True)), rows),))


def _files(result: LoadRunResult) -> Section:
    return Section("Files", (BulletList(tuple((Code(name), ": ", Code(path)) for name, path in result.files.items())),),
                   console=False)


def load_document(result: LoadRunResult) -> Document:
    sections = [
        _key_figures(result),
        *([comparison_section(result.comparison)] if result.comparison is not None else []),
        _slos(result), _latency(result),
        *([_steps(result)] if len(result.steps) > 1 else []),  # ramp, spike: not one step (steady, soak)
        _timeline(result), _statuses(result), _violations(result), _codes(result),
        *([_files(result)] if result.files else []),
    ]
    rerun = rerun_command(result)
    return Document("load", _verdict(result), tally=_tally(result), banners=_banners(result),
                    figures=(Figure("Rerun", (Code(rerun),)),) if rerun else (),
                    sections=tuple(sections), notes=tuple(result.notes))


def render_load_table(result: LoadRunResult, *, color: bool, width: int = 120) -> str:
    """What the terminal shows at the end of a load run; its last line is `PASS: ...` or `FAIL: ...`."""
    return render_console(load_document(result), color=color, width=width)


def load_verdict_line(result: LoadRunResult) -> str:
    """The last line of `render_load_table`, without colour: `PASS: ...` or `FAIL: <why>`."""
    return verdict_line(load_document(result))


def write_load_reports(result: LoadRunResult, report_dir: Path, *, junit: bool = True) -> dict[str, Path]:
    """Write every file of the load report into `report_dir`, the gate files first. `junit=False` leaves junit.xml
    out: a capacity search's steps break SLOs on purpose, and CI must not count those as failed tests."""
    files: dict[str, FileWriter] = {"summary.json": lambda path: write_load_summary_json(result, path)}
    if junit:
        files["junit.xml"] = text_file(lambda: render_load_junit(result))
    return write_document_reports(report_dir, load_document(result), files)


def redact_load_result(result: LoadRunResult, redact: Callable[[str], str]) -> LoadRunResult:
    """The result with `redact` applied to every text that came from the load process: a second line of defence
    for what it should have redacted itself."""
    def keys(counts: dict[str, int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for key, count in counts.items():
            out[redact(key)] = out.get(redact(key), 0) + count
        return out

    return replace(
        result, target=redact(result.target), started_at=redact(result.started_at), shape=redact(result.shape),
        status_counts=keys(result.status_counts), violation_counts=keys(result.violation_counts),
        violation_examples={redact(rule): redact(example) for rule, example in result.violation_examples.items()},
        violation_samples={redact(rule): SampleData(method=redact(sample["method"]), url=redact(sample["url"]),
                                                    headers=[[redact(name), redact(value)]
                                                             for name, value in sample["headers"]],
                                                    body=None if sample["body"] is None else redact(sample["body"]))
                           for rule, sample in result.violation_samples.items()},
        entity_error_codes=keys(result.entity_error_codes),
        stopped_reason=redact(result.stopped_reason) if result.stopped_reason is not None else None,
        notes=[redact(note) for note in result.notes],
        files={name: redact(path) for name, path in result.files.items()},
        harness_errors=[redact(error) for error in result.harness_errors])
