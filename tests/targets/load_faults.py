"""Targets that are wrong only under load, for the load runner's self-tests.

Each factory returns fresh hooks for the sandbox (`running_sandbox(mutate=..., before=...)`), so every run
starts from a clean state. The sandbox serves from one asyncio loop: "in flight" means a request that
entered the `before` hook and has not yet left `mutate` (or its own sleep), i.e. one that awaits while
others run.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from coupon_harness.sandbox.app import Answer, Before, Mutate

__all__ = ["AttributesDriftUnderLoad", "DuplicatesUnderConcurrency", "SlowUnderConcurrency", "failing_valid_series"]


def _entities(answer: Answer) -> list[dict[str, Any]]:
    if answer.status != 200 or not isinstance(answer.body, dict):
        return []
    entities = answer.body.get("response")
    return entities if isinstance(entities, list) else []


@dataclass
class SlowUnderConcurrency:
    """Each request sleeps `per_request_s` times the number of requests in flight (itself included):
    fast for one user, ever slower as users are added."""

    per_request_s: float = 0.005
    in_flight: int = 0
    peak: int = 0

    async def before(self, request: web.Request) -> web.StreamResponse | None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.per_request_s * self.in_flight)
        finally:
            self.in_flight -= 1
        return None

    def hooks(self) -> dict[str, Any]:
        before: Before = self.before
        return {"before": before}


@dataclass
class DuplicatesUnderConcurrency:
    """When another request is in flight, a coupon is answered with the code last issued for its series
    (to another customer): unique codes under sequential use, duplicates under concurrency."""

    hold_s: float = 0.001
    in_flight: int = 0
    reused: int = 0
    last_code: dict[int, str] = field(default_factory=dict)

    async def before(self, request: web.Request) -> web.StreamResponse | None:
        self.in_flight += 1
        await asyncio.sleep(self.hold_s)  # let other requests in
        return None

    def mutate(self, answer: Answer) -> Answer:
        concurrent = self.in_flight > 1
        self.in_flight -= 1
        for entity in _entities(answer):
            result = entity.get("result")
            if entity.get("errors") or not isinstance(result, dict):
                continue
            series, code = result.get("seriesId"), result.get("code")
            if not isinstance(series, int) or not isinstance(code, str):
                continue
            previous = self.last_code.get(series)
            if concurrent and previous is not None:
                result["code"] = previous
                self.reused += 1
            else:
                self.last_code[series] = code
        return answer

    def hooks(self) -> dict[str, Any]:
        before: Before = self.before
        mutate: Mutate = self.mutate
        return {"before": before, "mutate": mutate}


@dataclass
class AttributesDriftUnderLoad:
    """After `after` coupons of `series`, that series answers another discountValue (and a longer
    description) for good: right for a short run, series-attributes-stable broken under load."""

    series: int = 101
    after: int = 200
    issued: int = 0
    drifted: int = 0

    def mutate(self, answer: Answer) -> Answer:
        for entity in _entities(answer):
            result = entity.get("result")
            if entity.get("errors") or not isinstance(result, dict) or result.get("seriesId") != self.series:
                continue
            self.issued += 1
            if self.issued > self.after:
                result["discountValue"] = result.get("discountValue", 0) + 1
                result["description"] = f"{result.get('description')} (revised)"
                self.drifted += 1
        return answer

    def hooks(self) -> dict[str, Any]:
        mutate: Mutate = self.mutate
        return {"mutate": mutate}


def failing_valid_series(rate: float, seed: int = 7) -> Mutate:
    """Answers HTTP 200, but a `rate` share of the entities of valid series carry an entity error
    (722, cannot create) instead of a coupon; totalCount and failureCount stay true."""
    rng = random.Random(seed)

    def mutate(answer: Answer) -> Answer:
        entities = _entities(answer)
        if not entities:
            return answer
        for index, entity in enumerate(entities):
            if entity.get("errors") or rng.random() >= rate:
                continue
            entities[index] = {"entityId": entity.get("entityId"),
                               "errors": [{"code": 722, "message": "Cannot create coupon"}], "warnings": []}
        answer.body["failureCount"] = sum(1 for e in entities if e.get("errors"))
        return answer

    return mutate
