"""The capacity search's logic, against a modelled target (no network): `run_load` is replaced by a model that
answers each step with HDR-histogram intervals as a real run would (a warm-up, then the measured window).

The search grows, shrinks and bisects as documented; it leaves the warm-up out; it stops at the generator's
limit, the coupon cap, an interruption, --max-rate and --max-steps, saying which; it finds duplicate codes across
steps; its reports say the same in every format and keep no credential.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hdrh.histogram import HdrHistogram
from tests.reporting.load_builders import load_result

from coupon_harness.errors import ConfigError
from coupon_harness.reporting.capacity.document import (
    capacity_document,
    redact_capacity_result,
    render_capacity_table,
    write_capacity_reports,
)
from coupon_harness.reporting.capacity.summary_json import write_capacity_summary_json
from coupon_harness.reporting.load.summary_json import write_load_summary_json
from coupon_harness.reporting.render.html import render_html
from coupon_harness.reporting.render.markdown import render_markdown
from coupon_harness.reporting.stored import read_stored
from coupon_harness.results.capacity import CapacityResult
from coupon_harness.results.load import IntervalHistogram, LoadHistograms, LoadRunResult
from coupon_harness.runners.load import capacity
from coupon_harness.runners.load.capacity import CapacitySettings, run_capacity, step_users
from coupon_harness.runners.load.settings import LoadSettings, parse_slo
from coupon_harness.transport.auth import Credentials, Redactor


def _encode(latencies_ms: list[float]) -> str:
    histogram = HdrHistogram(1, 600_000_000, 3)
    for value in latencies_ms:
        histogram.record_value(max(1, int(value * 1000)))
    encoded = histogram.encode()
    return encoded.decode() if isinstance(encoded, bytes) else str(encoded)


@dataclass
class Model:
    """A target that answers in `fast_ms` up to `knee` req/s and in `slow_ms` above; the warm-up's intervals
    always answer in `warmup_ms` (a search that measured them would see every step break)."""

    knee: float
    fast_ms: float = 20.0
    slow_ms: float = 2000.0
    warmup_ms: float = 5000.0
    cpu: Callable[[float], float] = lambda rate: 10.0
    late: Callable[[float], float] = lambda rate: 0.0
    coupons_per_step: int = 10
    duplicate_code: str | None = None
    interrupt_at: int | None = None
    calls: list[LoadSettings] = field(default_factory=list)

    def __call__(self, settings: LoadSettings, out: Path, progress: Any = None, figures: Any = None) -> LoadRunResult:
        self.calls.append(settings)
        index = len(self.calls)
        rate = settings.arrival_rate or 0.0
        width = settings.interval_s
        intervals = []
        warmup_intervals = round(settings_warmup(settings) / width)
        total = round(settings.run_time_s / width)
        for number in range(1, total + 1):
            latency = self.warmup_ms if number <= warmup_intervals else (
                self.fast_ms if rate <= self.knee else self.slow_ms)
            count = max(1, round(rate * width))
            intervals.append(IntervalHistogram(number * width, count, 0, _encode([latency] * count)))
        out.mkdir(parents=True, exist_ok=True)
        # As a step's load process does: append to the search's coupons.csv (the header is there already).
        with settings.coupons_path(out).open("a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            for n in range(self.coupons_per_step):
                writer.writerow([101, f"CODE{index}X{n}", f"c-{index}-{n}", "2026-12-01T00:00:00.000Z",
                                 settings.coupon_source])
            if self.duplicate_code is not None and index == 2:
                writer.writerow([101, self.duplicate_code, "someone-else", "2026-12-01T00:00:00.000Z",
                                 settings.coupon_source])
        cpu = self.cpu(rate)
        interrupted = self.interrupt_at == index
        return LoadRunResult(
            target=settings.base_url, started_at="2026-12-01T00:00:00+00:00", duration_s=settings.run_time_s,
            shape="steady", users=settings.users, arrival_rate=rate, workers=0,
            requests=sum(i.requests for i in intervals), status_counts={"200": 1}, violation_counts={},
            violation_examples={}, latency_ms={}, error_rate=0.0, entities=1, entity_failures=0,
            expected_failures=0, unexpected_failures=0, failure_ratio=0.0, entity_error_codes={},
            coupons_issued=self.coupons_per_step + (1 if self.duplicate_code and index == 2 else 0),
            duplicate_codes=0, generator_cpu_max=cpu, generator_cpu_mean=cpu, generator_saturated=cpu >= 90,
            interrupted=interrupted, stopped_reason="interrupted by SIGINT" if interrupted else None,
            generator_late_share=self.late(rate), generator_behind=self.late(rate) > 0.05,
            histograms=LoadHistograms(width, _encode([self.fast_ms]), tuple(intervals)))


_WARMUP: dict[int, float] = {}


def settings_warmup(settings: LoadSettings) -> float:
    return _WARMUP[id(settings.credentials)]


def search(model: Model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> CapacityResult:
    credentials = Credentials(user="sandbox", password="s3cret-pass")
    load = LoadSettings(base_url="http://127.0.0.1:9", series_ids=(101,), credentials=credentials,
                        slos=(parse_slo("p95=300ms"), parse_slo("error-rate=0.01")))
    fields: dict[str, Any] = {"start_rate": 100.0, "max_rate": 10_000.0, "step_time_s": 10.0, "warmup_s": 3.0,
                              "precision": 0.05}
    fields.update(overrides)
    settings = CapacitySettings(load=load, **fields)
    _WARMUP[id(credentials)] = settings.warmup_s
    monkeypatch.setattr(capacity, "run_load", model)
    return run_capacity(settings, tmp_path / "out")


def test_grows_then_bisects_to_the_knee_within_the_precision(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    model = Model(knee=730.0)
    result = search(model, tmp_path, monkeypatch)
    assert result.capacity_rps is not None and result.breaking_rps is not None
    assert result.capacity_rps <= 730 < result.breaking_rps <= result.capacity_rps * 1.05
    phases = [step.phase for step in result.steps]
    assert phases[:4] == ["grow"] * 4 and set(phases[4:]) == {"bisect"}
    assert [s.rate for s in result.steps][:5] == [100, 200, 400, 800, 600]  # 800 broke: bisect 400..800
    assert result.verdict == "knee found" and not result.generator_limited
    # The warm-up (5 s answers) is never measured: the steps that held saw only the 20 ms answers.
    assert all(step.latency_ms["max"] < 25 for step in result.steps if step.met)
    assert all(step.measured_s == pytest.approx(10.0) for step in result.steps)


def test_the_first_rate_breaking_shrinks_until_one_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = search(Model(knee=30.0), tmp_path, monkeypatch)
    assert [s.phase for s in result.steps][:3] == ["grow", "shrink", "shrink"]
    assert result.capacity_rps is not None and result.capacity_rps <= 30 < (result.breaking_rps or 0)


def test_a_target_that_holds_at_max_rate_has_at_least_that(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = search(Model(knee=1e9), tmp_path, monkeypatch, max_rate=1000.0)
    assert [s.rate for s in result.steps] == [100, 200, 400, 800, 1000]
    assert result.reached_max_rate and result.capacity_rps == 1000 and result.breaking_rps is None
    assert "at least 1,000 req/s" in render_capacity_table(result, color=False)


def test_no_rate_meeting_the_slos_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = search(Model(knee=0.0), tmp_path, monkeypatch, start_rate=8.0)
    assert result.capacity_rps is None and result.breaking_rps is not None
    assert "no rate met the SLOs" in render_capacity_table(result, color=False)


def test_a_saturated_generator_ends_the_search_and_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The target would hold to 5,000 req/s, but the generator saturates at 800: the result is the generator's
    limit, no capacity, and no step after the saturated one."""
    model = Model(knee=5000.0, cpu=lambda rate: 97.0 if rate >= 800 else 40.0)
    result = search(model, tmp_path, monkeypatch)
    assert result.generator_limited and result.capacity_rps is None
    assert result.generator_limit_rps == pytest.approx(800, rel=0.01)
    assert [s.rate for s in result.steps] == [100, 200, 400, 800]
    table = render_capacity_table(result, color=False)
    assert "FAIL: no capacity measured: the load generator was the limit" in table and "--workers" in table
    assert "the target met every SLO up to 400 req/s" in " ".join(result.notes)


