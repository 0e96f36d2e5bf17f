"""`--prometheus-port`: live figures of a load run for dashboards, with the Prometheus client library.

The process that aggregates serves them at http://HOST:PORT/metrics, from a collector in a registry of its
own that reads the run's `Aggregate` at each scrape. No text from the target and no credential: labels are
statuses and rule ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from coupon_harness.errors import ConfigError

__all__ = ["LATENCY_BUCKETS_S", "LoadCollector", "serve"]

#: Upper bounds of the latency histogram's buckets, seconds (Prometheus's defaults, widened to a minute).
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0, 60.0)
_QUANTILES = (50.0, 90.0, 95.0, 99.0)
P = "coupon_harness_"


class LoadCollector(Collector):
    """The run's figures at scrape time. `aggregate`: the run's `Aggregate` (recorder.py); `users`: the users
    running now; `cpu`: the generators' CPU (percent of one core) over the last seconds, or None."""

    def __init__(self, aggregate: Any, users: Callable[[], int], cpu: Callable[[], float | None]) -> None:
        self.aggregate = aggregate
        self.users = users
        self.cpu = cpu

    def describe(self) -> list[Metric]:
        return []  # registering must not read the aggregate; the families are known at scrape

    def collect(self) -> Iterator[Metric]:
        aggregate = self.aggregate
        counters = aggregate.counters
        yield _by_label("requests", "Answers received (or requests that got none: status 'transport'), by status",
                        "status", aggregate.statuses)
        yield CounterMetricFamily(P + "errors", "Requests that failed: not 200, no answer, or a 200 breaking the "
                                  "contract (the error rate's numerator)", value=float(counters["errors"]))
        yield _by_label("contract_violations", "Contract violations, by rule id", "rule", aggregate.violations)
        yield CounterMetricFamily(P + "coupons_issued", "Coupons the target issued (each code once, as in "
                                  "coupons.csv)", value=float(aggregate.coupons_issued))
        yield CounterMetricFamily(P + "duplicate_codes", "Codes handed out more than once (unique-codes)",
                                  value=float(aggregate.duplicates))
        yield CounterMetricFamily(P + "entities", "Entities (customer x series) answered",
                                  value=float(counters["entities"]))
        failures = CounterMetricFamily(P + "entity_failures", "Entities answered with an error: all of them, "
                                       "and those of valid series (the failure ratio's numerator)",
                                       labels=["series"])
        failures.add_metric(["all"], float(counters["entity_failures"]))
        failures.add_metric(["valid"], float(counters["unexpected_failures"]))
        yield failures
        yield from self._latency(aggregate.total)
        yield GaugeMetricFamily(P + "users", "Users running now", value=float(self.users()))
        cpu = self.cpu()
        if cpu is not None:
            yield GaugeMetricFamily(P + "generator_cpu_percent", "The busiest load generator process's CPU over "
                                    "the last seconds (percent of one core; above 90 the latencies measure the "
                                    "generator)", value=cpu)

    def _latency(self, total: Any) -> Iterator[Metric]:
        count = int(total.get_total_count())
        cumulative = [0] * len(LATENCY_BUCKETS_S)
        if count:
            for item in total.get_recorded_iterator():
                seconds = item.value_iterated_to / 1_000_000.0
                for index, bound in enumerate(LATENCY_BUCKETS_S):
                    if seconds <= bound:
                        cumulative[index] += int(item.count_added_in_this_iter_step)
        buckets = [(f"{bound:g}", float(n)) for bound, n in zip(LATENCY_BUCKETS_S, cumulative, strict=True)]
        buckets.append(("+Inf", float(count)))
        total_s = float(total.get_mean_value()) * count / 1_000_000.0 if count else 0.0
        yield HistogramMetricFamily(P + "latency_seconds", "Latency of every answer, run-wide (from the HDR "
                                    "histogram)", buckets=buckets, sum_value=total_s)
        quantiles = GaugeMetricFamily(P + "latency_quantile_seconds", "Run-wide latency percentiles, exact (HDR "
                                      "histogram), as the report computes them; quantile 1 is the max",
                                      labels=["quantile"])
        if count:
            for percentile in _QUANTILES:
                quantiles.add_metric([f"{percentile / 100:g}"], total.get_value_at_percentile(percentile) / 1e6)
            quantiles.add_metric(["1"], total.get_max_value() / 1e6)
        yield quantiles


def _by_label(name: str, documentation: str, label: str, counts: Any) -> Metric:
    family = CounterMetricFamily(P + name, documentation, labels=[label])
    for key, count in sorted(counts.items()):
        family.add_metric([str(key)], float(count))
    return family


def serve(collector: LoadCollector, host: str, port: int) -> Any:
    """Serve `collector` (in a registry of its own) at http://host:port/metrics; ConfigError (exit 2, one line)
    when the port cannot be bound. Returns the server (its `shutdown()` stops it)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"--prometheus-port {port}: cannot listen on {host}:{port} ({reason}): choose a free "
                          "port") from None
    return server
