"""Runs every pass of a contract run against one target and returns the typed result."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from coupon_harness.contract.ledger import Ledger
from coupon_harness.errors import TargetUnreachable
from coupon_harness.results import ContractRunResult
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.collector import Collector
from coupon_harness.runners.contract.exchange import REFUSED, UNRESOLVED
from coupon_harness.runners.contract.judge import Judge
from coupon_harness.runners.contract.probes import run_auth_probes, run_malformed_probes
from coupon_harness.runners.contract.property_pass import PropertyInterrupted, run_property_pass
from coupon_harness.runners.contract.scenarios import run_scenarios
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.transport.auth import AuthError, Redactor, TokenSource, auth_headers

__all__ = ["PASSES", "run_contract"]

PASSES = ("property-positive", "property-negative", "scenarios", "auth", "malformed")


def run_contract(settings: ContractSettings, progress: Callable[[str], None] = lambda _: None) -> ContractRunResult:
    """Raises TargetUnreachable when the target cannot be tested at all; everything else is a finding."""
    credentials = settings.credentials
    tokens = None
    if credentials.oauth_key is not None and not credentials.token:
        tokens = TokenSource(settings.base_url, credentials.oauth_key, credentials.oauth_secret or "",
                             settings.request_timeout)
    redactor = Redactor(credentials, tokens)

    def headers() -> dict[str, str]:
        return auth_headers(credentials, tokens)

    collector = Collector(settings.seed, settings.max_transport_failures)
    judge = Judge(collector, settings.expectations, Ledger(settings.expectations), redactor)
    client = Client(settings, judge, headers)
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    passes: list[tuple[str, int]] = []
    notes: list[str] = []
    interrupted = False
    try:
        try:
            _preflight(client)
        except AuthError as exc:
            raise TargetUnreachable(redactor.text(str(exc))) from None
        for name in settings.passes:
            if collector.stopped:
                notes.append(f"stopped early: {collector.stopped}; passes after it did not run")
                break
            before = collector.requests
            progress(f"{name}: started")
            if name.startswith("property-"):
                run_property_pass(settings, judge, name.removeprefix("property-"), headers=headers,
                                  progress=progress)
            elif name == "scenarios":
                run_scenarios(client, progress)
            elif name == "auth":
                run_auth_probes(client, progress)
            elif name == "malformed":
                run_malformed_probes(client, progress)
            passes.append((name, collector.requests - before))
    except (KeyboardInterrupt, PropertyInterrupted):
        interrupted = True
        notes.append("interrupted: the results cover only what ran before Ctrl-C")
    except AuthError as exc:
        notes.append(f"stopped: {redactor.text(str(exc))}")
    finally:
        client.close()
    if not settings.expectations.valid_series:
        notes.append("no --series-ids given: rules that need series that issue coupons were not run")
    return ContractRunResult(
        target=redactor.text(settings.base_url),
        started_at=started_at,
        duration_s=round(time.monotonic() - started, 3),
        seed=settings.seed,
        requests=collector.requests,
        rules=collector.rule_results(settings.expectations, customer_pool=bool(settings.customer_ids)),
        interrupted=interrupted,
        passes=passes,
        notes=notes + collector.notes,
    )


def _preflight(client: Client) -> None:
    """One well-formed request: is there a server, and does it take the credentials?"""
    series = sorted(client.judge.expectations.valid_series)[:1] or [1]
    pool = client.settings.customer_ids
    customer = pool[0] if pool else client.fresh_customer()
    exchange = client.issue(series, customer, not pool, source="preflight")
    if exchange.error == "connection" and exchange.error_detail in (REFUSED, UNRESOLVED):
        raise TargetUnreachable(
            f"cannot reach {client.judge.redactor.text(client.url)} ({exchange.error_detail}): "
            "is the server running? check --base-url")
    if exchange.status == 401:
        if client.settings.credentials.any:
            raise TargetUnreachable("the target refused the configured credentials (401): check --user/--password, "
                                    "--md5-password, --token or --oauth-key/--oauth-secret")
        raise TargetUnreachable("the target asks for credentials (401): pass --user USER:PASSWORD, --token "
                                "or --oauth-key/--oauth-secret (or COUPON_HARNESS_* environment variables)")
