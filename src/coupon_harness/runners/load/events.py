"""What the load process tells the process that started it: typed events, as JSON lines on a pipe of their own.
Standard library only: the parent never imports gevent."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

__all__ = ["Listening", "LoadEvent", "Notice", "Progress", "SetupError", "decode", "encode"]


@dataclass(frozen=True, slots=True)
class Progress:
    elapsed_s: float
    users: int
    requests: int
    #: Requests that failed so far (Locust's failures are the harness's errors).
    failures: int
    #: Requests per second over the last few seconds (Locust's current rate).
    rps: float
    #: Latency percentile of the last few seconds, rounded as Locust rounds; None before an answer.
    p95_ms: float | None
    #: Coupons issued so far (the aggregate's count: a worker's last half second may not be in yet).
    coupons: int = 0
    #: Seconds left of the run time (`-t`).
    remaining_s: float | None = None
    #: The run time (`-t`), seconds.
    run_time_s: float | None = None
    kind: Literal["progress"] = "progress"

    def text(self) -> str:
        p95 = f", p95 {self.p95_ms:g} ms" if self.p95_ms is not None else ""
        share = f" ({self.failures / self.requests:.1%})" if self.requests else ""
        return (f"{self.elapsed_s:.0f}s: {self.users} users, {self.requests} requests ({self.rps:.0f} req/s{p95}), "
                f"{self.failures} errors{share}")


@dataclass(frozen=True, slots=True)
class Notice:
    message: str
    kind: Literal["notice"] = "notice"

    def text(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class SetupError:
    """The run could not start as configured (a refused host, workers that never came): exit 2."""

    message: str
    kind: Literal["setup-error"] = "setup-error"


@dataclass(frozen=True, slots=True)
class Listening:
    """A master listens for its workers on this port (the free one it bound for 0): start local workers now."""

    port: int
    kind: Literal["listening"] = "listening"


LoadEvent = Progress | Notice | SetupError | Listening
_TYPES: dict[str, type[Progress] | type[Notice] | type[SetupError] | type[Listening]] = {
    "progress": Progress, "notice": Notice, "setup-error": SetupError, "listening": Listening}


def encode(event: LoadEvent) -> str:
    return json.dumps(asdict(event), separators=(",", ":"))


def decode(line: str) -> LoadEvent | None:
    """None for a line that is no event (the channel carries nothing else, but a reader must not crash)."""
    try:
        raw = json.loads(line)
        kind = _TYPES[raw.pop("kind")]
        return kind(**raw)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
