"""`coupon-harness export-tests REPORT_DIR -o FILE`: a contract report's findings as a pytest file.

One test per finding, its requests written out as data a person can read and edit; each asks the plugin's
`harness_replay` fixture to send them to the target given to pytest and fails naming the rule while the finding
still shows. Nothing in the file is a credential.
"""

from __future__ import annotations

import argparse
import pprint
import re
import sys
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from coupon_harness.cli.exit_codes import EXIT_OK
from coupon_harness.cli.option_table import add_command
from coupon_harness.cli.replay_cmd import findings_of, read_report
from coupon_harness.errors import ConfigError
from coupon_harness.results.contract import BODY_RULES, ContractRunResult, Finding

__all__ = ["register", "render_tests"]


def register(commands: Any) -> None:
    parser = add_command(
        commands, "export-tests", _handle, help="write a contract report's findings as pytest regression tests",
        description="Write one pytest test per finding of a contract report: each replays the finding's request "
        "through the coupon-harness pytest plugin against the target given to pytest (--harness-base-url and "
        "credentials) and asserts its rule holds. Exit 0: written; 2: the report cannot be read or the file "
        "cannot be written.")
    parser.add_argument("report", metavar="REPORT_DIR", help="a contract report folder (or its summary.json)")
    parser.add_argument("-o", "--output", metavar="FILE", required=True,
                        help="the test file to write, e.g. tests/regressions/test_contract_findings.py")
    parser.add_argument("--finding", metavar="ID", action="append", default=None,
                        help="only this finding (its id; repeatable)")
    parser.add_argument("--overwrite", action="store_true", help="replace FILE when it exists")


def _name(finding: Finding, taken: set[str]) -> str:
    probe = finding.probe_class if finding.rule_id not in BODY_RULES else None  # as the fingerprint counts it
    words = [finding.rule_id, finding.key, *([probe] if probe else [])]
    base = "test_" + re.sub(r"[^0-9a-zA-Z]+", "_", "__".join(words)).strip("_").lower()[:90]
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    taken.add(name)
    return name


def _literal(value: Any, indent: int) -> str:
    text = pprint.pformat(value, width=110 - indent, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


def _case(finding: Finding) -> dict[str, Any]:
    from coupon_harness.reporting.contract.summary_json import finding_dict

    data = finding_dict(finding, finding.seed or 0)
    keep = ("id", "rule_id", "key", "probe", "probe_class", "expected", "received", "sequence", "request", "judged",
            "sequence_judged")
    case = {key: data[key] for key in keep}
    for request in [*case["sequence"], case["request"]]:
        if request is not None:  # the path and query only: the test goes to the target given to pytest
            parts = urlsplit(request["url"])
            request["url"] = parts.path + (f"?{parts.query}" if parts.query else "")
    return case


def render_tests(result: ContractRunResult, findings: list[Finding], source: str) -> str:
    """The test file's text."""
    shape = result.shape
    known = {"series_ids": list(shape.series_ids), "invalid_series_ids": list(shape.invalid_series_ids),
             "generic_series_ids": list(shape.generic_series_ids)} if shape is not None else {}
    text = f'''"""Regression tests of the findings of a coupon-harness contract run ({result.started_at}, seed \
{result.seed}, against {result.target}).

Written by `coupon-harness export-tests {source}`. Each test sends the finding's request (after the
requests a cross-request rule needs) to the target given to pytest and asserts the rule holds:

    pytest THIS_FILE --harness-base-url URL --harness-user "$COUPON_HARNESS_USER"

It fails, naming the rule, while the target still answers as it did; the series the run knew are below
(KNOWN_SERIES; --harness-series-ids and --harness-invalid-series-ids override them).
"""

from __future__ import annotations

from typing import Any

KNOWN_SERIES: dict[str, list[int]] = {_literal(known, 39)}
'''
    taken: set[str] = set()
    for finding in findings:
        where = f"probe '{finding.probe_class}'" if finding.probe_class else finding.source
        expected = " ".join(finding.expected.split())[:200]
        received = " ".join(finding.received.split())[:200]
        doc = (f"{finding.rule_id} ({finding.key}), {where}.\n\nExpected {expected}; received {received}.")
        doc = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        wrapped = "\n".join(textwrap.fill(part, 108, initial_indent="    ", subsequent_indent="    ") if part
                            else "" for part in doc.split("\n"))
        text += (f'\n\ndef {_name(finding, taken)}(harness_replay: Any) -> None:\n    """{wrapped.strip()}\n    """\n'
                 f"    harness_replay({_literal(_case(finding), 19)}, KNOWN_SERIES)\n")
    return text


def _handle(args: argparse.Namespace) -> int:
    result, source = read_report(args.report)
    findings = findings_of(result, args.finding, source)
    output = Path(args.output)
    if output.exists() and not output.is_file():  # writing to a pipe would wait for a reader forever
        raise ConfigError(f"-o {output} is not a regular file (a folder, a device or a pipe): give a file name")
    if output.exists() and not args.overwrite:
        raise ConfigError(f"{output} exists: pass --overwrite to replace it")
    text = render_tests(result, findings, str(args.report))
    compile(text, str(output), "exec")  # a harness bug, never a broken file, if this fails
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {output} ({exc.strerror or type(exc).__name__}): choose another -o FILE") \
            from None
    print(f"coupon-harness export-tests: {len(findings)} test(s) in {output}", file=sys.stderr)
    return EXIT_OK
