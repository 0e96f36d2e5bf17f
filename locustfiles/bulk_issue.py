"""Checked bulk-issue load under plain Locust, web UI included:

    locust -f locustfiles/bulk_issue.py --host http://127.0.0.1:8080 \
        --series-ids 101,102 --user sandbox:sandbox [--invalid-series-ids 999999 --invalid-share 0.1] \
        [--slo p95=300ms --slo error-rate=0.01] [--harness-report-dir reports/locust]

Every response is checked against the contract (contracts/), violations count as Locust failures
named by rule id, latencies go into an HDR histogram, and at the end the same report as
`coupon-harness load` is written and the exit code is 1 when an SLO is breached or a rule broken.
Options also come from COUPON_HARNESS_* environment variables (USER, TOKEN, OAUTH_KEY, OAUTH_SECRET).
The same safety as `coupon-harness load`: a Capillary production host is refused before any request
without --allow-production, and off loopback the coupons are capped (--max-coupons, default 10,000).
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from locust import events
from locust.runners import MasterRunner, WorkerRunner

from coupon_harness.config import parse_int_list, parse_user
from coupon_harness.errors import ConfigError
from coupon_harness.runners.load.plugin import install
from coupon_harness.runners.load.settings import LoadSettings, parse_slo
from coupon_harness.runners.load.user import BulkIssueUser
from coupon_harness.safety import refuse_production

__all__ = ["BulkIssueUser"]

_state: dict[str, Any] = {}


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    env = os.environ.get
    parser.add_argument("--series-ids", default=env("COUPON_HARNESS_SERIES_IDS", ""), help="valid series ids")
    parser.add_argument("--invalid-series-ids", default="", help="series the target must refuse")
    parser.add_argument("--invalid-share", type=float, default=0.0)
    parser.add_argument("--batch-size", default="1-2", help="MIN-MAX series per request")
    parser.add_argument("--user", default=env("COUPON_HARNESS_USER", ""), help="USER:PASSWORD for HTTP Basic")
    parser.add_argument("--md5-password", action="store_true")
    parser.add_argument("--token", default=env("COUPON_HARNESS_TOKEN", ""))
    parser.add_argument("--oauth-key", default=env("COUPON_HARNESS_OAUTH_KEY", ""))
    parser.add_argument("--oauth-secret", default=env("COUPON_HARNESS_OAUTH_SECRET", ""))
    parser.add_argument("--slo", action="append", default=[], help="p95=300ms, error-rate=0.01, ...")
    parser.add_argument("--harness-report-dir", default="", help="where the harness report goes")
    parser.add_argument("--max-coupons", type=int, default=None,
                        help="stop after N coupons (default 10,000 against any non-loopback host)")
    parser.add_argument("--allow-production", action="store_true",
                        help="allow a run against a Capillary production host (issues real coupons)")


@events.init.add_listener
def _install(environment: Any, **_kwargs: Any) -> None:
    options = environment.parsed_options
    if options is None:  # library use: the caller installs the plugin itself
        return
    if not options.series_ids.strip():  # without it no user could send: one line, exit 2, no user starts
        _refuse("--series-ids is required: the valid series to issue from, e.g. --series-ids 101,102 "
                "(or COUPON_HARNESS_SERIES_IDS)")
    runner = environment.runner
    role = "worker" if isinstance(runner, WorkerRunner) else "master" if isinstance(runner, MasterRunner) else "local"
    folder = Path(options.harness_report_dir or f"reports/locust-{datetime.now():%Y%m%d-%H%M%S}")
    try:  # every refusal before any user starts: one line, exit 2
        user, password = parse_user(options.user) if options.user else (None, None)
        low, _, high = options.batch_size.partition("-")
        if not (low.strip().isdigit() and (not high or high.strip().isdigit())):
            raise ConfigError(f"--batch-size {options.batch_size[:40]!r}: write MIN-MAX, e.g. 1-2")
        settings = LoadSettings(
            base_url=(environment.host or options.host or "").rstrip("/"),
            series_ids=parse_int_list(options.series_ids, "--series-ids"),
            invalid_series_ids=parse_int_list(options.invalid_series_ids, "--invalid-series-ids"),
            invalid_share=options.invalid_share, batch_min=int(low), batch_max=int(high or low),
            user=user, password=password, md5_password=options.md5_password, token=options.token or None,
            oauth_key=options.oauth_key or None, oauth_secret=options.oauth_secret or None,
            users=options.num_users or 1, run_time_s=float(options.run_time or 0) or 3600.0,
            slos=tuple(parse_slo(s) for s in options.slo), max_coupons=options.max_coupons,
            allow_production=options.allow_production)
        # Before the report folder too; the message names Locust's flag (--host), not the CLI's --base-url.
        refuse_production(settings.base_url, allow=settings.allow_production, url_flag="--host")
        if role != "worker":
            folder.mkdir(parents=True, exist_ok=True)
        state = install(environment, settings, role, folder / "coupons.csv" if role != "worker" else None,
                        expected_workers=max(getattr(options, "expect_workers", 1) or 1, 1))
    except ConfigError as exc:
        _refuse(str(exc))
    _state.update(settings=settings, folder=folder, started=datetime.now(), state=state)


def _refuse(message: str) -> NoReturn:
    sys.stderr.write(f"coupon-harness locustfile: error: {message}\n")
    raise SystemExit(2)


@events.quitting.add_listener
def _report(environment: Any, **_kwargs: Any) -> None:
    state = _state.get("state")
    if state is None or state.role == "worker":
        return
    from coupon_harness.reporting.load_writer import write_load_reports
    from coupon_harness.runners.load.result import build_result

    state.flush()
    elapsed = (datetime.now() - _state["started"]).total_seconds()
    result = build_result(_state["settings"], state, _state["started"].isoformat(timespec="seconds"),
                          elapsed, interrupted=False, workers=0)
    result.files = {"coupons.csv": str(_state["folder"] / "coupons.csv")}  # the codes, for revocation
    write_load_reports(result, _state["folder"])
    if not result.holds:
        environment.process_exit_code = 1
