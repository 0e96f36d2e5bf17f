"""The progress display: one model of typed figures, plain lines with one clock, a live line on a terminal."""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from tests.progress_lines import ANSI, clocks

from coupon_harness.cli import console
from coupon_harness.reporting.progress import (
    LiveProgress,
    PlainProgress,
    ProgressModel,
    SilentProgress,
    figures_text,
    left_text,
)
from coupon_harness.results.progress import Figures, Part
from coupon_harness.runners.load.capacity import _step_figures
from coupon_harness.runners.load.events import Notice, Progress, encode
from coupon_harness.runners.load.runner import _Channel, load_figures


class Ticks:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


LOAD = Figures(stage="load", requests=1234, rps=246.8, p95_ms=12.0, errors=37, coupons=1800, users=10,
               remaining_s=7.2, planned_s=12.0)


def _at(figures: Figures, **changes: Any) -> Figures:
    return replace(figures, **changes)


def test_the_one_clock_check_fails_on_a_line_with_two() -> None:
    """The check the tests below rely on: the line the load command printed before has two clocks."""
    assert clocks("[  6.3s] 5s: 5 users, 14862 requests (2371 req/s, p95 3 ms), 0 errors (0.0%)") == 2
    assert clocks("[  6.3s] load: 5 users, 14862 requests (2371 req/s), 7s left") == 1
    assert clocks("[  0.1s] step 1 (grow): 20 req/s, 20 users, 1s warm-up + 6s measured") == 1


def test_plain_lines_have_one_clock_no_ansi_and_the_figures_every_few_seconds() -> None:
    ticks, stream = Ticks(), io.StringIO()
    display = PlainProgress(stream, clock=ticks, redact=lambda text: text.replace("s3cret", "<redacted>"))
    with display:
        display("load run against http://u:s3cret@127.0.0.1: 10 users, 12s, shape steady")
        for second in range(1, 13):
            ticks.now = 100.0 + second
            display.figures(_at(LOAD, requests=100 * second, remaining_s=12.0 - second))
    lines = stream.getvalue().splitlines()
    assert [line[:8] for line in lines] == ["[  0.0s]", "[  5.0s]", "[ 10.0s]"], lines
    assert all(clocks(line) == 1 and not ANSI.search(line) for line in lines), lines
    assert "s3cret" not in stream.getvalue()
    assert lines[1] == ("[  5.0s] load: 10 users, 500 requests (100 req/s, p95 12 ms), 37 errors (7.4%), "
                        "1800 coupons, 7s left"), lines[1]


def test_a_message_resets_the_plain_cadence() -> None:
    """A contract run prints a line a pass: its figures appear only in a stretch of silence (a long pass)."""
    ticks, stream = Ticks(), io.StringIO()
    display = PlainProgress(stream, clock=ticks)
    contract = Figures(stage="contract", requests=10, part=Part("pass", "classics", 1, 9), findings=2, coupons=5)
    for second in range(1, 5):
        ticks.now = 100.0 + 2 * second
        display(f"pass {second}: done")
        display.figures(contract)
    assert "contract" not in stream.getvalue()
    ticks.now += 6
    display.figures(_at(contract, requests=70))
    last = stream.getvalue().splitlines()[-1]
    assert last == "[ 14.0s] contract pass 1 of 9 (classics): 70 requests (10 req/s), 2 findings, 5 coupons", last


def test_the_load_process_figures_reach_a_line_with_one_clock() -> None:
    """The load process's event, through the parent's conversion, as a plain line: its own elapsed time is gone."""
    event = Progress(elapsed_s=5.0, users=10, requests=1234, failures=37, rps=246.8, p95_ms=12.0, coupons=1800,
                     remaining_s=7.0, run_time_s=12.0)
    ticks, stream = Ticks(), io.StringIO()
    display = PlainProgress(stream, clock=ticks)
    ticks.now += 6.3
    display.figures(load_figures(event))
    [line] = stream.getvalue().splitlines()
    assert clocks(line) == 1 and "247 req/s" in line and "p95 12 ms" in line and "37 errors (3.0%)" in line, line
    assert "1800 coupons" in line and "7s left" in line and "10 users" in line, line


def test_the_model_derives_the_rate_and_counts_the_time_left_down() -> None:
    ticks = Ticks()
    model = ProgressModel(ticks)
    first = model.update(Figures(stage="contract", requests=100, rps=None))
    assert first.rps is None  # one update: no rate yet
    ticks.now += 2.0
    second = model.update(Figures(stage="contract", requests=300, remaining_s=10.0))
    assert second.rps == pytest.approx(100.0) and second.remaining_s == 10.0
    ticks.now += 1.5
    later = model.snapshot()
    assert later is not None and later.remaining_s == pytest.approx(8.5) and later.rps == pytest.approx(100.0)
    ticks.now += 10.0  # silent for long: the rate falls
    silent = model.snapshot()
    assert silent is not None and silent.rps is not None and silent.rps < 20 and silent.remaining_s == 0.0
    # A capacity step counts from 0 again: no negative rate across it; Locust's 0 before its window is no rate.
    step = model.update(Figures(stage="capacity", requests=5, rps=0.0))
    assert step.rps is None


