"""Before testing a target, test the configuration against it: a typo is a setup error, not a finding.

A few well-formed requests, read for what they say of the configuration (exit 2 for each but the last):
- no server, 404 on the endpoint (a wrong path prefix), or credentials refused;
- every valid series refused as unknown (707 and its kin): `--series-ids` is wrong (only some: left out, noted);
- every valid series refused with 701/721: the target does not know the customers (`--customer-ids`);
- a configured invalid series that issues a coupon, while a random series nobody configured is refused; when that
  one issues too, the target issues for series that do not exist: a finding (`invalid-series-refused`).
Every preflight exchange is judged afterwards, by the expectations the preflight settled on.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.http_rules import WELL_FORMED
from coupon_harness.contract.invariants import IssueCall
from coupon_harness.contract.ledger import Ledger
from coupon_harness.coupon_log import CouponSink
from coupon_harness.errors import ConfigError, TargetUnreachable
from coupon_harness.log_setup import redact_with
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.collector import Collector
from coupon_harness.runners.contract.encoding import dump_json
from coupon_harness.runners.contract.exchange import REFUSED, UNRESOLVED, Exchange
from coupon_harness.runners.contract.judge import Judge
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.safety import refuse_production
from coupon_harness.transport.auth import AuthError

__all__ = ["CUSTOMER_UNKNOWN_CODES", "SERIES_UNKNOWN_CODES", "Preflight", "judge_preflight", "preflight_target",
           "run_preflight"]

#: Entity error codes that say "no such series" (Capillary: 707 invalid series id, 755 invalid coupon series id).
SERIES_UNKNOWN_CODES = frozenset({707, 755})
#: Entity error codes that say "no such customer" (701 customer not found, 721 invalid customer).
CUSTOMER_UNKNOWN_CODES = frozenset({701, 721})
_SOURCE = "preflight"
_log = logging.getLogger(__name__)


@dataclass(slots=True)
class Preflight:
    """What the preflight settled: the expectations to judge by, and notes for the report."""

    expectations: Expectations
    notes: list[str] = field(default_factory=list)
    #: (exchange, call) pairs still to be judged, in the order sent.
    exchanges: list[tuple[Exchange, IssueCall]] = field(default_factory=list)
    #: What coupons.csv names as the sender of the coupons the preflight issues.
    source: str = _SOURCE


def preflight_target(settings: ContractSettings, coupons: CouponSink | None = None,
                     source: str = _SOURCE) -> Preflight:
    """The preflight alone, for a run that is not a contract run (load, capacity, plain locust), with a client of
    its own; the coupons it issues go to `coupons` under `source`."""
    refuse_production(settings.base_url, allow=settings.allow_production)
    redactor, headers = settings.auth()
    redact_with(settings.credentials, redactor.text)  # log lines too, with the tokens it fetches
    collector = Collector(settings.seed, settings.max_transport_failures, redactor)
    judge = Judge(collector, settings.expectations, Ledger(settings.expectations), redactor, coupons)
    client = Client(settings, judge, headers)
    try:
        result = run_preflight(client, source)
    except AuthError as exc:
        raise TargetUnreachable(redactor.text(str(exc))) from None
    finally:
        client.close()
    first = result.exchanges[0][0] if result.exchanges else None
    if first is not None and first.error is not None:
        # A load against a target that answers no well-formed request would measure nothing but its timeouts.
        timeout = settings.request_timeout
        what = (f"no answer completed within --request-timeout {timeout:g} s" if first.error == "timeout"
                else f"the answer broke off ({redactor.text(first.error_detail or first.error)})")
        raise TargetUnreachable(f"preflight: {what} to a well-formed bulk issue at {redactor.text(client.url)}: check "
                                "the target (and --base-url); nothing was loaded")
    return result


def run_preflight(client: Client, source: str = _SOURCE) -> Preflight:
    """Raises TargetUnreachable (no server, credentials) or ConfigError (the configuration does not fit)."""
    expectations = client.judge.expectations
    result = Preflight(expectations, source=source)
    valid = sorted(expectations.valid_series)
    batch = client.settings.large_batch
    chunks = [valid[start:start + batch] for start in range(0, len(valid), batch)] or [[1]]
    _log.info("sending %d valid series in %d request(s), then %d invalid series", len(valid), len(chunks),
              len(expectations.invalid_series))
    first, call = _issue(client, result, chunks[0])
    _log.debug("first answer: %s%s", first.status, f" ({first.error})" if first.error else "")
    _reachable(client, first)
    if valid:
        answers = _entity_errors(first, call)
        for chunk in chunks[1:]:
            answers.update(_entity_errors(*_issue(client, result, chunk)))
        result.expectations = _settle_valid(client, result, answers)
    if expectations.invalid_series:
        _check_invalid(client, result)
    _log.info("settled: %d valid series, %d invalid series judged, %d note(s)",
              len(result.expectations.valid_series), len(result.expectations.invalid_series), len(result.notes))
    return result


def _issue(client: Client, result: Preflight, series: Sequence[int]) -> tuple[Exchange, IssueCall]:
    customer = client.customer()
    call = IssueCall(list(series), customer, datetime.now(UTC), fresh_customer=not client.settings.customer_ids)
    # Listed now, not when judged: a refusal below ends the run first.
    exchange = client.raw("POST", dump_json({"seriesIds": list(series), "customer": {"id": customer}}),
                          source=result.source)
    result.exchanges.append((exchange, call))
    return exchange, call


def _reachable(client: Client, exchange: Exchange) -> None:
    if exchange.error == "connection" and exchange.error_detail in (REFUSED, UNRESOLVED):
        raise TargetUnreachable(
            f"cannot reach {client.judge.redactor.text(client.url)} ({exchange.error_detail}): "
            "is the server running? check --base-url")
    if exchange.status == 404:
        raise TargetUnreachable(f"the target answers 404 Not Found on {client.judge.redactor.text(client.url)}: "
                                "check --base-url (its path prefix)")
    if exchange.status == 401:
        if client.settings.credentials.any:
            raise TargetUnreachable("the target refused the configured credentials (401): check --user/--password, "
                                    "--md5-password, --token or --oauth-key/--oauth-secret")
        raise TargetUnreachable("the target asks for credentials (401): pass --user USER:PASSWORD, --token "
                                "or --oauth-key/--oauth-secret (or COUPON_HARNESS_* environment variables)")


def _entities(exchange: Exchange, call: IssueCall) -> list[tuple[int, dict[str, Any]]] | None:
    """(series, entity) pairs of a 200 whose body has one entity per requested series; None otherwise
    (a broken answer is the judge's business, not a verdict on the configuration)."""
    entities = exchange.entities()
    if entities is None or len(entities) != len(call.series_ids) or not all(isinstance(e, dict) for e in entities):
        return None
    return list(zip(call.series_ids, entities, strict=True))


def _error_codes(entity: dict[str, Any]) -> list[Any]:
    errors = entity.get("errors")
    if not isinstance(errors, list):
        return []
    return [error.get("code") if isinstance(error, dict) else None for error in errors]


def _entity_errors(exchange: Exchange, call: IssueCall) -> dict[int, list[Any]]:
    """Series -> its entity's error codes ([] when it issued a coupon)."""
    pairs = _entities(exchange, call)
    return {} if pairs is None else {series: _error_codes(entity) for series, entity in pairs}


def _describe(codes: list[Any]) -> str:
    return "entity error " + ",".join(str(code) for code in codes[:3])


def _settle_valid(client: Client, result: Preflight, answers: dict[int, list[Any]]) -> Expectations:
    expectations = result.expectations
    if not answers:
        return expectations
    pool = client.settings.customer_ids
    refused_customer = {s: codes for s, codes in answers.items()
                        if codes and all(code in CUSTOMER_UNKNOWN_CODES for code in codes)}
    if len(refused_customer) == len(answers):
        codes = _describe(next(iter(refused_customer.values())))
        if pool:
            raise ConfigError(f"--customer-ids: the target does not know customer {pool[0]!r} ({codes}): "
                              "give customers that exist on the target")
        raise ConfigError(f"the target refuses made-up customers ({codes}): pass --customer-ids with customers "
                          "that exist on the target")
    unknown = {s: codes for s, codes in answers.items()
               if codes and any(code in SERIES_UNKNOWN_CODES for code in codes)}
    if not unknown:
        return expectations
    named = ", ".join(f"{series} ({_describe(codes)})" for series, codes in sorted(unknown.items()))
    if len(unknown) == len(answers):
        raise ConfigError(f"--series-ids: the target knows none of the configured series: {named}; "
                          "give series that exist and issue coupons on the target")
    result.notes.append(f"--series-ids: the target does not know {named}; they were left out and the other "
                        "series judged")
    _log.info("left out the unknown series %s", named)
    return replace(expectations, valid_series=expectations.valid_series - unknown.keys(),
                   generic_series=expectations.generic_series - unknown.keys())


def _check_invalid(client: Client, result: Preflight) -> None:
    expectations = result.expectations
    invalid = sorted(expectations.invalid_series)[: client.settings.large_batch]
    exchange, call = _issue(client, result, invalid)
    pairs = _entities(exchange, call)
    if pairs is None:
        return
    issued = [series for series, entity in pairs if isinstance(entity.get("result"), dict)
              and not _error_codes(entity)]
    if not issued:
        return
    # Does the target refuse a series nobody configured? If not, it issues for anything: a finding.
    configured = expectations.valid_series | expectations.invalid_series | expectations.generic_series
    rng = random.Random(client.settings.seed)
    control = rng.randrange(1_000_000_000, 2**31 - 1)
    while control in configured:
        control = rng.randrange(1_000_000_000, 2**31 - 1)
    _log.info("invalid series %s issued a coupon: trying the made-up series %d", issued, control)
    probe, probe_call = _issue(client, result, [control])
    answers = _entity_errors(probe, probe_call)
    if answers.get(control):  # refused: the configured series really exist on the target
        named = ", ".join(str(s) for s in issued)
        raise ConfigError(f"--invalid-series-ids: series {named} issued a coupon on the target (it exists "
                          f"there), while the made-up series {control} was refused: give series the target "
                          "must refuse")
    result.notes.append(f"preflight: the made-up series {control} issued a coupon too: the target issues coupons "
                        "for series that do not exist (judged as invalid-series-refused)")
    result.expectations = replace(expectations, invalid_series=expectations.invalid_series | {control})


def judge_preflight(client: Client, result: Preflight) -> None:
    """Judge every preflight exchange by the settled expectations (the judge was retargeted to them)."""
    for exchange, call in result.exchanges:
        client.judge.judge(exchange, WELL_FORMED, call, _SOURCE)
