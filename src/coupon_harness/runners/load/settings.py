"""What a load run is told. JSON-serialisable, because every generator process gets a copy."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coupon_harness.errors import ConfigError
from coupon_harness.results.codec import decode, encode
from coupon_harness.results.load import LoadReplay
from coupon_harness.transport.credentials import Credentials
from coupon_harness.transport.redaction import Redactor

__all__ = ["MAX_DURATION_S", "RESULT_FILE", "SETTINGS_ENV", "SHAPES", "LoadSettings", "Slo", "parse_duration",
           "parse_slo"]

#: The load process's settings: in the environment, as they hold the credentials, which never touch the disk.
SETTINGS_ENV = "COUPON_HARNESS_LOAD_SETTINGS"
RESULT_FILE = "result.json"  # what the load process leaves in its output folder for the caller

SHAPES = ("steady", "ramp", "spike", "soak")
#: About how many timeline intervals a run gets (each at least 1 s wide).
TIMELINE_POINTS = 120
#: An open-ended run's first interval width (plain Locust): it doubles whenever the timeline outgrows its cap.
OPEN_ENDED_INTERVAL_S = 1.0
LATENCY_SLO_KEYS = ("p50", "p90", "p95", "p99", "max")
RATIO_SLO_KEYS = ("error-rate", "failure-ratio")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
#: The longest duration any flag takes (a soak run of a week); beyond it a value is a typo.
MAX_DURATION_S = 7 * 24 * 3600.0


def parse_duration(text: str, what: str) -> float:
    """'30s', '1m', '500ms', '2h', or plain seconds; never negative, at most a week."""
    shown = str(text) if len(str(text)) <= 40 else str(text)[:37] + "..."
    match = _DURATION.match(str(text))
    if not match:
        raise ConfigError(f"{what} {shown!r} is not a duration: write e.g. 30s, 2m, 500ms")
    seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if not math.isfinite(seconds) or seconds > MAX_DURATION_S:
        raise ConfigError(f"{what} {shown!r} is too long: at most 7 days (168h)")
    return seconds


@dataclass(frozen=True, slots=True)
class Slo:
    key: str
    #: Milliseconds for latency keys, a ratio (0..1) for error-rate and failure-ratio.
    threshold: float

    @property
    def unit(self) -> str:
        return "ms" if self.key in LATENCY_SLO_KEYS else "ratio"

    def __str__(self) -> str:
        return f"{self.key}<={self.threshold:g}" + ("ms" if self.unit == "ms" else "")


def parse_slo(text: str, what: str = "--slo") -> Slo:
    """'p95=300ms', 'p99=1s', 'error-rate=0.01', 'failure-ratio=2%'; `what` names the flag."""
    key, sep, value = text.partition("=")
    key = key.strip().lower()
    shown = text if len(text) <= 60 else text[:57] + "..."
    if not sep or not value.strip():
        raise ConfigError(f"{what} {shown!r}: write KEY=VALUE, e.g. p95=300ms or error-rate=0.01")
    if key in LATENCY_SLO_KEYS:
        if not re.search(r"(ms|s|m)\s*$", value):
            raise ConfigError(f"{what} {shown!r}: give the unit, e.g. {key}=300ms or {key}=1s")
        threshold = parse_duration(value, f"{what} {key}") * 1000.0
        if threshold <= 0:
            raise ConfigError(f"{what} {shown!r}: {key} must be more than 0, e.g. {key}=300ms")
        return Slo(key, threshold)
    if key in RATIO_SLO_KEYS:
        raw = value.strip()
        try:
            ratio = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
        except ValueError:
            raise ConfigError(f"{what} {shown!r}: {key} takes a ratio like 0.01 or 1%") from None
        if not 0 <= ratio <= 1:  # also refuses nan
            raise ConfigError(f"{what} {shown!r}: {key} must lie between 0 and 1")
        return Slo(key, ratio)
    keys = ", ".join(LATENCY_SLO_KEYS + RATIO_SLO_KEYS)
    raise ConfigError(f"{what} {shown!r}: unknown key {key[:30]!r}; known: {keys}")


@dataclass(frozen=True, slots=True)
class LoadSettings:
    base_url: str
    series_ids: tuple[int, ...]
    invalid_series_ids: tuple[int, ...] = ()
    generic_series_ids: tuple[int, ...] = ()
    #: Share of batch slots filled with an invalid series (0 = never).
    invalid_share: float = 0.0
    #: Batch sizes, drawn uniformly from batch_min..batch_max (capped by the number of series).
    batch_min: int = 1
    batch_max: int = 2
    customer_ids: tuple[str, ...] = ()
    #: The run's one Credentials object (never written to a report or a file).
    credentials: Credentials = field(default_factory=Credentials)
    users: int = 10
    spawn_rate: float = 10.0
    run_time_s: float = 30.0
    wait_s: float = 0.0
    #: Open model: requests per second, latency measured from the intended send time.
    arrival_rate: float | None = None
    shape: str = "steady"
    slos: tuple[Slo, ...] = ()
    workers: int = 0
    max_coupons: int | None = None
    #: A run against a Capillary production host is refused without it (coupon_harness.safety).
    allow_production: bool = False
    #: Seconds for a whole request, connect to the last byte of the body (transport.outbound's deadline).
    request_timeout: float = 10.0
    #: The most of an answer's body a user reads (and holds): past it the answer is a transport failure.
    max_body_bytes: int = 1024 * 1024
    #: Width of one timeline interval; 0 picks one from the run time.
    interval_s: float = 0.0
    #: The run's length is not known when it starts (plain Locust): the timeline coarsens as the run grows.
    open_ended: bool = False
    seed: int | None = None
    #: --abort-on-fail: stop early (in order, with a full report) once the run cannot pass (runners/load/abort.py).
    abort_on_fail: bool = False
    #: With abort_on_fail: the contract violations that stop the run (1: the first, which fails the gate anyway).
    abort_violations: int = 1
    #: With abort_on_fail: seconds of traffic before a projected rule (percentile, ratio) may stop the run.
    abort_grace_s: float = 5.0
    #: --prometheus-port: the aggregating process (local or master) serves live figures there; None: off.
    prometheus_port: int | None = None
    prometheus_host: str = "127.0.0.1"
    #: What coupons.csv names as the sender of this run's coupons ("load", "capacity step 3", "run load stage").
    coupon_source: str = "load"
    #: The preflight's coupons, as coupons.csv rows: counted and checked, and listed unless `carried_listed`.
    carried_coupons: tuple[tuple[Any, ...], ...] = ()
    carried_listed: bool = False
    #: The coupons.csv the run appends to (a capacity search's, for all its steps); None: coupons.csv in its folder.
    coupons_csv: str | None = None

    def coupons_path(self, out: Path) -> Path:
        return Path(self.coupons_csv) if self.coupons_csv else out / "coupons.csv"

    def stop_timeout_s(self) -> float:
        """How long users get to finish the request in flight when the run ends: past its deadline."""
        return self.request_timeout + 1.0

    def timeline_interval(self) -> float:
        """About TIMELINE_POINTS intervals over the run time, at least 1 s; OPEN_ENDED_INTERVAL_S when open-ended."""
        if self.interval_s > 0:
            return self.interval_s
        if self.open_ended:
            return OPEN_ENDED_INTERVAL_S
        return max(1.0, round(self.run_time_s / TIMELINE_POINTS))

    def timeline_cap(self) -> int | None:
        """The most intervals the aggregate keeps before it merges them in pairs; None: the aggregate's default."""
        return 2 * TIMELINE_POINTS if self.open_ended and self.interval_s <= 0 else None

    def replay(self, redactor: Redactor | None = None, **extra: Any) -> LoadReplay:
        """The flags of the run for a report's Rerun line: credentials by kind only, customers redacted."""
        redact = (redactor or Redactor(self.credentials)).text
        return LoadReplay(
            series_ids=tuple(self.series_ids), invalid_series_ids=tuple(self.invalid_series_ids),
            generic_series_ids=tuple(self.generic_series_ids), customer_ids=tuple(map(redact, self.customer_ids)),
            credentials=self.credentials.kind, invalid_share=self.invalid_share, batch_min=self.batch_min,
            batch_max=self.batch_max, workers=self.workers, max_coupons=self.max_coupons,
            allow_production=self.allow_production, **extra, **self.credentials.access())

    def to_json(self) -> str:
        return json.dumps(encode(self))

    @classmethod
    def from_json(cls, text: str) -> LoadSettings:
        """Read back through the results' codec (`results/codec.py`), which types every field by its hint."""
        settings: LoadSettings = decode(cls, json.loads(text), "load settings")
        return settings