def test_a_generator_behind_its_schedule_ends_the_search_too(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Starved by other processes, the generator's CPU reads low while its sends leave late: that is the limit
    as much as a saturated CPU is, and the steps it spoiled must not be read as the target breaking."""
    model = Model(knee=5000.0, late=lambda rate: 0.3 if rate >= 400 else 0.0)
    result = search(model, tmp_path, monkeypatch)
    assert result.generator_limited and result.capacity_rps is None
    assert [s.rate for s in result.steps] == [100, 200, 400] and result.steps[-1].generator_behind
    assert "fell behind its schedule (30% of its sends late" in " ".join(result.notes)
    assert "(behind schedule)" in render_markdown(capacity_document(result))


def test_the_coupon_cap_bounds_the_whole_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = Model(knee=730.0, coupons_per_step=10)
    credentials = Credentials()
    load = LoadSettings(base_url="http://127.0.0.1:9", series_ids=(101,), credentials=credentials,
                        slos=(parse_slo("p95=300ms"),), max_coupons=25)
    settings = CapacitySettings(load=load, start_rate=100, max_rate=10_000, step_time_s=10, warmup_s=3)
    _WARMUP[id(credentials)] = 3.0
    monkeypatch.setattr(capacity, "run_load", model)
    result = run_capacity(settings, tmp_path / "out")
    assert [c.max_coupons for c in model.calls] == [25, 15, 5]  # each step gets what is left
    assert result.stopped_reason is not None and "--max-coupons reached (25)" in result.stopped_reason
    assert result.capacity_rps == 400 and result.breaking_rps is None  # a lower bound, said as one
    assert "capacity at least 400 req/s (the search stopped" in render_capacity_table(result, color=False)


def test_an_interrupted_step_is_not_counted_and_the_search_stops(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    result = search(Model(knee=730.0, interrupt_at=3), tmp_path, monkeypatch)
    assert result.interrupted and [s.rate for s in result.steps] == [100, 200]
    assert any("step 3 (400 req/s) was interrupted" in note for note in result.notes)


def test_max_steps_stops_an_unfinished_bracket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = search(Model(knee=730.0), tmp_path, monkeypatch, max_steps=5, precision=0.001)
    assert len(result.steps) == 5 and result.stopped_reason is not None and "--max-steps (5)" in result.stopped_reason


def test_a_code_issued_in_two_steps_is_a_duplicate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = search(Model(knee=730.0, duplicate_code="CODE1X0"), tmp_path, monkeypatch)
    assert result.duplicate_codes == 1 and result.violation_counts == {"unique-codes": 1}
    with (tmp_path / "out" / "coupons.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["series_id", "code", "customer_id", "issued_at", "source"]
    assert len(rows) == 1 + result.coupons_issued and rows[1][4] == "load step 1"
    clean = search(Model(knee=730.0), tmp_path / "clean", monkeypatch)
    assert clean.duplicate_codes == 0 and not clean.violation_counts


def test_users_follow_the_rate_and_the_slowest_latency_slo() -> None:
    load = LoadSettings(base_url="http://127.0.0.1:9", series_ids=(101,), slos=(parse_slo("p95=300ms"),))
    settings = CapacitySettings(load=load)
    assert step_users(10, settings) == 10  # 1 s of the rate at least
    assert step_users(1000, settings) == 1000
    assert step_users(1, settings) == 4
    assert step_users(100_000, settings) == 2000
    slow = CapacitySettings(load=LoadSettings(base_url="x", series_ids=(1,), slos=(parse_slo("p99=2s"),)))
    assert step_users(100, slow) == 400
    assert step_users(100, CapacitySettings(load=load, users=7)) == 7


@pytest.mark.parametrize(("fields", "words"), [
    ({"start_rate": 0.0}, "--start-rate"),
    ({"start_rate": 200.0, "max_rate": 100.0}, "--start-rate"),
    ({"step_time_s": 0.5}, "--step-time"),
    ({"precision": 1.0}, "--precision"),
    ({"max_steps": 1}, "--max-steps"),
    ({"growth": 1.0}, "CapacitySettings.growth"),  # a library setting: no flag to name
])
def test_bad_settings_are_one_line(fields: dict[str, Any], words: str) -> None:
    load = LoadSettings(base_url="http://127.0.0.1:9", series_ids=(101,), slos=(parse_slo("p95=300ms"),))
    with pytest.raises(ConfigError, match=words):
        CapacitySettings(load=load, **fields).check()
    with pytest.raises(ConfigError, match="at least one --slo"):
        CapacitySettings(load=LoadSettings(base_url="x", series_ids=(1,))).check()


def test_every_format_says_the_capacity_and_the_steps_and_no_secret(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    result = search(Model(knee=730.0), tmp_path, monkeypatch)
    result.violation_examples = {"schema": "expected a string; received s3cret-pass"}
    result.violation_counts = {"schema": 2}
    redacted = redact_capacity_result(result, Redactor(Credentials(user="sandbox", password="s3cret-pass")).text)
    folder = tmp_path / "reports"
    write_capacity_reports(redacted, folder)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["capacity_rps"] == result.capacity_rps and summary["breaking_rps"] == result.breaking_rps
    assert len(summary["steps"]) == len(result.steps) and summary["steps"][0]["verdict"] == "met"
    assert summary["holds"] is False  # the violation fails the gate
    for name in ("summary.json", "report.md", "report.html"):
        text = (folder / name).read_text()
        assert "s3cret-pass" not in text, name
        assert f"{result.capacity_rps:,.0f}" in text and f"{result.breaking_rps:,.0f}" in text, name
    assert read_stored(folder / "summary.json", CapacityResult) == redacted
    html = render_html(capacity_document(result))
    assert html.count("<svg") == 3  # the latency curve (linear and log) and answered-vs-offered
    assert "SLO p95&lt;=300ms" in html
    markdown = render_markdown(capacity_document(result))
    assert "| grow | 100 |" in markdown


def test_a_summary_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text('{"schema": "coupon-harness/load-summary"}')
    with pytest.raises(ValueError, match="older coupon-harness"):
        read_stored(path, CapacityResult)
    write_load_summary_json(load_result(), path)
    with pytest.raises(ValueError, match="not a coupon-harness/capacity-result record"):
        read_stored(path, CapacityResult)


def test_min_capacity_fails_the_gate_below_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = search(Model(knee=730.0), tmp_path, monkeypatch, min_capacity=1000.0)
    assert "FAIL" in render_capacity_table(result, color=False)
    assert "below --min-capacity 1,000 req/s" in render_capacity_table(result, color=False)
    write_capacity_summary_json(result, tmp_path / "s.json")
    assert json.loads((tmp_path / "s.json").read_text())["holds"] is False
    passing = search(Model(knee=730.0), tmp_path / "p", monkeypatch, min_capacity=500.0)
    assert "PASS" in render_capacity_table(passing, color=False)
