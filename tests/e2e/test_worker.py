"""``external-orders worker`` as a process: retries, SIGTERM, SIGKILL.

The worker's clock is moved through the minutes of backoff by its test hook
``EXTERNAL_ORDERS_CLOCK_OFFSET_FILE`` (seconds ahead of the system clock),
never by sleeping.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from external_orders.adapters.db.schema import external_order_export as t
from external_orders.bootstrap import Services
from external_orders.clock import SystemClock
from external_orders.simulators.san6 import Faults, SimulatorState
from tests.e2e.worker_support import (
    COMMAND,
    Workers,
    set_clock_offset,
    wait_for,
    worker_pool,
)
from tests.integration.retry_support import (
    generated_orders,
    import_orders,
    rows_of,
    seed_due_retries,
    statuses,
)


@pytest.fixture
def workers(configured: Services, tmp_path: Path) -> Iterator[Workers]:
    yield from worker_pool(configured, tmp_path)


def received_numbers(simulator: SimulatorState) -> list[str]:
    return [
        (request.xml or "").split("<Referenz>")[1].split("</Referenz>")[0]
        for request in simulator.requests()
    ]


def chain(services: Services, order_id: UUID) -> list[tuple[str, int]]:
    return [(row.status, row.attempts) for row in rows_of(services.engine, order_id)]


def export_once(services: Services, workers: Workers, order_id: UUID) -> int:
    """``external-orders export`` in its own process, as an operator runs it."""
    env = {
        "EXTERNAL_ORDERS_DATABASE_URL": services.settings.database_url,
        "EXTERNAL_ORDERS_ORDER_DIR": str(services.settings.order_dir),
        "EXTERNAL_ORDERS_LOG_DIR": str(workers.folder / "cli-log"),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [str(COMMAND), "export", order_id.hex],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return done.returncode


def test_a_worker_sends_an_order_that_fails_twice_then_recovers(
    configured: Services,
    simulator: SimulatorState,
    workers: Workers,
    tmp_path: Path,
) -> None:
    """Fails twice, then sent: three rows failed(1), failed(2), sent(2)."""
    [order] = generated_orders(1)
    [order_id] = import_orders(configured, [order])
    simulator.set_faults(Faults(http_status=503, fail_count=2))
    offset = tmp_path / "clock-offset"
    set_clock_offset(offset, 0)

    assert export_once(configured, workers, order_id) == 1
    worker = workers.start(EXTERNAL_ORDERS_CLOCK_OFFSET_FILE=str(offset))
    set_clock_offset(offset, 5 * 60 + 1)
    first_retry = [("failed", 1), ("retry_scheduled", 2)]
    wait_for(lambda: chain(configured, order_id) == first_retry, "the first retry")
    set_clock_offset(offset, 15 * 60 + 2)
    wait_for(lambda: chain(configured, order_id)[-1][0] == "sent", "the second retry")

    assert worker.stop() == 0
    assert chain(configured, order_id) == [("failed", 1), ("failed", 2), ("sent", 2)]
    assert len(simulator.requests()) == 3
    finished = [
        line
        for line in worker.lines()
        if line["message"] == "TopM export retry batch finished."
    ]
    assert [
        line["processedRetries"] for line in finished if line["processedRetries"]
    ] == [1, 1]
    assert {"scheduledRetries", "processedRetries"} <= set(finished[0])
    assert worker.messages()[-1] == "Worker stopped."


def test_sigterm_finishes_the_attempts_in_flight_and_gives_back_the_rest(
    configured: Services, simulator: SimulatorState, workers: Workers
) -> None:
    """Stopped mid-batch: exit 0, nothing processing, unsent retries due as before."""
    orders = generated_orders(20)
    import_orders(configured, orders)
    due = seed_due_retries(configured.engine, orders, SystemClock().now())
    simulator.set_faults(Faults(latency_seconds=0.5))

    worker = workers.start()
    wait_for(lambda: len(simulator.requests()) >= 1, "the first request")

    assert worker.stop(signal.SIGTERM) == 0
    counts = statuses(configured.engine)
    sent = counts.get("sent", 0)
    assert "processing" not in counts
    assert 1 <= sent < 20 and sent == len(simulator.requests())
    left = {i: configured.exports.get(i) for i in due}
    pending = {
        i: a.next_retry_at for i, a in left.items() if a.status.value != "failed"
    }
    assert len(pending) == 20 - sent
    assert pending == {i: due[i] for i in pending}
    messages = worker.messages()
    assert "Worker stopping." in messages and messages[-1] == "Worker stopped."


def _interrupted(services: Services) -> list[Any]:
    query = sa.select(t).where(t.c.last_error.like("attempt interrupted%"))
    with services.engine.connect() as connection:
        return list(connection.execute(query).all())


def test_a_worker_killed_mid_batch_loses_nothing_and_leaves_nothing_stuck(
    configured: Services,
    simulator: SimulatorState,
    workers: Workers,
    tmp_path: Path,
) -> None:
    """SIGKILL mid-batch, then a new worker: every order sent, none processing."""
    orders = generated_orders(40)
    import_orders(configured, orders)
    seed_due_retries(configured.engine, orders, SystemClock().now())
    simulator.set_faults(Faults(latency_seconds=0.3))
    offset = tmp_path / "clock-offset"
    workers.env.update(
        EXTERNAL_ORDERS_PROCESSING_STALE_SECONDS="3",
        EXTERNAL_ORDERS_TASK_LEASE_SECONDS="2",
        EXTERNAL_ORDERS_CLOCK_OFFSET_FILE=str(offset),
    )

    killed = workers.start()
    wait_for(lambda: len(simulator.requests()) >= 6, "the second round of sends")
    assert killed.stop(signal.SIGKILL) == -signal.SIGKILL
    stuck = statuses(configured.engine).get("processing", 0)
    simulator.clear_faults()

    # An hour later: the lease, the claims and the stale limit have all run out.
    set_clock_offset(offset, 3600)
    successor = workers.start()
    wait_for(
        lambda: (
            "processing" not in statuses(configured.engine)
            and statuses(configured.engine).get("retry_scheduled", 0)
            == len(_interrupted(configured))
        ),
        "the interrupted attempts recovered, the rest sent",
    )
    # Their retries come 10 minutes after the recovery.
    set_clock_offset(offset, 3600 + 20 * 60)
    wait_for(
        lambda: set(statuses(configured.engine)) == {"failed", "sent"},
        "every retry sent",
    )

    assert successor.stop() == 0
    assert stuck >= 1 and len(_interrupted(configured)) == stuck
    for order in orders:
        latest = configured.exports.latest(UUID(order["id"]))
        assert latest is not None and latest.status.value == "sent"
    numbers = received_numbers(simulator)
    assert set(numbers) == {order["orderNumber"] for order in orders}
    # A killed attempt may have reached SAN6 before the kill: sent again.
    assert len(numbers) <= len(orders) + stuck
