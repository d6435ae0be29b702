"""Four ``external-orders worker`` processes drain 500 due retries together."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from external_orders.bootstrap import Services
from external_orders.clock import SystemClock
from external_orders.simulators.san6 import SimulatorState
from tests.e2e.worker_support import Workers, wait_for, worker_pool
from tests.integration.retry_support import (
    generated_orders,
    import_orders,
    seed_due_retries,
    statuses,
)

RETRIES = 500
WORKERS = 4


@pytest.fixture
def workers(configured: Services, tmp_path: Path) -> Iterator[Workers]:
    yield from worker_pool(configured, tmp_path)


@pytest.mark.slow
def test_four_workers_send_every_one_of_500_retries_exactly_once(
    configured: Services, simulator: SimulatorState, workers: Workers
) -> None:
    """Each retry reaches the simulator once; none is left processing."""
    orders = generated_orders(RETRIES)
    import_orders(configured, orders)
    seed_due_retries(configured.engine, orders, SystemClock().now())

    started = time.perf_counter()
    running = [workers.start() for _ in range(WORKERS)]
    wait_for(
        lambda: statuses(configured.engine) == {"failed": RETRIES, "sent": RETRIES},
        "every retry sent",
        seconds=300,
    )
    elapsed = time.perf_counter() - started
    codes = [worker.stop() for worker in running]

    numbers = Counter(
        (request.xml or "").split("<Referenz>")[1].split("</Referenz>")[0]
        for request in simulator.requests()
    )
    assert codes == [0] * WORKERS
    assert len(simulator.requests()) == RETRIES
    assert set(numbers.values()) == {1}
    assert set(numbers) == {order["orderNumber"] for order in orders}
    assert "processing" not in statuses(configured.engine)
    batches = [
        sum(
            1
            for line in worker.lines()
            if line["message"] == "TopM export retry batch finished."
            and line["processedRetries"]
        )
        for worker in running
    ]
    backend = configured.engine.dialect.name
    print(f"\n{backend}: {RETRIES} retries by {WORKERS} workers in {elapsed:.1f} s")
    print(f"{backend}: batches with retries per worker: {batches}")
