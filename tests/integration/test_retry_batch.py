"""The retry task on real databases with the SAN6 simulator, clock frozen."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from external_orders.adapters.db.schema import external_order_export as t
from external_orders.adapters.san6.answer import San6Answer
from external_orders.adapters.san6.client import San6Client
from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock
from external_orders.clock import millisecond as ms
from external_orders.domain import san6_config as keys
from external_orders.domain.san6_config import San6Config
from external_orders.errors import ExportInFlight
from external_orders.services.retry import RetryBatch
from external_orders.services.scheduler import Scheduler
from external_orders.simulators.san6 import Faults, SimulatorState
from external_orders.tasks.registry import all_tasks, stopping_on
from tests.integration.retry_support import (
    generated_orders,
    import_orders,
    log_messages,
    rows_of,
    seed_attempt,
    seed_due_retries,
    statuses,
)

RETRY = "external_orders.export_retry"


@pytest.fixture
def orders(configured: Services) -> list[dict[str, Any]]:
    """Thirty orders in the order folder."""
    generated = generated_orders(30)
    import_orders(configured, generated)
    return generated


def retry_scheduler(services: Services) -> Scheduler:
    """The scheduler with the retry task only (no new-order export, no alerts)."""
    scheduler = Scheduler(services)
    scheduler.tasks = {RETRY: all_tasks()[RETRY]}
    return scheduler


def received_numbers(simulator: SimulatorState) -> list[str]:
    numbers = []
    for request in simulator.requests():
        assert request.xml is not None
        numbers.append(request.xml.split("<Referenz>")[1].split("</Referenz>")[0])
    return numbers


def test_a_run_takes_the_twenty_most_overdue_retries(
    configured: Services,
    simulator: SimulatorState,
    orders: list[dict[str, Any]],
    clock: FrozenClock,
) -> None:
    """25 due: the 20 oldest are sent, 5 stay pending; both log lines say so."""
    due = seed_due_retries(configured.engine, orders[:25], clock.now())

    report = retry_scheduler(configured).run_task(RETRY)

    assert (report["scheduledRetries"], report["processedRetries"]) == (20, 20)
    assert sorted(received_numbers(simulator)) == [
        o["orderNumber"] for o in orders[:20]
    ]
    pending = [i for i in due if configured.exports.get(i).status.value != "failed"]
    assert pending == list(due)[20:]
    lines = log_messages(configured.settings.log_file)
    [started] = [x for x in lines if x["message"] == "TopM export retry batch started."]
    [done] = [x for x in lines if x["message"] == "TopM export retry batch finished."]
    assert started["scheduledRetries"] == 20
    assert (done["scheduledRetries"], done["processedRetries"]) == (20, 20)
    assert done["overdueRetries"] == 5


def test_retries_follow_the_backoff_then_become_permanent(
    configured: Services,
    simulator: SimulatorState,
    orders: list[dict[str, Any]],
    clock: FrozenClock,
) -> None:
    """Worker ticks at +5, +10, +15, +20, +25 minutes, then failed_permanent."""
    simulator.set_faults(Faults(response_code="9", response_message="kaputt"))
    order_id = UUID(orders[0]["id"])
    attempt = configured.exporter.export(order_id)
    scheduler = retry_scheduler(configured)
    delays = []

    while attempt.status.value == "retry_scheduled":
        assert attempt.next_retry_at is not None
        delays.append(round((attempt.next_retry_at - clock.now()).total_seconds() / 60))
        clock.set(attempt.next_retry_at - timedelta(seconds=1))
        assert configured.exports.overdue_count() == 0
        clock.set(attempt.next_retry_at)
        [run] = scheduler.run_due()
        assert run.report["processedRetries"] == 1
        latest = configured.exports.latest(order_id)
        assert latest is not None
        attempt = latest

    assert delays == [5, 10, 15, 20, 25]
    assert (attempt.status.value, attempt.attempts) == ("failed_permanent", 6)
    assert len(simulator.requests()) == 6
    assert statuses(configured.engine) == {"failed": 5, "failed_permanent": 1}


def test_a_chain_that_recovers_ends_sent_after_three_rows(
    configured: Services,
    simulator: SimulatorState,
    orders: list[dict[str, Any]],
    clock: FrozenClock,
) -> None:
    """Two failures then success: failed(1), failed(2), sent(2)."""
    simulator.set_faults(Faults(http_status=503, fail_count=2))
    order_id = UUID(orders[0]["id"])
    scheduler = retry_scheduler(configured)
    first = configured.exporter.export(order_id)

    for minutes in (5, 10):
        clock.advance(minutes=minutes)
        scheduler.run_due()

    rows = [(r.status, r.attempts) for r in rows_of(configured.engine, order_id)]
    assert first.status.value == "retry_scheduled"
    assert rows == [("failed", 1), ("failed", 2), ("sent", 2)]


def test_a_forced_retry_of_any_row_is_taken_by_the_next_run(
    configured: Services,
    simulator: SimulatorState,
    orders: list[dict[str, Any]],
    clock: FrozenClock,
) -> None:
    """Runbook 4.5 on a failed_permanent row: the next run continues its chain."""
    configured.config.unset(keys.PRODUCT)
    order_id = UUID(orders[0]["id"])
    stuck = configured.exporter.export(order_id)
    configured.config.set(keys.PRODUCT, simulator.product)
    clock.advance(seconds=30)

    with configured.engine.begin() as connection:
        connection.execute(
            t.update()
            .where(t.c.id == stuck.id)
            .values(status="retry_scheduled", next_retry_at=clock.now())
        )
    retry_scheduler(configured).run_task(RETRY)

    latest = configured.exports.latest(order_id)
    assert stuck.status.value == "failed_permanent"
    assert latest is not None and latest.status.value == "sent"
    assert (latest.retry_of, latest.chain_id) == (stuck.id, stuck.chain_id)
    assert configured.exports.get(stuck.id).status.value == "failed"


def test_an_interrupted_attempt_is_recovered_before_the_batch(
    configured: Services,
    simulator: SimulatorState,
    orders: list[dict[str, Any]],
    clock: FrozenClock,
) -> None:
    """processing for longer than 2 x timeout + 60 s: retry_scheduled, +5 min."""
    old = configured.exports.begin(UUID(orders[0]["id"]), _manual())
    clock.advance(seconds=63)
    young = configured.exports.begin(UUID(orders[1]["id"]), _manual())
    clock.advance(seconds=2)

    report = retry_scheduler(configured).run_task(RETRY)

    recovered = configured.exports.get(old.id)
    assert report["recoveredInterrupted"] == 1
    assert (recovered.status.value, recovered.attempts) == ("retry_scheduled", 1)
    assert "interrupted" in (recovered.last_error or "")
    assert recovered.next_retry_at == ms(clock.now()) + timedelta(minutes=5)
    assert configured.exports.get(young.id).status.value == "processing"
    assert _in_flight(configured) == {UUID(orders[1]["id"])}


def test_an_interrupted_last_attempt_becomes_permanent(
    configured: Services, orders: list[dict[str, Any]], clock: FrozenClock
) -> None:
    """An interrupted attempt after five failures ends the chain."""
    stuck = seed_attempt(
        configured.engine,
        orders[0],
        status="processing",
        attempts=5,
        due_at=None,
        at=clock.now() - timedelta(minutes=10),
    )

    retry_scheduler(configured).run_task(RETRY)

    row = configured.exports.get(stuck)
    assert (row.status.value, row.attempts, row.next_retry_at) == (
        "failed_permanent",
        6,
        None,
    )
    assert _in_flight(configured) == set()


def test_a_retry_whose_order_is_in_flight_is_skipped_and_stays_due(
    configured: Services,
    simulator: SimulatorState,
    orders: list[dict[str, Any]],
    clock: FrozenClock,
) -> None:
    """Another attempt of the order is processing: the retry waits, unchanged."""
    due = seed_due_retries(configured.engine, orders[:1], clock.now())
    seed_attempt(
        configured.engine, orders[0], status="processing", due_at=None, at=clock.now()
    )

    report = retry_scheduler(configured).run_task(RETRY)

    [(export_id, due_at)] = due.items()
    pending = configured.exports.get(export_id)
    assert (report["scheduledRetries"], report["skippedRetries"]) == (1, 1)
    assert (pending.status.value, pending.next_retry_at) == ("retry_scheduled", due_at)
    assert simulator.requests() == []


def test_disabled_sending_leaves_every_retry_as_it_was(
    configured: Services,
    simulator: SimulatorState,
    orders: list[dict[str, Any]],
    clock: FrozenClock,
) -> None:
    """Strategy disabled: nothing claimed, nothing sent, report says why."""
    due = seed_due_retries(configured.engine, orders[:3], clock.now())
    configured.config.set(keys.SEND_STRATEGY, "disabled")

    report = retry_scheduler(configured).run_task(RETRY)

    assert report["sendingDisabled"] is True and report["scheduledRetries"] == 0
    assert {i: configured.exports.get(i).next_retry_at for i in due} == due
    assert simulator.requests() == []


def test_parallel_batches_never_send_a_retry_twice(
    configured: Services,
    simulator: SimulatorState,
    orders: list[dict[str, Any]],
    clock: FrozenClock,
) -> None:
    """Three batches at once (own engines) take 30 retries without overlap."""
    configured.settings.retry_batch_size = 10
    seed_due_retries(configured.engine, orders, clock.now())
    instances = [Services(configured.settings, clock=clock) for _ in range(3)]
    barrier = threading.Barrier(3)
    reports: list[Any] = []

    def batch(services: Services) -> None:
        barrier.wait()
        reports.append(RetryBatch(services).run())

    threads = [threading.Thread(target=batch, args=(s,)) for s in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for services in instances:
        services.close()

    numbers = received_numbers(simulator)
    assert sorted(numbers) == sorted(o["orderNumber"] for o in orders)
    assert [r["processedRetries"] for r in reports] == [10, 10, 10]
    assert statuses(configured.engine) == {"failed": 30, "sent": 30}


def test_claims_are_disjoint_and_a_release_restores_the_due_time(
    configured: Services, orders: list[dict[str, Any]], clock: FrozenClock
) -> None:
    """Two claims share no row; a released retry is due again as it was."""
    due = seed_due_retries(configured.engine, orders[:10], clock.now())
    hold = timedelta(minutes=5)

    first = configured.exports.claim_due_retries(6, hold)
    second = configured.exports.claim_due_retries(6, hold)
    for claimed in first:
        assert configured.exports.release_retry(claimed)

    assert len(first) == 6 and len(second) == 4
    assert not {c.attempt.id for c in first} & {c.attempt.id for c in second}
    assert [c.attempt.id for c in first] == list(due)[:6]
    for claimed in first:
        assert (
            configured.exports.get(claimed.attempt.id).next_retry_at
            == due[claimed.attempt.id]
        )
    assert configured.exports.overdue_count() == 6


class CountingClient(San6Client):
    """The real SAN6 client, counting how many of its calls overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0

    def send(
        self, config: San6Config, xml: str, file_transfer_url: str | None = None
    ) -> San6Answer:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            return super().send(config, xml, file_transfer_url)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_a_batch_sends_with_bounded_concurrency(
    configured: Services,
    simulator: SimulatorState,
    orders: list[dict[str, Any]],
    clock: FrozenClock,
) -> None:
    """With concurrency 3 and a slow SAN6, calls overlap, never more than 3."""
    configured.settings.retry_concurrency = 3
    client = CountingClient()
    configured.san6 = client
    simulator.set_faults(Faults(latency_seconds=0.2))
    seed_due_retries(configured.engine, orders[:9], clock.now())

    report = retry_scheduler(configured).run_task(RETRY)

    assert report["sentRetries"] == 9
    assert 1 < client.most <= 3


