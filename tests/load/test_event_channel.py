"""The load process talks to its parent in typed events (JSON lines on a pipe of their own), not in stderr text."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.load.support import load_settings

from coupon_harness.errors import HarnessError
from coupon_harness.runners.load.events import Listening, LoadEvent, Notice, Progress, SetupError, decode, encode
from coupon_harness.runners.load.runner import run_load
from coupon_harness.sandbox.server import running_sandbox


@pytest.mark.parametrize("event", [
    Progress(elapsed_s=5.0, users=10, requests=1234, failures=2, rps=246.8, p95_ms=12.0),
    Progress(elapsed_s=5.0, users=1, requests=0, failures=0, rps=0.0, p95_ms=None),
    Notice("the generator's CPU is saturated"), SetupError("refused: production host"), Listening(40123),
])
def test_every_event_survives_the_pipe(event: LoadEvent) -> None:
    line = encode(event)
    assert "\n" not in line
    assert decode(line) == event


@pytest.mark.parametrize("line", ["", "load: 5s: 10 users", "{}", '{"kind": "nonsense"}', '{"kind": "progress"}',
                                  "[1, 2]", '{"kind": "notice", "message": "x", "extra": 1}', "\x00\xff"])
def test_a_line_that_is_no_event_is_ignored_not_a_crash(line: str) -> None:
    assert decode(line) is None


def test_progress_reaches_the_caller_with_rate_and_p95(tmp_path: Path) -> None:
    lines: list[str] = []
    with running_sandbox() as sandbox:
        result = run_load(load_settings(sandbox.base_url, users=4, run_time_s=6.0), tmp_path, lines.append)
    assert result.requests > 0
    progress = [line for line in lines if "req/s" in line]
    assert progress, lines
    assert "users" in progress[0] and "p95" in progress[0] and "requests" in progress[0], progress


def test_a_setup_error_of_the_load_process_is_one_clear_line(tmp_path: Path) -> None:
    """The load process refuses a production host itself (every way in does): the parent raises that line."""
    settings = load_settings("https://eu.api.capillarytech.com", users=1, run_time_s=2.0)
    with pytest.raises(HarnessError) as raised:
        run_load(settings, tmp_path)
    message = str(raised.value)
    assert "production" in message.lower() and "\n" not in message, message
    assert "Traceback" not in message
