"""Every SQL statement of the runbook's sections 2.2, 2.3, 3.0-3.3, 4 and 5,
run verbatim on MariaDB against a seeded table, with their results checked."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock
from external_orders.services.scheduler import Scheduler
from external_orders.simulators.san6 import SimulatorState
from external_orders.tasks.registry import all_tasks
from tests.integration.retry_support import (
    generated_orders,
    import_orders,
    seed_attempt,
)

RUNBOOK = (
    Path(__file__).resolve().parents[2].parent / "shared/seed/runbook-export-san6.md"
)
SECTIONS = {"2.2": 3, "2.3": 1, "3.0": 1, "3.1": 1, "3.2": 2, "3.3": 1, "4": 3, "5": 1}
HEADING = re.compile(r"^#{2,3}\s+(\d+(?:\.\d+)?)")

on_mariadb = pytest.mark.parametrize("database_url", ["mysql"], indirect=True)


def runbook_statements() -> dict[str, list[str]]:
    """The ```sql blocks of the wanted sections, by section number."""
    if not RUNBOOK.exists():
        pytest.skip(f"runbook not found at {RUNBOOK}")
    found: dict[str, list[str]] = {}
    section, block = "", None
    for line in RUNBOOK.read_text(encoding="utf-8").splitlines():
        if block is not None:
            if line.strip() == "```":
                found.setdefault(section, []).append("\n".join(block))
                block = None
            else:
                block.append(line)
        elif line.strip() == "```sql":
            block = []
        elif match := HEADING.match(line):
            section = match.group(1)
    return {key: value for key, value in found.items() if key in SECTIONS}


@pytest.fixture
def seeded(
    configured: Services, simulator: SimulatorState, clock: FrozenClock
) -> dict[str, Any]:
    """Five orders: a retried chain, a sent one, a permanent failure, a pending
    retry not yet due, and a sent order from an hour ago."""
    orders = generated_orders(5)
    import_orders(configured, orders)
    now = clock.now()
    engine = configured.engine

    def seed(order: int, status: str, minutes_ago: int, **more: Any) -> UUID:
        at = now - timedelta(minutes=minutes_ago)
        return seed_attempt(engine, orders[order], status=status, at=at, **more)

    ids = {
        "a1": seed(0, "failed", 7, due_at=None),
        "a2": seed(
            0, "retry_scheduled", 6, attempts=2, due_at=now - timedelta(minutes=2)
        ),
        "b": seed(1, "sent", 5, attempts=0, due_at=None),
        "c": seed(2, "failed_permanent", 4, due_at=None),
        "d": seed(3, "retry_scheduled", 3, due_at=now + timedelta(minutes=5)),
        "e": seed(4, "sent", 60, attempts=0, due_at=None),
    }
    Scheduler(configured).ensure_registered()
    return {"ids": ids, "orders": orders}


def run(services: Services, statement: str, **values: str) -> list[Any]:
    """The statement's rows, or ``[rowcount]`` for an UPDATE."""
    for name, value in values.items():
        statement = statement.replace(f"<{name}>", value)
    with services.engine.begin() as connection:
        result = connection.exec_driver_sql(statement)
        return list(result.all()) if result.returns_rows else [result.rowcount]


def test_the_runbook_has_the_statements_this_test_knows() -> None:
    """Sections 2.2 to 5 hold 13 SQL statements; a change must be looked at."""
    statements = runbook_statements()

    assert {key: len(value) for key, value in statements.items()} == SECTIONS


@on_mariadb
def test_section_2_2_readings(configured: Services, seeded: dict[str, Any]) -> None:
    """Status counts, the latest 50 attempts, the overdue backlog."""
    counts, latest, overdue = runbook_statements()["2.2"]

    assert dict(run(configured, counts)) == {
        "failed": 1,
        "retry_scheduled": 2,
        "sent": 2,
        "failed_permanent": 1,
    }
    rows = run(configured, latest)
    assert len(rows) == 6
    assert rows[0].export_id == seeded["ids"]["d"].hex
    assert rows[0].order_id == seeded["orders"][3]["id"]
    assert run(configured, overdue)[0].overdue_retries == 1