def test_a_stopping_process_gives_back_the_retries_it_did_not_start(
    configured: Services,
    simulator: SimulatorState,
    orders: list[dict[str, Any]],
    clock: FrozenClock,
) -> None:
    """Stop already requested: every claimed retry is released, none sent."""
    due = seed_due_retries(configured.engine, orders[:5], clock.now())
    stop = threading.Event()
    stop.set()

    with stopping_on(stop):
        report = RetryBatch(configured).run()

    assert (report["scheduledRetries"], report["releasedRetries"]) == (5, 5)
    assert {i: configured.exports.get(i).next_retry_at for i in due} == due
    assert simulator.requests() == []


def _manual() -> Any:
    from external_orders.domain.attempt import Trigger

    return Trigger.MANUAL


def _in_flight(services: Services) -> set[UUID]:
    query = sa.select(t.c.in_flight).where(t.c.in_flight.is_not(None))
    with services.engine.connect() as connection:
        return {row.in_flight for row in connection.execute(query)}


def test_simultaneous_first_attempts_of_one_order_give_one_attempt(
    configured: Services, orders: list[dict[str, Any]]
) -> None:
    """A hundred threads start one order at once: one attempt, 99 refusals."""
    order_id = UUID(orders[0]["id"])
    barrier = threading.Barrier(100)
    outcomes: list[str] = []

    def start() -> None:
        barrier.wait()
        try:
            configured.exports.begin(order_id, _manual())
            outcomes.append("started")
        except ExportInFlight:
            outcomes.append("in flight")

    threads = [threading.Thread(target=start) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["in flight"] * 99 + ["started"]
    assert statuses(configured.engine) == {"processing": 1}
