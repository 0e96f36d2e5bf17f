"""--prometheus-port: the aggregating process serves live figures (prometheus_client's format) that rise during
the run and end close to the report's; without the flag nothing listens; a port in use is one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
from prometheus_client.parser import text_string_to_metric_families
from tests.sockets import listening_socket

from coupon_harness.errors import HarnessError
from coupon_harness.results.load import LoadRunResult
from coupon_harness.runners.load.runner import run_load
from coupon_harness.sandbox.config import Faults, SandboxConfig
from coupon_harness.sandbox.server import running_sandbox
from load.support import describe, load_settings

CLI = str(Path(sys.executable).with_name("coupon-harness"))


def _load_processes() -> list[list[str]]:
    """The command lines of the load processes among this process's children."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            command = child.cmdline()
        except psutil.Error:
            continue
        if "coupon_harness.runners.load.process" in command:
            found.append([str(child.pid), *command])
    return found


def _metrics_port(done: threading.Event) -> int | None:
    """The port the aggregating process (local or master) serves its figures on: it was given port 0 and bound a
    free one itself. A master also listens for its workers, on the port their command lines name."""
    while not done.is_set():
        commands = _load_processes()
        aggregator = next((c for c in commands if {"local", "master"} & set(c)), None)
        workers = {int(c[c.index("--master-port") + 1]) for c in commands if "worker" in c}
        if aggregator is not None and ("local" in aggregator or workers):
            try:
                listening = {c.laddr.port for c in psutil.Process(int(aggregator[0])).net_connections("tcp")
                             if c.status == psutil.CONN_LISTEN}
            except psutil.Error:
                return None  # it ended first
            if len(listening - workers) == 1:
                return (listening - workers).pop()
        time.sleep(0.05)
    return None


