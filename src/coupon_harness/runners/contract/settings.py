"""What a contract run is told: the target, its credentials, what it knows of the target's series."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from coupon_harness.contract.expectations import Expectations
from coupon_harness.results.passes import PASSES
from coupon_harness.transport.auth import Credentials, Redactor, TokenSource, auth_headers

__all__ = ["PASSES", "ContractSettings", "token_source"]


@dataclass(frozen=True, slots=True)
class ContractSettings:
    base_url: str
    credentials: Credentials = field(default_factory=Credentials)
    expectations: Expectations = field(default_factory=Expectations)
    #: Customers the target knows; empty means fresh made-up ids per test.
    customer_ids: tuple[str, ...] = ()
    max_examples: int = 100
    seed: int = 0
    request_timeout: float = 5.0
    #: Bodies larger than this are not read further (a finding, not a crash).
    max_body_bytes: int = 8 * 1024 * 1024
    #: Consecutive transport failures (timeouts, dropped connections) after which the run stops.
    max_transport_failures: int = 4
    #: Largest batch the scenarios send.
    large_batch: int = 100
    report_dir: Path | None = None
    #: Where every coupon the run makes the target issue is listed as it arrives (coupon_log); None: nowhere.
    coupons_csv: Path | None = None
    #: A run against a Capillary production host is refused without it (coupon_harness.safety).
    allow_production: bool = False
    #: The baseline of known findings (results.baseline); with `baseline_update` the run rewrites it.
    baseline: Path | None = None
    baseline_update: bool = False
    #: Which passes to run (PASSES: all of them).
    passes: tuple[str, ...] = PASSES
    #: The target is the sandbox `coupon-harness run` started and stops: the Replay line starts a new one.
    sandbox_started: bool = False
    #: Rules left out (--rules, --exclude-rules): (rule id, why), reported not run, never passed.
    left_out: tuple[tuple[str, str], ...] = ()
    #: Threads that send a deterministic pass's requests (--workers, `fanout`): at most this many open at once.
    workers: int = 1
    #: At most this many requests a second over the whole run (--max-rps); None: no limit.
    max_rps: float | None = None

    def token_source(self) -> TokenSource | None:
        return token_source(self.base_url, self.credentials, self.request_timeout,
                            allow_production=self.allow_production)

    def auth(self) -> tuple[Redactor, Callable[[], dict[str, str]]]:
        """The run's redactor (it knows the tokens the run fetches) and its credentials' headers, fetched anew."""
        tokens = self.token_source()
        return Redactor(self.credentials, tokens), lambda: auth_headers(self.credentials, tokens)


def token_source(url: str, credentials: Credentials, timeout: float, *, allow_production: bool,
                 url_flag: str = "--base-url") -> TokenSource | None:
    """The OAuth token source of credentials with an OAuth key and no fixed token; None for the others."""
    if credentials.oauth_key is not None and not credentials.token:
        return TokenSource(url, credentials.oauth_key, credentials.oauth_secret or "", timeout,
                           allow_production=allow_production, url_flag=url_flag, headers=credentials.headers,
                           tls=credentials.tls)
    return None
