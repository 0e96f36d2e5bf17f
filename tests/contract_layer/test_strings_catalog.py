"""The strings pass's catalog and selection, without a target: what it holds, that every string can be sent,
that the string fields come from the schema, and that the seed draws reproducibly with every class kept."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import orjson
import pytest

from coupon_harness.contract.expectations import Expectations
from coupon_harness.contract.http_rules import MALFORMED, TOLERATED
from coupon_harness.contract.schemas import load_schema
from coupon_harness.runners.contract.client import Client
from coupon_harness.runners.contract.encoding import dump_json
from coupon_harness.runners.contract.settings import ContractSettings
from coupon_harness.runners.contract.string_catalog import (
    CLASSES,
    SECTION_CLASS,
    SPACES,
    blns_sections,
    catalog,
)
from coupon_harness.runners.contract.strings import MOST, budget, select, string_fields, string_probes

DATA = Path(__file__).resolve().parents[2] / "src" / "coupon_harness" / "runners" / "contract" / "data"
#: The Unicode White_Space property (PropList.txt), every one of which the blank class must send alone.
WHITE_SPACE = [*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F,
               0x205F, 0x3000]


def _texts(cls: str) -> set[str]:
    return {item.text for item in catalog() if item.cls == cls}


def _client(*, seed: int = 1, max_examples: int = 100, customer_ids: tuple[str, ...] = ()) -> Any:
    counter = itertools.count(1)
    settings = ContractSettings(base_url="http://127.0.0.1:9", seed=seed, max_examples=max_examples,
                                customer_ids=customer_ids)
    expectations = Expectations(valid_series=frozenset({101}), invalid_series=frozenset({201}))
    fake = SimpleNamespace(settings=settings, judge=SimpleNamespace(expectations=expectations),
                           fresh_customer=lambda: f"ch-test-{next(counter)}")
    fake.customer = lambda: Client.customer(fake)  # the Client's own choice, on this stand-in
    return fake


def test_the_list_ships_unchanged_with_its_licence() -> None:
    text = (DATA / "blns.txt").read_bytes()
    noted = re.search(r"`([0-9a-f]{64})`", (DATA / "README.md").read_text(encoding="utf-8"))
    assert noted is not None and hashlib.sha256(text).hexdigest() == noted.group(1)
    licence = (DATA / "blns.LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Max Woolf" in licence
    assert len(blns_sections()) > 450


def test_every_section_of_the_list_has_a_class_and_every_class_strings() -> None:
    assert {section for section, _ in blns_sections()} <= set(SECTION_CLASS)
    assert set(SECTION_CLASS.values()) <= set(CLASSES)
    held = {item.cls for item in catalog()}
    assert held == set(CLASSES)
    assert {item.cls for item in catalog() if item.origin == "blns"} >= {"markup", "sql", "numeric", "emoji"}
    assert len(catalog()) > 900


def test_every_string_can_be_sent_as_it_is() -> None:
    for item in catalog():
        value = item.value("ch-x-1")
        value.encode("utf-8")  # no lone surrogate
        assert orjson.loads(dump_json({"id": value})) == {"id": value}, repr(value)
    pairs = [(item.form, item.text) for item in catalog()]
    assert len(pairs) == len(set(pairs))


def test_harmful_strings_are_left_out() -> None:
    assert any("DROP TABLE" in text for _, text in blns_sections())
    assert not any("drop table" in item.text.lower() or "kernel.exit" in item.text.lower() for item in catalog())


def test_blank_sends_every_unicode_space_alone_and_around_an_id() -> None:
    assert {chr(code) for code in WHITE_SPACE} <= set(SPACES)
    assert tuple(chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()) == SPACES
    assert set(SPACES) <= _texts("blank")
    assert {"\u200b", "\ufeff", "\u180e", "", "".join(SPACES)} <= _texts("blank")
    around = {item.text for item in catalog() if item.cls == "whitespace" and item.form == "around"}
    assert set(SPACES) <= around


def test_numbers_at_and_past_every_width_and_float_range() -> None:
    numeric = _texts("numeric")
    for bits in (31, 32, 53, 63, 64):
        assert {str(2**bits), str(-(2**bits)), str(2**bits - 1)} & numeric, bits
    assert {"2147483648", "9007199254740993", "9223372036854775808", "18446744073709551616",
            "-9223372036854775809", "1e309", "-1e309", "NaN", "Infinity", "-Infinity", "007", "1E+02",
            "+2147483648"} <= numeric


@pytest.mark.parametrize(("cls", "needles"), [
    ("sql", ["'", "' OR '1'='1"]),
    ("nosql", ["$where", "$ne"]),
    ("ldap", ["*", "*)(uid=*))(|(uid=*"]),
    ("shell", ["; id", "$(id)", "`id`"]),
    ("template", ["{{7*7}}", "${7*7}", "<%= 7*7 %>"]),
    ("format", ["%s%n", "{0}"]),
    ("path", ["../../etc/passwd"]),
    ("url", ["file://", "http://127.0.0.1/"]),
    ("crlf", ["\r\n", "\n"]),
    ("markup", ["<script>"]),
    ("emoji", ["\u200d", "\U0001f1fa\U0001f1f8", "\U0001f3ff"]),
    ("bidi", ["\u202e", "\u2067"]),
])
def test_each_generated_class_holds_its_metacharacters(cls: str, needles: list[str]) -> None:
    texts = _texts(cls)
    for needle in needles:
        assert any(needle in text for text in texts), (cls, needle)
    assert any(item.core for item in catalog() if item.cls == cls), cls


def test_the_string_fields_come_from_the_schema() -> None:
    assert string_fields(load_schema("request")) == [("customer", "id")]


def test_a_string_field_the_schema_grows_is_probed_and_classified_by_the_schema() -> None:
    schema = json.loads(json.dumps(load_schema("request")))
    schema["properties"]["customer"]["properties"]["email"] = {"type": "string", "maxLength": 40}
    schema["properties"]["tags"] = {"type": "array", "items": {"type": "string"}}
    validator = jsonschema.Draft202012Validator(schema)
    probes = string_probes(_client(max_examples=1000), schema, validator.is_valid)
    assert {probe.where for probe in probes} == {"customer.id", "customer.email", "tags[0]"}
    email = [probe for probe in probes if probe.where == "customer.email"]
    for probe in email:
        body = orjson.loads(probe.body)
        assert body["customer"]["email"] == probe.value and body["seriesIds"] == [101, 201]
        assert probe.customer == body["customer"]["id"] and probe.customer.startswith("ch-test-")
        assert probe.expect is (MALFORMED if len(probe.value) > 40 else TOLERATED), probe.value
    tags = next(probe for probe in probes if probe.where == "tags[0]")
    assert orjson.loads(tags.body)["tags"] == [tags.value]
    assert {probe.name for probe in email} >= {"strings:sql in customer.email", "strings:blank in customer.email"}


def test_customer_ids_are_classified_by_the_schema() -> None:
    probes = string_probes(_client(max_examples=1000))
    empty = next(probe for probe in probes if probe.value == "")
    assert empty.expect is MALFORMED  # minLength 1
    assert all(probe.expect is TOLERATED for probe in probes if probe.value)
    blank = next(probe for probe in probes if probe.value == "   ")
    assert blank.customer == "   " and blank.name == "strings:blank in customer.id"


def test_with_a_customer_pool_the_prefix_is_the_pools_first() -> None:
    probes = string_probes(_client(customer_ids=("cust-1", "cust-2")))
    sql = next(probe for probe in probes if probe.cls == "sql" and probe.core)
    assert sql.customer is not None and sql.customer.startswith("cust-1")


def test_the_seed_draws_reproducibly_keeping_the_core_and_every_class() -> None:
    every = string_probes(_client(max_examples=1000))
    assert len(every) == len(catalog()) <= MOST
    core = [probe for probe in every if probe.core]
    for seed in (1, 7, 271828):
        first = select(every, seed, 20)
        assert [p.value for p in first] == [p.value for p in select(every, seed, 20)]
        assert len(first) == budget(20, len(core) + len(CLASSES))
        assert set(core) <= set(first)
        assert {p.cls for p in first} == set(CLASSES)
        assert [p for p in every if p in set(first)] == first  # in catalog order
    assert {p.value for p in select(every, 1, 20)} != {p.value for p in select(every, 7, 20)}
    assert len(select(every, 1, 100)) == 300
