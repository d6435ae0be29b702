"""``GET /metrics`` over real HTTP: instruments, KPI gauges, the retry task."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from external_orders.adapters.db.schema import scheduled_task
from external_orders.bootstrap import Services
from external_orders.domain.order import order_id_of
from external_orders.entrypoints.api.app import create_app
from external_orders.simulators.sample_orders import sample_files
from external_orders.simulators.san6 import Faults, SimulatorState
from external_orders.simulators.server import BackgroundServer

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def api(configured: Services) -> Iterator[str]:
    with BackgroundServer(create_app(configured)) as server:
        yield server.url


def scrape(url: str) -> tuple[httpx.Response, Samples]:
    response = httpx.get(f"{url}/metrics", timeout=10)
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return response, samples


def kpi(samples: Samples, name: str) -> float:
    return samples[("external_orders_kpi", (("kpi", name),))]


def finished(samples: Samples, status: str, trigger: str = "manual") -> float:
    labels = (("status", status), ("trigger", trigger))
    return samples[("external_orders_export_attempts_finished_total", labels)]


@pytest.mark.mysql
def test_metrics_need_no_token_and_use_the_text_format(api: str) -> None:
    """A scrape without credentials gets 200 in Prometheus text format 0.0.4."""
    response, samples = scrape(api)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert samples[("external_orders_database_up", ())] == 1
    assert kpi(samples, "failed_exports_total") == 0


@pytest.mark.mysql
def test_exports_move_the_counters_histogram_and_kpis(
    api: str, configured: Services, simulator: SimulatorState
) -> None:
    """One sent and one 503: counters by status, two SAN6 durations, KPIs at scrape."""
    configured.file_orders.import_files(sample_files()[:2])
    first, second = (order_id_of(o) for o in configured.file_orders.all())
    configured.exporter.export(first)
    simulator.set_faults(Faults(http_status=503))
    configured.exporter.export(second)

    _response, samples = scrape(api)

    assert finished(samples, "sent") == 1
    assert finished(samples, "retry_scheduled") == 1
    assert finished(samples, "failed_permanent") == 0
    histogram = "external_orders_san6_request_duration_seconds_count"
    assert samples[(histogram, (("outcome", "answered"),))] == 1
    assert samples[(histogram, (("outcome", "unavailable"),))] == 1
    assert kpi(samples, "failed_exports_total") == 1
    assert kpi(samples, "retry_pending_total") == 1
    assert kpi(samples, "failure_rate_pct") == 50
    assert samples[("external_orders_kpi_level", (("kpi", "failure_rate_pct"),))] == 2
    threshold = (("kpi", "retry_pending_total"), ("severity", "critical"))
    assert samples[("external_orders_kpi_threshold", threshold)] == 100


@pytest.mark.mysql
def test_the_last_retry_task_run_is_read_from_scheduled_task(
    api: str, configured: Services
) -> None:
    """The gauge carries scheduled_task.last_execution_time of export_retry."""
    configured.scheduled_tasks.register({"external_orders.export_retry": 60})
    ran = configured.clock.now() - timedelta(minutes=3)
    with configured.engine.begin() as connection:
        connection.execute(
            sa.update(scheduled_task)
            .where(scheduled_task.c.name == "external_orders.export_retry")
            .values(last_execution_time=ran)
        )

    _response, samples = scrape(api)

    gauge = ("external_orders_retry_task_last_run_timestamp_seconds", ())
    assert samples[gauge] == pytest.approx(ran.timestamp(), abs=0.001)


def test_a_database_without_tables_is_a_gauge_not_an_error(
    services: Services, tmp_path: Path
) -> None:
    """When the KPIs cannot be read the scrape still answers, with database_up 0."""
    settings = services.settings
    empty = settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"}
    )
    broken = Services(empty)
    with BackgroundServer(create_app(broken)) as server:
        response, samples = scrape(server.url)
    broken.close()

    assert response.status_code == 200
    assert samples[("external_orders_database_up", ())] == 0
    assert not any(name == "external_orders_kpi" for name, _ in samples)
    assert "Metrics could not read the database." in settings.log_file.read_text()
