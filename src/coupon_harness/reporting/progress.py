"""What a user watches while a run works: its messages and its figures, with one clock.

`ProgressModel` keeps the running stage's latest `Figures` (deriving the rate when the stage gives none, counting
the time left down between updates); the CLI picks a display: `LiveProgress` (a rich Live line on a terminal),
`PlainProgress` (lines, for CI and pipes) or `SilentProgress` (-q). Every line starts with the seconds since the
display began (`[  3.2s] classics: 43 requests`).
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, TextIO

from rich.console import Console, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from coupon_harness.results.progress import Figures

__all__ = ["LiveProgress", "PlainProgress", "ProgressDisplay", "ProgressModel", "ProgressPrinter", "SilentProgress",
           "Snapshot", "figures_text", "left_text"]

#: The window over which the display derives a rate the stage does not give (seconds).
RATE_WINDOW_S = 3.0
#: How often plain lines show the figures, at most (seconds since the last line of any kind).
PLAIN_EVERY_S = 5.0


class ProgressPrinter:
    """Prints progress lines like `[  3.2s] property/negative: 43 requests`, flushing each, elapsed time counted
    from construction; the stream is sys.stderr as it is at each line (so a later capture works), and `redact` (the
    run's redactor) is applied to every message."""

    def __init__(self, stream: TextIO | None = None, *, clock: Callable[[], float] = time.monotonic,
                 redact: Callable[[str], str] | None = None) -> None:
        self._stream = stream
        self._clock = clock
        self._start = clock()
        self._redact = redact

    def line(self, message: str, elapsed: float | None = None) -> str:
        """`message` as printed at `elapsed` (now when None): the clock, then the redacted text."""
        elapsed = self._clock() - self._start if elapsed is None else elapsed
        prefix = f"[{elapsed:5.1f}s] "
        if self._redact is not None:
            message = self._redact(message)
        return prefix + message.rstrip("\n").replace("\n", "\n" + " " * len(prefix))

    def __call__(self, message: str) -> None:
        stream = self._stream if self._stream is not None else sys.stderr
        stream.write(self.line(message) + "\n")
        stream.flush()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The running stage as the display shows it at `elapsed_s` (the display's one clock)."""

    elapsed_s: float
    figures: Figures
    #: The rate over the last few seconds of updates; before there are two, the stage's own (or None).
    rps: float | None
    #: The stage's time left, counted down since its last update.
    remaining_s: float | None


class ProgressModel:
    """The latest figures of the running stage and the one clock: seconds since the model was made. Thread-safe
    (the contract's figures come from Schemathesis' worker threads, a live display reads them from its own)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start = clock()
        self._lock = threading.Lock()
        self._latest: tuple[float, Figures] | None = None
        #: (time, requests) of the stage's recent updates, to derive a rate it does not give.
        self._history: deque[tuple[float, int]] = deque()

    def elapsed(self) -> float:
        return self._clock() - self._start

    def update(self, figures: Figures) -> Snapshot:
        now = self._clock()
        with self._lock:
            if self._latest is not None and (self._latest[1].stage != figures.stage
                                             or figures.requests < self._latest[1].requests):
                self._history.clear()  # another stage, or a part that counts from 0 (a capacity step)
            self._latest = (now, figures)
            self._history.append((now, figures.requests))
            while len(self._history) > 2 and self._history[1][0] <= now - RATE_WINDOW_S:
                self._history.popleft()
        snapshot = self.snapshot()
        assert snapshot is not None
        return snapshot

    def snapshot(self) -> Snapshot | None:
        """The latest figures as of now; None before any."""
        now = self._clock()
        with self._lock:
            if self._latest is None:
                return None
            at, figures = self._latest
            first_at, first_requests = self._history[0]
        rps = figures.rps if figures.rps or not figures.requests else None  # 0 with requests: no window yet
        # The requests counted between the updates of the last few seconds, which every stage gives alike (up to
        # now, once the stage has been silent for a while: a rate that stopped must show it).
        span = (now if now - at > RATE_WINDOW_S else at) - first_at
        if span >= 0.9:
            rps = max(figures.requests - first_requests, 0) / span
        remaining = None if figures.remaining_s is None else max(figures.remaining_s - (now - at), 0.0)
        return Snapshot(now - self._start, figures, rps, remaining)


def left_text(seconds: float) -> str:
    """`7s left`, `2m05s left`: whole seconds, rounded up (a run is not over while a second is left)."""
    whole = math.ceil(round(seconds, 3))
    return f"{whole // 60}m{whole % 60:02d}s left" if whole >= 60 else f"{whole}s left"


def _head(figures: Figures) -> str:
    if (part := figures.part) is None:
        return figures.stage
    bound = "at most " if part.at_most else ""
    return f"{figures.stage} {part.noun} {part.index} of {bound}{part.count} ({part.name})"


def _short_head(figures: Figures) -> str:
    """The live line's head, short for a terminal's width: `load`, `step 2/≤8 (grow, 40 req/s)`, `pass 3/9
    (property-positive)`."""
    if (part := figures.part) is None:
        return figures.stage
    return f"{part.noun} {part.index}/{'≤' if part.at_most else ''}{part.count} ({part.name})"


def _rate(snapshot: Snapshot) -> str:
    figures = snapshot.figures
    inner = [f"{snapshot.rps:.0f} {_per_second(figures)}"] if snapshot.rps is not None else []
    if figures.p95_ms is not None:
        inner.append(f"p95 {figures.p95_ms:g} ms")
    return f"{figures.requests} {figures.unit}" + (f" ({', '.join(inner)})" if inner else "")


def _per_second(figures: Figures) -> str:
    return "req/s" if figures.unit == "requests" else f"{figures.unit}/s"


def figures_text(snapshot: Snapshot) -> str:
    """The figures in one line, without a clock: `load: 5 users, 1234 requests (247 req/s, p95 12 ms), 2 errors
    (0.2%), 1200 coupons, 7s left`."""
    figures = snapshot.figures
    items = [f"{figures.users} users"] if figures.users is not None else []
    items.append(_rate(snapshot))
    if figures.errors is not None:
        share = f" ({figures.errors / figures.requests:.1%})" if figures.requests else ""
        items.append(f"{figures.errors} errors{share}")
    items += [f"{value} {name}" for name in ("findings", "differences", "coupons")
              if (value := getattr(figures, name)) is not None]
    if snapshot.remaining_s is not None:
        items.append(left_text(snapshot.remaining_s))
    return f"{_head(figures)}: {', '.join(items)}"


class ProgressDisplay(Protocol):
    """What a command feeds while it runs: messages (`display(text)`) and figures (`display.figures`). A context
    manager: leaving it (at the end, on an error or an interrupt) leaves the terminal as it was."""

    def __call__(self, message: str) -> None: ...

    def figures(self, figures: Figures) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...


class _Display:
    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to undo."""


class SilentProgress(_Display):
    """-q: no progress at all."""

    def __call__(self, message: str) -> None:
        pass

    def figures(self, figures: Figures) -> None:
        pass


class PlainProgress(_Display):
    """Lines, as CI logs and pipes want them: every message at once, the figures when `every_s` seconds passed
    since the last line. No terminal codes."""

    def __init__(self, stream: TextIO | None = None, *, clock: Callable[[], float] = time.monotonic,
                 redact: Callable[[str], str] | None = None, every_s: float | None = None) -> None:
        self._printer = ProgressPrinter(stream, clock=clock, redact=redact)
        self._model = ProgressModel(clock)
        self._every_s = PLAIN_EVERY_S if every_s is None else every_s
        self._last_line = self._model.elapsed()
        self._lock = threading.Lock()

    def __call__(self, message: str) -> None:
        with self._lock:
            self._printer(message)
            self._last_line = self._model.elapsed()

    def figures(self, figures: Figures) -> None:
        snapshot = self._model.update(figures)
        with self._lock:
            if snapshot.elapsed_s - self._last_line < self._every_s:
                return
            self._printer(figures_text(snapshot))
            self._last_line = snapshot.elapsed_s


class LiveProgress(_Display):
    """A rich Live line on a terminal: spinner, clock, a bar of the planned length when there is one, the figures;
    messages print above it. On leaving, the last figures stay as one line. stderr goes through the console
    while it runs (so others' log lines stay above the line); stdout is left alone."""

    def __init__(self, console: Console, *, clock: Callable[[], float] = time.monotonic,
                 redact: Callable[[str], str] | None = None, auto_refresh: bool = True,
                 refresh_per_second: float = 4.0) -> None:
        self._console = console
        self._printer = ProgressPrinter(clock=clock, redact=redact)
        self._model = ProgressModel(clock)
        self._spinner = Spinner("dots")
        self._live = Live(console=console, get_renderable=self._render, transient=True, auto_refresh=auto_refresh,
                          refresh_per_second=refresh_per_second, redirect_stdout=False, redirect_stderr=True)

    def __enter__(self) -> Self:
        self._live.start()
        return self

    def __call__(self, message: str) -> None:
        self._console.print(Text(self._printer.line(message, self._model.elapsed())), highlight=False, soft_wrap=True)

    def figures(self, figures: Figures) -> None:
        self._model.update(figures)

    def refresh(self) -> None:
        self._live.refresh()

    def close(self) -> None:
        self._live.stop()
        snapshot = self._model.snapshot()
        if snapshot is not None:  # the last figures, where the live line was
            self._console.print(Text(self._printer.line(figures_text(snapshot), snapshot.elapsed_s)),
                                highlight=False, soft_wrap=True)

    def _render(self) -> RenderableType:
        """One line: spinner, clock, what runs, a bar of its planned length when it has one, the figures (cut at
        the end on a narrow terminal)."""
        snapshot = self._model.snapshot()
        elapsed = snapshot.elapsed_s if snapshot is not None else self._model.elapsed()
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        frame = self._spinner.render(self._model.elapsed())
        line.append_text(frame if isinstance(frame, Text) else Text(str(frame)))
        line.append(f" {elapsed:5.1f}s ", style="bold")
        if snapshot is None:
            line.append("starting", style="dim")
            return line
        figures = snapshot.figures
        line.append(_short_head(figures), style="bold cyan")
        line.append(" ")
        if snapshot.remaining_s is not None and figures.planned_s:
            line.append_text(_bar(1.0 - snapshot.remaining_s / figures.planned_s, width=8))
            line.append(" ")
        line.append_text(_figures_cell(snapshot))
        return line


def _bar(done: float, width: int = 12) -> Text:
    filled = round(min(max(done, 0.0), 1.0) * width)
    return Text.assemble(("━" * filled, "magenta"), ("━" * (width - filled), "dim"))


def _figures_cell(snapshot: Snapshot) -> Text:
    """The figures after the head, `·` between them, errors in red when there are any."""
    text = Text()
    figures = snapshot.figures
    parts: list[tuple[str, str]] = []  # the most telling first: a narrow terminal cuts the end
    if snapshot.remaining_s is not None:
        parts.append((left_text(snapshot.remaining_s), ""))
    if snapshot.rps is not None:
        parts.append((f"{snapshot.rps:.0f} {_per_second(figures)}", "bold"))
    if figures.p95_ms is not None:
        parts.append((f"p95 {figures.p95_ms:g} ms", ""))
    parts += [(f"{value} {name}", "red" if value else "green") for name in ("errors", "findings", "differences")
              if (value := getattr(figures, name)) is not None]
    parts.append((f"{figures.requests} {figures.unit}", ""))
    parts += [(f"{value} {name}", "") for name in ("coupons", "users") if (value := getattr(figures, name)) is not None]
    for index, (words, style) in enumerate(parts):
        if index:
            text.append(" · ", style="dim")
        text.append(words, style=style)
    return text
