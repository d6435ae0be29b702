"""Prometheus metrics of the service (prometheus_client), for ``GET /metrics``.

Two kinds:

- instruments fed by the exporter's listeners, per process: finished
  attempts by status and trigger, and the duration of SAN6 requests;
- gauges read from the database at each scrape, the same whichever
  process serves them: the KPIs of runbook section 3
  (``external_orders_kpi{kpi="..."}``), their thresholds and levels, and
  the last run of the retry task.

Processes do not share the instruments: with the API and the worker in
separate processes, set ``PROMETHEUS_MULTIPROC_DIR`` to one empty folder
for all of them (prometheus_client's multiprocess mode) and the scrape
adds them up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from external_orders.domain.attempt import Attempt, Status, Trigger
from external_orders.domain.kpi import KpiSnapshot, Level
from external_orders.logs import log_event
from external_orders.services.export import Exporter
from external_orders.services.kpi import KpiService

RETRY_TASK = "external_orders.export_retry"
SAN6_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
FINAL_STATUSES = (Status.SENT, Status.RETRY_SCHEDULED, Status.FAILED_PERMANENT)


class ExportMetrics:
    """The service's instruments, in a registry of their own (one per Services)."""

    def __init__(self, kpis: KpiService) -> None:
        self.registry = CollectorRegistry()
        self.attempts = Counter(
            "external_orders_export_attempts_finished",
            "Export attempts closed by this process, by status and trigger.",
            ["status", "trigger"],
            registry=self.registry,
        )
        self.san6_duration = Histogram(
            "external_orders_san6_request_duration_seconds",
            "Duration of SAN6 write requests; outcome answered or unavailable.",
            ["outcome"],
            buckets=SAN6_BUCKETS,
            registry=self.registry,
        )
        for status in FINAL_STATUSES:
            for trigger in Trigger:
                self.attempts.labels(status.value, trigger.value)
        self.collector = KpiCollector(kpis)
        self.registry.register(self.collector)

    def watch(self, exporter: Exporter) -> None:
        """Count every attempt and SAN6 call ``exporter`` makes from now on."""
        exporter.on_finished.append(self.attempt_finished)
        exporter.on_san6_call.append(self.san6_called)

    def attempt_finished(self, attempt: Attempt) -> None:
        self.attempts.labels(attempt.status.value, attempt.trigger.value).inc()

    def san6_called(self, duration_seconds: float, outcome: str) -> None:
        self.san6_duration.labels(outcome).observe(max(duration_seconds, 0.0))

    def render(self) -> bytes:
        """The text exposition format of every metric, KPIs read now."""
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(self.collector)
        return generate_latest(registry)


class KpiCollector(Collector):
    """Reads the KPIs at every scrape: three indexed queries, no cache."""

    def __init__(self, kpis: KpiService) -> None:
        self.kpis = kpis

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "external_orders_database_up",
            "1 when the scrape could read the KPIs from the database, else 0.",
        )
        try:
            snapshot = self.kpis.snapshot()
            last_run = self.kpis.store.last_task_run(RETRY_TASK)
        except sa.exc.SQLAlchemyError as error:
            log_event(
                "Metrics could not read the database.",
                level=logging.WARNING,
                error=str(getattr(error, "orig", None) or error).splitlines()[0],
            )
            up.add_metric([], 0)
            yield up
            return

        up.add_metric([], 1)
        yield up
        yield from _kpi_families(self.kpis, snapshot)
        last = GaugeMetricFamily(
            "external_orders_retry_task_last_run_timestamp_seconds",
            "scheduled_task.last_execution_time of external_orders.export_retry.",
        )
        if last_run is not None:
            last.add_metric([], last_run.timestamp())
        yield last


def _kpi_families(kpis: KpiService, snapshot: KpiSnapshot) -> Iterator[Metric]:
    values = GaugeMetricFamily(
        "external_orders_kpi",
        "KPIs of runbook section 3, read from external_order_export at scrape.",
        labels=["kpi"],
    )
    levels = GaugeMetricFamily(
        "external_orders_kpi_level",
        "Level of each KPI against its configured thresholds: 0 ok, 1 warning, "
        "2 critical.",
        labels=["kpi"],
    )
    thresholds = GaugeMetricFamily(
        "external_orders_kpi_threshold",
        "Configured thresholds of each KPI, by severity.",
        labels=["kpi", "severity"],
    )
    for kpi in snapshot.values.values():
        values.add_metric([kpi.name], kpi.value)
        levels.add_metric([kpi.name], kpi.level.rank)
        for level in (Level.WARNING, Level.CRITICAL):
            limit = kpi.thresholds.threshold(level)
            if limit is not None:
                thresholds.add_metric([kpi.name, level.value], limit)
    window = GaugeMetricFamily(
        "external_orders_kpi_window_seconds",
        "Length of the sliding window of the windowed KPIs.",
        value=kpis.window_minutes * 60,
    )
    attempts = GaugeMetricFamily(
        "external_orders_window_attempts",
        "Export attempts created in the KPI window.",
        value=snapshot.attempts_in_window,
    )
    yield from (values, levels, thresholds, window, attempts)