def _scrape(port: int) -> dict[str, dict[tuple[tuple[str, str], ...], float]] | None:
    """name -> {labels: value} of every sample at 127.0.0.1:port/metrics; None while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def _total(scrape: dict[str, Any], name: str) -> float:
    return float(sum(scrape.get(name, {}).values()))


def _run_scraped(tmp_path: Path, **overrides: Any) -> tuple[LoadRunResult, list[dict[str, Any]], int | None]:
    """A run with --prometheus-port 0, scraped every half second; also the port it served on."""
    scrapes: list[dict[str, Any]] = []
    done = threading.Event()
    ports: list[int | None] = []

    def watch() -> None:
        port = _metrics_port(done)
        ports.append(port)
        while port is not None and not done.is_set():
            scrape = _scrape(port)
            if scrape is not None:
                scrapes.append(scrape)
            time.sleep(0.5)

    config = SandboxConfig(faults=Faults(error_rate=0.05, latency_ms=(1.0, 5.0)))
    with running_sandbox(config) as sandbox:
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            result = run_load(load_settings(sandbox.base_url, users=10, run_time_s=6.0, prometheus_port=0,
                                            **overrides), tmp_path / "out")
        finally:
            done.set()
            watcher.join(timeout=35)
    return result, scrapes, ports[0] if ports else None


def _check_scrapes(result: LoadRunResult, scrapes: list[dict[str, Any]]) -> None:
    why = describe(result) + f"\nscrapes: {len(scrapes)}"
    assert len(scrapes) >= 4, why
    requests = [_total(s, "coupon_harness_requests_total") for s in scrapes]
    assert requests == sorted(requests) and requests[-1] > requests[0], requests  # they rise, never fall
    last = scrapes[-1]
    # The last scrape lags the report by the last second or so of the run (on a master, the workers' last report:
    # every 3 s), more on a busy machine: roughly the report's figures, never more.
    assert 0.5 * result.requests <= requests[-1] <= result.requests, (requests[-1], why)
    by_status = {dict(labels)["status"]: value for labels, value in last["coupon_harness_requests_total"].items()}
    assert by_status.get("200", 0) > 0 and set(by_status) <= set(result.status_counts), (by_status, why)
    errors = _total(last, "coupon_harness_errors_total")
    assert 0 < errors <= sum(result.violation_counts.values()) + 1, (errors, why)
    assert errors == _total(last, "coupon_harness_contract_violations_total"), last  # every error a 5xx here
    rules = {dict(labels)["rule"] for labels in last["coupon_harness_contract_violations_total"]}
    assert rules == {"no-server-error"}, rules
    coupons = _total(last, "coupon_harness_coupons_issued_total")
    assert 0.5 * result.coupons_issued <= coupons <= result.coupons_issued, (coupons, why)
    assert _total(last, "coupon_harness_duplicate_codes_total") == 0
    assert "coupon_harness_entity_failures_total" in last
    assert "coupon_harness_generator_cpu_percent" in last
    histogram = last["coupon_harness_latency_seconds_count"]
    assert sum(histogram.values()) == requests[-1], last
    quantiles = {dict(labels)["quantile"]: value for labels, value in last["coupon_harness_latency_quantile_seconds"]
                 .items()}
    assert set(quantiles) == {"0.5", "0.9", "0.95", "0.99", "1"}, quantiles
    assert 0 < quantiles["0.5"] <= quantiles["0.95"] <= quantiles["1"], quantiles
    p95_ms = quantiles["0.95"] * 1000
    assert p95_ms <= result.latency_ms["max"], why
    assert result.latency_ms["p95"] / 3 - 5 <= p95_ms <= 3 * result.latency_ms["p95"] + 5, (p95_ms, why)
    users = [_total(s, "coupon_harness_users") for s in scrapes]
    assert max(users) == 10, users


def test_a_local_run_serves_live_figures_that_match_the_report(tmp_path: Path) -> None:
    result, scrapes, port = _run_scraped(tmp_path)
    _check_scrapes(result, scrapes)
    assert port is not None and _scrape(port) is None  # the endpoint ends with the run


def test_a_distributed_run_serves_them_from_the_master(tmp_path: Path) -> None:
    result, scrapes, _ = _run_scraped(tmp_path, workers=2)
    _check_scrapes(result, scrapes)


def test_without_the_flag_nothing_listens(tmp_path: Path) -> None:
    listening: list[set[int]] = []
    done = threading.Event()
    me = psutil.Process()

    def watch() -> None:
        while not done.is_set():
            for child in me.children(recursive=True):
                try:
                    if "coupon_harness.runners.load.process" in " ".join(child.cmdline()):
                        listening.append({c.laddr.port for c in child.net_connections("tcp")
                                          if c.status == psutil.CONN_LISTEN})
                except psutil.Error:
                    continue
            time.sleep(0.3)

    with running_sandbox() as sandbox:
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            result = run_load(load_settings(sandbox.base_url, users=4, run_time_s=3.0), tmp_path / "out")
        finally:
            done.set()
            watcher.join(timeout=5)
    assert result.requests > 0, describe(result)
    assert listening, "the load process was never seen"
    assert all(ports == set() for ports in listening), listening


def test_a_port_in_use_is_one_line_exit_2(tmp_path: Path) -> None:
    with listening_socket() as taken:
        port = taken.getsockname()[1]
        with running_sandbox() as sandbox:
            done = subprocess.run([CLI, "load", "--base-url", sandbox.base_url, "--run-time", "2s",
                                   "--prometheus-port", str(port), "--report-dir", str(tmp_path / "report")],
                                  capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 2, done
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            assert len(lines) == 1, done.stderr
            assert f"--prometheus-port {port}" in lines[0] and "choose a free port" in lines[0], lines
            assert not (tmp_path / "report").exists()
            # The load process refuses it the same way (a port taken after the CLI's own check).
            try:
                run_load(load_settings(sandbox.base_url, users=1, run_time_s=2.0, prometheus_port=port),
                         tmp_path / "out")
            except HarnessError as exc:
                assert f"--prometheus-port {port}" in str(exc) and "\n" not in str(exc), exc
            else:
                raise AssertionError("a taken port was not refused")


def test_prometheus_host_alone_is_refused() -> None:
    done = subprocess.run([CLI, "load", "--base-url", "http://127.0.0.1:9", "--series-ids", "101", "--user", "u:p",
                           "--prometheus-host", "0.0.0.0"], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2, done
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--prometheus-port" in lines[0], done.stderr
