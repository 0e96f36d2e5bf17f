"""Fixtures of the sandbox tests: a default-catalog sandbox per module, an HTTP session per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from coupon_harness.sandbox import RunningSandbox, running_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """A default-catalog sandbox shared by a module's tests: use fresh customers to stay independent."""
    with running_sandbox() as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
