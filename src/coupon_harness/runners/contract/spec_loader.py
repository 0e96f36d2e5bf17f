"""Loads the spec of record for generation: request schema inlined from contracts/, nothing restated."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from coupon_harness.contract.resources import spec_path
from coupon_harness.contract.schemas import load_schema

__all__ = ["generation_spec", "tighten"]


def tighten(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy that forbids undeclared keys (each instance still valid against the original), so positive
    generation spends its examples on the fields that matter, not on junk keys."""
    tight = copy.deepcopy(schema)
    stack = [tight]
    while stack:
        node = stack.pop()
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            if isinstance(value, dict):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, dict))
    return tight


def generation_spec(*, tight: bool) -> dict[str, Any]:
    """The OpenAPI document with the request schema inlined (tightened for positive generation); response schemas
    dropped (the harness's own check judges answers)."""
    with spec_path().open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.safe_load(handle)
    request = load_schema("request")
    request = tighten(request) if tight else copy.deepcopy(request)
    request.pop("$id", None)
    request.pop("$schema", None)
    operation = spec["paths"]["/v2/coupon/bulk/issue"]["post"]
    operation["requestBody"]["content"]["application/json"]["schema"] = request
    for response in operation["responses"].values():
        for media in response.get("content", {}).values():
            media["schema"] = {}
    return spec
