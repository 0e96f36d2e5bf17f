"""`coupon-harness replay REPORT_DIR`: send each finding of a contract report again: "still failing" or "fixed".

The report's summary.json keeps each finding's smallest reproducer, how it was judged and what the run knew of
the target, never a credential: the target and credentials come from the options, as for `contract`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from coupon_harness.cli.console import is_quiet, say
from coupon_harness.cli.exit_codes import EXIT_HARNESS_ERROR, EXIT_OK, EXIT_VIOLATIONS
from coupon_harness.cli.option_table import (
    CONTRACT,
    Resolved,
    add_command,
    add_options,
    options_of,
    resolve,
    sources_from_namespace,
)
from coupon_harness.contract.expectations import Expectations
from coupon_harness.errors import ConfigError
from coupon_harness.input_files import UnreadableFile
from coupon_harness.results.contract import ContractRunResult, Finding, RunShape

__all__ = ["REPLAY_OPTIONS", "findings_of", "read_report", "register", "replay_settings"]

#: The options of `contract` that say where the target is and who we are (the rest of a run is the report's).
REPLAY_OPTIONS = ("base-url", "config", "target", "user", "password", "md5-password", "oauth-key", "oauth-secret",
                  "token", "header", "request-timeout", "allow-production", "no-color", "report-dir", "overwrite")
_CREDENTIAL_FLAGS = {"basic": "--user USER:PASSWORD (or COUPON_HARNESS_USER)",
                     "basic-md5": "--user USER:PASSWORD --md5-password (or COUPON_HARNESS_USER)",
                     "token": "--token TOKEN (or COUPON_HARNESS_TOKEN)",
                     "oauth": "--oauth-key KEY --oauth-secret SECRET (or COUPON_HARNESS_OAUTH_KEY/_SECRET)"}


def register(commands: Any) -> None:
    parser = add_command(
        commands, "replay", _handle, help="send each finding of a contract report again: still failing, or fixed",
        description="Re-send each finding's smallest reproducer kept in a contract report's summary.json (with the "
        "requests a cross-request rule needs before it) and judge the answer by the same rules. Credentials are "
        "never stored: give them as for `contract`. The coupons the replayed requests issue are listed in "
        "coupons.csv of --report-dir (default reports/replay-<time>-<random>/). Exit 0: every finding is fixed; 1: "
        "one still fails; 2: the harness could not run or could not replay a finding.")
    parser.add_argument("report", metavar="REPORT_DIR", help="a contract report folder (or its summary.json; a "
                        "`run` folder's contract/ is found too)")
    parser.add_argument("--finding", metavar="ID", action="append", default=None,
                        help="only this finding (its id, the fingerprint every report shows; repeatable)")
    add_options(parser, CONTRACT, exclude=[o.name for o in options_of(CONTRACT) if o.name not in REPLAY_OPTIONS])


def read_report(given: str | Path) -> tuple[ContractRunResult, Path]:
    """The contract run of a report folder (or summary.json); ConfigError naming the fix on anything else."""
    from coupon_harness.reporting.stored import read_stored

    path = Path(given)
    candidates = [path] if path.suffix == ".json" else [path / "summary.json", path / "contract" / "summary.json"]
    for candidate in candidates:
        if candidate.exists():  # a device or a pipe named summary.json is refused by name, not skipped
            try:
                return read_stored(candidate, ContractRunResult), candidate
            except UnreadableFile as exc:
                raise ConfigError(f"{exc}: give a contract report folder (reports/contract-...)") from None
            except ValueError as exc:  # one line: not JSON, a setup error's, an older version, another kind
                raise ConfigError(str(exc)) from None
    raise ConfigError(f"{given}: no summary.json there; give a contract report folder (reports/contract-...)")


def findings_of(result: ContractRunResult, wanted: list[str] | None, source: Path) -> list[Finding]:
    """Every finding of the report, one per id (a body rule's finding drawn by several probes is one finding,
    replayed by its first reproducer), or those whose id is (or starts with) one of `wanted`."""
    findings = list({finding.fingerprint: finding for rule in reversed(result.rules)
                     for finding in reversed(rule.findings)}.values())[::-1]
    if not wanted:
        if not findings:
            raise ConfigError(f"{source}: the report has no finding to replay")
        return findings
    chosen: list[Finding] = []
    for text in wanted:
        matches = [f for f in findings if f.fingerprint.startswith(text.strip().lower())] if text.strip() else []
        if len(matches) != 1:
            known = ", ".join(f"{f.fingerprint} ({f.rule_id})" for f in findings) or "none"
            what = "names no finding" if not matches else "names several findings"
            raise ConfigError(f"--finding {text[:20]!r} {what} of {source}; its findings: {known}")
        if matches[0] not in chosen:
            chosen.append(matches[0])
    return chosen


def replay_settings(resolved: Resolved, shape: RunShape | None, source: str) -> Any:
    """The ContractSettings of a replay: the target and credentials given now, the series the run knew."""
    from coupon_harness.cli.sandbox_target import discover_sandbox
    from coupon_harness.cli.settings_builders import contract_settings

    if shape is None:
        raise ConfigError(f"{source} was written by an older coupon-harness (no record of the run): run the "
                          "contract again, then replay its report")
    settings = contract_settings(resolved, base_url=None if resolved.given("base-url") else shape.base_url)
    settings = discover_sandbox(settings)  # a sandbox's own user, when none is given
    if shape.credentials is not None and not settings.credentials.any:
        raise ConfigError(f"the run of {source} used {shape.credentials} credentials, which reports never keep: "
                          f"give {_CREDENTIAL_FLAGS.get(shape.credentials, 'them')}")
    expectations = Expectations(valid_series=frozenset(shape.series_ids),
                                invalid_series=frozenset(shape.invalid_series_ids),
                                generic_series=frozenset(shape.generic_series_ids),
                                clock_skew=timedelta(seconds=shape.clock_skew_s), unique_generic=shape.unique_generic)
    timeout = settings.request_timeout if resolved.given("request-timeout") else shape.request_timeout
    return replace(settings, expectations=expectations, customer_ids=shape.customer_ids, request_timeout=timeout,
                   baseline=None, baseline_update=False)


def _handle(args: argparse.Namespace) -> int:
    from coupon_harness.cli.lifecycle import note_target
    from coupon_harness.cli.report_dir import prepare_report_dir
    from coupon_harness.coupon_log import FILE_NAME
    from coupon_harness.runners.contract.replay import NOT_REPLAYABLE, STILL_FAILING, replay_findings
    from coupon_harness.transport.auth import Redactor

    resolved = resolve(sources_from_namespace(args, CONTRACT), CONTRACT)
    result, source = read_report(args.report)
    findings = findings_of(result, args.finding, source)
    settings = replay_settings(resolved, result.shape, str(source))
    folder = prepare_report_dir(resolved.get("report-dir"), "replay", overwrite=bool(resolved.get("overwrite")))
    note_target(Redactor(settings.credentials).text(settings.base_url))
    settings = replace(settings, coupons_csv=folder / FILE_NAME)  # every coupon the replay causes, listed
    say(f"coupon-harness replay: {len(findings)} finding(s) of {source} against {settings.base_url}")
    verdicts = replay_findings(findings, settings)
    width = max(len(v.state) for v in verdicts)
    for verdict in [] if is_quiet() else verdicts:  # -q: the last line only
        detail = f": {verdict.detail}" if verdict.detail else ""
        print(f"{verdict.state:<{width}}  {verdict.fingerprint}  {verdict.rule_id} ({verdict.key}){detail}")
    still = sum(v.state == STILL_FAILING for v in verdicts)
    unknown = sum(v.state == NOT_REPLAYABLE for v in verdicts)
    print(f"{still} still failing, {len(verdicts) - still - unknown} fixed"
          + (f", {unknown} not replayable" if unknown else "") + f"; coupons issued listed in {settings.coupons_csv}",
          file=sys.stderr)
    return EXIT_VIOLATIONS if still else EXIT_HARNESS_ERROR if unknown else EXIT_OK