def test_left_text() -> None:
    assert [left_text(s) for s in (0.0, 0.2, 7.0, 59.5, 125.0)] == ["0s left", "1s left", "7s left", "1m00s left",
                                                                    "2m05s left"]


@pytest.fixture
def live() -> Iterator[tuple[LiveProgress, io.StringIO, Ticks]]:
    out, ticks = io.StringIO(), Ticks()
    terminal = Console(file=out, force_terminal=True, width=160, color_system="standard")
    yield LiveProgress(terminal, clock=ticks, auto_refresh=False), out, ticks


def test_the_live_line_shows_the_figures_and_leaves_one_line(live: tuple[LiveProgress, io.StringIO, Ticks]) -> None:
    display, out, ticks = live
    stderr = sys.stderr
    with display:
        assert sys.stderr is not stderr  # lines others write to stderr go above the live line
        display("classics: started")
        ticks.now += 3.0
        display.figures(LOAD)
        display.refresh()
        drawn = out.getvalue()
    assert sys.stderr is stderr
    plain = ANSI.sub("", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn))
    for figure in ("247 req/s", "p95 12 ms", "37 errors", "1234 requests", "1800 coupons", "10 users", "8s left",
                   "load", "[  0.0s] classics: started"):
        assert figure in plain, (figure, plain)
    final = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue()).splitlines()[-1]
    assert final == "[  3.0s] " + figures_text(display._model.snapshot()), final  # type: ignore[union-attr]
    assert clocks(final) == 1
    assert out.getvalue().endswith("\n") and "\x1b[?25h" in out.getvalue()  # the cursor is back


def test_an_interrupt_stops_the_live_line(live: tuple[LiveProgress, io.StringIO, Ticks]) -> None:
    display, out, _ticks = live
    stderr = sys.stderr
    with pytest.raises(KeyboardInterrupt), display:
        display.figures(LOAD)
        raise KeyboardInterrupt
    assert sys.stderr is stderr and out.getvalue().rstrip("\n").endswith("8s left") and "\x1b[?25h" in out.getvalue()


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return self._tty


def test_live_only_on_a_terminal_that_moves_its_cursor() -> None:
    assert console.live_wanted(_Stream(tty=True), {"TERM": "xterm-256color"})
    assert console.live_wanted(_Stream(tty=True), {"TERM": "xterm", "NO_COLOR": "1"})  # colour only
    assert not console.live_wanted(_Stream(tty=True), {"TERM": "dumb"})
    assert not console.live_wanted(_Stream(tty=False), {"TERM": "xterm"})  # CI, a pipe, a file
    closed = _Stream(tty=True)
    closed.close()
    assert not console.live_wanted(closed, {})