@on_mariadb
def test_section_2_3_shows_the_retry_task(
    configured: Services, seeded: dict[str, Any], clock: FrozenClock
) -> None:
    """The retry task is there, scheduled every 60 s; a run fills in its times."""
    [query] = runbook_statements()["2.3"]
    [before] = run(configured, query)

    retry = Scheduler(configured)
    retry.tasks = {
        "external_orders.export_retry": all_tasks()["external_orders.export_retry"]
    }
    retry.run_task("external_orders.export_retry")
    [after] = run(configured, query)

    assert (before.name, before.status, before.run_interval) == (
        "external_orders.export_retry",
        "scheduled",
        60,
    )
    assert before.last_execution_time is None
    assert before.next_execution_time is not None
    assert after.status == "scheduled" and after.last_execution_time is not None
    assert after.next_execution_time - after.last_execution_time == timedelta(minutes=1)


@on_mariadb
def test_section_3_kpis_backlog_and_settings(
    configured: Services, seeded: dict[str, Any]
) -> None:
    """KPIs over 15 minutes, failure rate, backlogs and the watched SAN6 keys."""
    statements = runbook_statements()

    [kpi] = run(configured, statements["3.0"][0])
    [rate] = run(configured, statements["3.1"][0])
    backlog, overdue = (run(configured, q)[0] for q in statements["3.2"])
    keys = {row.configuration_key for row in run(configured, statements["3.3"][0])}

    assert (kpi.failed_exports_total, kpi.retry_pending_total) == (1, 2)
    assert float(kpi.oldest_retry_age_minutes) == 2
    assert (float(rate.failure_rate_pct), rate.total_exports) == (80.0, 5)
    assert (backlog.retry_backlog, overdue.overdue_retry_backlog) == (2, 1)
    assert keys == {
        "ExternalOrders.config.externalOrdersSan6BaseUrl",
        "ExternalOrders.config.externalOrdersSan6Authentifizierung",
        "ExternalOrders.config.externalOrdersSan6SendStrategy",
    }


@on_mariadb
def test_section_4_manual_resume_by_a_forced_retry(
    configured: Services,
    seeded: dict[str, Any],
    simulator: SimulatorState,
    clock: FrozenClock,
) -> None:
    """4.1 finds the failed attempt, 4.5 forces its retry, a run sends it, 4.4
    shows sent with response_code 0."""
    identify, validate, force = runbook_statements()["4"]
    order_id = str(UUID(seeded["orders"][2]["id"]))
    export_id = str(seeded["ids"]["c"])

    [found] = run(configured, identify, orderId=order_id)
    assert (found.export_id, found.status) == (UUID(export_id).hex, "failed_permanent")
    assert [r.status for r in run(configured, validate, orderId=order_id)] == [
        "failed_permanent"
    ]
    assert run(configured, force, exportId=export_id) == [1]

    clock.advance(minutes=1)
    retry = Scheduler(configured)
    retry.tasks = {
        "external_orders.export_retry": all_tasks()["external_orders.export_retry"]
    }
    retry.run_task("external_orders.export_retry")
    latest, forced = run(configured, validate, orderId=order_id)

    assert (latest.status, latest.response_code, latest.attempts) == ("sent", "0", 1)
    assert forced.status == "failed"
    assert len(simulator.requests()) == 2  # the forced one and order A's due retry


@on_mariadb
def test_section_5_support_view(configured: Services, seeded: dict[str, Any]) -> None:
    """The support view lists every attempt, latest update first."""
    [query] = runbook_statements()["5"]

    rows = run(configured, query)

    assert {row.export_id for row in rows} == {i.hex for i in seeded["ids"].values()}
    assert rows[0].export_id == seeded["ids"]["d"].hex
    assert [row.status for row in rows][-1] == "sent"
