"""The spec of record is valid OpenAPI and refers to contracts/ instead of restating the schemas."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from coupon_harness.contract.catalog import Severity, rules
from coupon_harness.contract.resources import contracts_dir, spec_path
from coupon_harness.contract.schemas import load_schema
from coupon_harness.runners.contract.spec_loader import generation_spec, tighten


def _refs(node: object) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_refs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_refs(item))
    return found


def test_spec_is_valid_openapi() -> None:
    spec_dict, base_uri = read_from_filename(str(spec_path()))
    validate(spec_dict, base_uri=base_uri)


def test_spec_bodies_are_the_contract_schemas() -> None:
    spec = yaml.safe_load(spec_path().read_text())
    operation = spec["paths"]["/v2/coupon/bulk/issue"]["post"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert request == {"$ref": "../contracts/schemas/bulk-issue-request.schema.json"}
    assert response == {"$ref": "../contracts/schemas/bulk-issue-response.schema.json"}
    for ref in _refs(spec):
        target = (spec_path().parent / ref.split("#")[0]).resolve()
        assert target.is_file(), ref
        assert target.parent == (contracts_dir() / "schemas").resolve()
    # Nothing restated: the spec holds no schema properties of its own.
    assert "properties" not in spec_path().read_text()


def test_schemas_are_valid_draft_2020_12() -> None:
    for path in (contracts_dir() / "schemas").glob("*.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(Path(path).read_text()))


def test_generation_spec_inlines_the_request_schema() -> None:
    spec = generation_spec(tight=False)
    inlined = spec["paths"]["/v2/coupon/bulk/issue"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    original = load_schema("request")
    assert inlined["properties"] == original["properties"]
    assert inlined["required"] == original["required"]


def test_tighten_keeps_every_tight_instance_valid_against_the_original() -> None:
    original = load_schema("request")
    tight = tighten(original)
    instance = {"seriesIds": [1, 2], "customer": {"id": "c"}}
    jsonschema.validate(instance, tight)
    jsonschema.validate(instance, original)
    extra = {"seriesIds": [1], "customer": {"id": "c", "mobile": "1"}, "metadata": {}}
    jsonschema.validate(extra, original)
    assert not jsonschema.Draft202012Validator(tight).is_valid(extra)


def test_catalog_ids_unique_and_complete() -> None:
    ids = [rule.id for rule in rules()]
    assert len(ids) == len(set(ids))
    assert {"no-server-error", "unique-codes", "auth-required", "response-schema", "total-count"} <= set(ids)
    # Only harmless oddities are warnings: an unusual error body, leniency of the JSON parser.
    assert [r.id for r in rules() if r.severity is Severity.WARNING] == ["strict-json", "error-body"]