def test_the_cli_picks_the_display(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(console._state, "quiet", True)
    with console.progress_display() as quiet:
        quiet("classics: started")
        quiet.figures(LOAD)
    assert isinstance(quiet, SilentProgress) and capsys.readouterr() == ("", "")
    monkeypatch.setitem(console._state, "quiet", False)
    assert isinstance(console.progress_display(), PlainProgress)  # pytest's captured stderr is no terminal
    monkeypatch.setattr(sys, "stderr", _Stream(tty=True))
    monkeypatch.setenv("TERM", "xterm")
    live = console.progress_display()
    assert isinstance(live, LiveProgress) and not live._console.no_color
    plain = console.progress_display(color=False)  # --no-color, NO_COLOR: the live line without colours
    assert isinstance(plain, LiveProgress) and plain._console.no_color


def test_the_relay_sends_figures_or_without_a_sink_a_line_every_five_seconds() -> None:
    events = [Progress(elapsed_s=float(s), users=2, requests=10 * s, failures=0, rps=5.0, p95_ms=3.0, coupons=s,
                       remaining_s=12.0 - s, run_time_s=12.0) for s in range(1, 12)]
    for sink in (True, False):
        channel = _Channel()
        with os.fdopen(channel.write_fd, "w", encoding="utf-8") as pipe:
            for event in [*events[:3], Notice("the generator's CPU is saturated"), *events[3:]]:
                pipe.write(encode(event) + "\n")
        lines: list[str] = []
        figures: list[Figures] = []
        channel.relay(lines.append, figures=figures.append if sink else None)
        if sink:
            assert lines == ["the generator's CPU is saturated"] and len(figures) == 11
            assert figures[4] == Figures(stage="load", requests=50, rps=5.0, p95_ms=3.0, errors=0, coupons=5, users=2,
                                         remaining_s=7.0, planned_s=12.0)
        else:
            assert [line.split(":")[0] for line in lines] == ["the generator's CPU is saturated", "5s", "10s"], lines


def test_a_capacity_step_names_itself_in_the_figures() -> None:
    seen: list[Figures] = []
    part = Part("step", "grow, 40 req/s", 2, 8, at_most=True)
    sink = _step_figures(seen.append, part)
    assert sink is not None and _step_figures(None, part) is None
    sink(LOAD)
    assert seen == [_at(LOAD, stage="capacity", part=part)]
    assert figures_text(ProgressModel().update(seen[0])).startswith("capacity step 2 of at most 8 (grow, 40 req/s): ")


def test_a_capacity_step_shows_itself_before_its_first_figures(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Between two steps the display names the new step at once (the load process takes a second or two to start),
    not the last step's figures."""
    from coupon_harness.runners.load import capacity
    from coupon_harness.runners.load.capacity import CapacitySettings
    from coupon_harness.runners.load.settings import LoadSettings, parse_slo

    def no_load(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(capacity, "run_load", no_load)
    seen: list[Figures] = []
    load = LoadSettings(base_url="http://127.0.0.1:9", series_ids=(101,), slos=(parse_slo("p95=1s"),))
    result = capacity.run_capacity(CapacitySettings(load=load, start_rate=20.0, max_steps=6), tmp_path,
                                   figures=seen.append)
    assert result.interrupted
    assert seen == [Figures(stage="capacity", requests=0, part=Part("step", "grow, 20 req/s", 1, 6, at_most=True))]
    assert "step 1/≤6 (grow, 20 req/s)" in _render_text(seen[0])


def _render_text(figures: Figures) -> str:
    out = io.StringIO()
    display = LiveProgress(Console(file=out, force_terminal=True, width=200), auto_refresh=False)
    with display:
        display.figures(figures)
        display.refresh()
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())


def test_the_pulse_names_the_pass_and_keeps_its_pace() -> None:
    from coupon_harness.runners.contract.collector import Collector
    from coupon_harness.runners.contract.pulse import Pulse

    ticks, seen = Ticks(), list[Figures]()
    collector = Collector(1, 5)

    def measure(part: Part | None) -> Figures:
        return Figures(stage="contract", requests=collector.requests, part=part, findings=len(collector.findings))

    pulse = Pulse(seen.append, collector, 9, measure, clock=ticks)
    pulse.enter("classics", 1)
    for _ in range(10):  # all within one beat: no figures until the clock moves
        collector.sent(transport_ok=True)
    ticks.now += 0.25
    collector.sent(transport_ok=True)
    assert [figures.requests for figures in seen] == [0, 11]
    assert seen[-1] == Figures(stage="contract", requests=11, part=Part("pass", "classics", 1, 9), findings=0)


def test_a_contract_run_and_a_diff_send_their_figures() -> None:
    """Through the runners, against the sandbox: each pass named, the last figures the run's totals."""
    from coupon_harness.cli.sandbox_target import sandbox_settings
    from coupon_harness.runners.contract import ContractSettings, run_contract
    from coupon_harness.runners.contract.diff import run_diff
    from coupon_harness.runners.contract.diff_settings import DiffSettings
    from coupon_harness.sandbox.info import sandbox_info
    from coupon_harness.sandbox.server import running_sandbox

    contract: list[Figures] = []
    diff: list[Figures] = []
    with running_sandbox() as sandbox, running_sandbox() as other:
        settings = replace(sandbox_settings(ContractSettings(base_url=sandbox.base_url, seed=1, max_examples=2),
                                            sandbox_info(sandbox.config)), passes=("auth", "malformed"))
        result = run_contract(settings, figures=contract.append)
        compared = run_diff(DiffSettings(base=settings, against_url=other.base_url,
                                         against_credentials=settings.credentials, passes=("malformed",)),
                            figures=diff.append)
    assert [figures.part.name for figures in contract if figures.part][:2] == ["auth", "malformed"]
    assert contract[-1].requests == result.requests and contract[-1].part == Part("pass", "malformed", 2, 2)
    assert contract[-1].findings == 0 and contract[-1].stage == "contract"
    assert diff[-1].stage == "diff" and diff[-1].unit == "cases" and diff[-1].requests > 0
    assert diff[-1].differences == len(compared.differences)
    line = figures_text(ProgressModel().update(diff[-1]))
    assert f"{diff[-1].requests} cases" in line and "differences" in line and "requests" not in line, line
