"""Runs of export_new against the Shopware stand-in and the SAN6 simulator."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from pydantic import SecretStr

from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock
from external_orders.domain import san6_config as keys
from external_orders.domain.attempt import Attempt, Status, Trigger
from external_orders.errors import OrderSourceUnavailable
from external_orders.services.new_orders import RunReport
from external_orders.simulators.san6 import Faults, SimulatorState
from external_orders.simulators.shopware import ShopwareFaults, ShopwareState
from external_orders.tasks import export_new
from external_orders.tasks.export_new import cursor_store, new_order_export
from tests.integration.api_support import running_api
from tests.integration.shopware_support import (
    received_numbers,
    shopware,
    shopware_server,
    shopware_services,
    shopware_url,
)

__all__ = ["shopware", "shopware_server", "shopware_services", "shopware_url"]

SOURCE = "shopware"


@pytest.fixture
def shop(shopware_services: Services) -> Services:
    """Shopware-backed services whose cursor started (empty) at the clock's now."""
    run(shopware_services)
    return shopware_services


def run(services: Services, **attributes: Any) -> RunReport:
    """One export_new run, with attributes of the run changed for the test."""
    runner = new_order_export(services)
    for name, value in attributes.items():
        setattr(runner, name, value)
    return runner.run()


def attempts_of(services: Services, order: dict[str, Any]) -> list[Attempt]:
    return services.exports.history(UUID(order["id"]), limit=100)


def log_messages(services: Services) -> list[dict[str, Any]]:
    text = services.settings.log_file.read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_an_order_placed_in_the_shop_is_exported_by_the_next_run_and_never_again(
    shop: Services,
    shopware: ShopwareState,
    simulator: SimulatorState,
    clock: FrozenClock,
) -> None:
    """The next run sends it once as new_order; later runs leave it alone."""
    (order,) = shopware.generate(1)

    first = run(shop)
    clock.advance(seconds=30)
    second = run(shop)
    clock.advance(minutes=5)
    third = run(shop)

    assert (first.exported, first.statuses) == (1, {"sent": 1})
    assert (second.exported, second.known) == (0, 1)
    assert (third.exported, third.listed) == (0, 0)
    (attempt,) = attempts_of(shop, order)
    assert (attempt.status, attempt.trigger) == (Status.SENT, Trigger.NEW_ORDER)
    assert received_numbers(simulator) == {order["orderNumber"]: 1}


def test_orders_placed_before_the_first_start_are_not_exported(
    shopware_services: Services,
    shopware: ShopwareState,
    simulator: SimulatorState,
    clock: FrozenClock,
) -> None:
    """On first start the cursor begins at now; older orders wait for a backfill."""
    shopware.generate(2, createdAt="2026-01-01T00:00:00.000+00:00")

    report = run(shopware_services)

    row = cursor_store(shopware_services).read(SOURCE)
    assert row is not None
    assert row.cursor.position == row.cursor.since
    assert abs(row.cursor.position - clock.now()) < timedelta(milliseconds=1)
    assert (report.listed, report.exported) == (0, 0)
    assert simulator.requests() == []


def test_a_thousand_orders_placed_during_the_runs_are_exported_exactly_once(
    shop: Services,
    shopware: ShopwareState,
    simulator: SimulatorState,
    clock: FrozenClock,
) -> None:
    """Pages of 100, orders sharing milliseconds, a 500 on a listing and one on a
    fetch: every order reaches SAN6 once, the fetch failure through its retry."""
    placed = [*shopware.generate(5)]
    finished = 0

    def place_more(_attempt: Attempt) -> None:
        nonlocal finished
        finished += 1
        # Two orders per millisecond; a second passes every ten exports.
        clock.advance(milliseconds=100 if finished % 10 else 101)
        if len(placed) < 1000:
            placed.extend(shopware.generate(min(2, 1000 - len(placed))))
        if finished in (250, 600):
            target = "listing" if finished == 250 else "by_id"
            faults = ShopwareFaults(http_status=500, target=target, fail_count=1)
            shopware.set_faults(faults)

    shop.exporter.on_finished.append(place_more)
    outages = 0
    for _ in range(50):
        try:
            report = run(shop, page_size=100)
        except OrderSourceUnavailable:
            outages += 1
            continue
        if report.exported == 0 and report.stopped is None and len(placed) == 1000:
            break
    clock.advance(minutes=6)
    for pending in shop.exports.due_retries(limit=100):
        shop.exporter.retry(pending)

    numbers = received_numbers(simulator)
    assert len(placed) == 1000
    assert outages >= 1
    assert set(numbers) == {order["orderNumber"] for order in placed}
    assert set(numbers.values()) == {1}
    latest = [shop.exports.latest(UUID(order["id"])) for order in placed]
    assert Counter(a.status if a else None for a in latest) == {Status.SENT: 1000}


def test_a_test_order_is_skipped_once_and_logged(
    shop: Services,
    shopware: ShopwareState,
    simulator: SimulatorState,
    clock: FrozenClock,
) -> None:
    """A test tag or the test custom field: no attempt, one log line, cursor past."""
    tagged = shopware.generate(1, tags=[{"name": "Test", "apiAlias": "tag"}])[0]
    flagged = shopware.generate(1, customFields={"externalOrdersTestOrder": True})[0]
    real = shopware.generate(1)[0]

    first = run(shop)
    clock.advance(seconds=1)
    second = run(shop)

    assert (first.exported, first.skipped) == (1, 2)
    assert (second.exported, second.skipped) == (0, 0)
    assert attempts_of(shop, tagged) == attempts_of(shop, flagged) == []
    assert received_numbers(simulator) == {real["orderNumber"]: 1}
    skipped = [
        m for m in log_messages(shop) if m["message"] == "TopM new order skipped."
    ]
    assert {(m["orderId"], m["reason"]) for m in skipped} == {
        (tagged["id"], "test order"),
        (flagged["id"], "test order"),
    }


def test_a_cancelled_order_is_skipped_by_default(
    shop: Services, shopware: ShopwareState, simulator: SimulatorState
) -> None:
    """Every order but a cancelled one qualifies unless settings say otherwise."""
    shopware.generate(1, stateMachineState={"technicalName": "cancelled"})
    kept = shopware.generate(1, stateMachineState={"technicalName": "in_progress"})

    report = run(shop)

    assert (report.exported, report.skipped) == (1, 1)
    assert received_numbers(simulator) == {kept[0]["orderNumber"]: 1}


def test_an_order_paid_later_is_taken_while_inside_the_lookback(
    shop: Services,
    shopware: ShopwareState,
    simulator: SimulatorState,
    clock: FrozenClock,
) -> None:
    """With a payment filter, an order skipped as unpaid is exported once paid."""
    paid_only = shop.settings.model_copy(
        update={"new_orders_payment_states": ("paid",)}
    )
    shop.settings = paid_only
    (order,) = shopware.generate(1)

    unpaid = run(shop)
    order["transactions"][0]["stateMachineState"]["technicalName"] = "paid"
    shopware.add_orders([order])
    clock.advance(seconds=20)
    paid = run(shop)

    assert (unpaid.exported, unpaid.skipped) == (0, 1)
    assert paid.exported == 1
    assert received_numbers(simulator) == {order["orderNumber"]: 1}


def test_an_order_committed_late_inside_the_lookback_is_still_exported(
    shop: Services,
    shopware: ShopwareState,
    simulator: SimulatorState,
    clock: FrozenClock,
) -> None:
    """An order stamped before one already exported, seen later, is not lost."""
    clock.advance(seconds=10)
    shopware.generate(1)
    run(shop)
    late = shopware.generate(1, createdAt=_iso(clock.now() - timedelta(seconds=5)))
    too_late = shopware.generate(1, createdAt=_iso(clock.now() - timedelta(minutes=2)))

    report = run(shop)

    assert report.exported == 1
    assert late[0]["orderNumber"] in received_numbers(simulator)
    assert too_late[0]["orderNumber"] not in received_numbers(simulator)


def test_a_shopware_outage_while_listing_stops_the_run_and_loses_nothing(
    shop: Services, shopware: ShopwareState, simulator: SimulatorState
) -> None:
    """A 500 on the listing is raised for the scheduler; the next run exports all."""
    orders = shopware.generate(5)
    shopware.set_faults(ShopwareFaults(http_status=500, target="listing"))
    position = _position(shop)

    with pytest.raises(OrderSourceUnavailable):
        run(shop)
    shopware.set_faults(ShopwareFaults())
    assert _position(shop) == position
    assert simulator.requests() == []

    assert run(shop).exported == 5
    assert set(received_numbers(simulator)) == {o["orderNumber"] for o in orders}


def test_a_san6_outage_stops_the_run_after_the_first_failed_export(
    shop: Services,
    shopware: ShopwareState,
    simulator: SimulatorState,
    clock: FrozenClock,
) -> None:
    """One order goes to the retry queue; the others wait for the next run."""
    orders = shopware.generate(4)
    simulator.set_faults(Faults(http_status=503))

    down = run(shop)
    simulator.clear_faults()
    clock.advance(seconds=60)
    back = run(shop)

    assert down.exported == 1 and down.statuses == {"retry_scheduled": 1}
    assert down.stopped is not None and "failed technically" in down.stopped
    assert back.exported == 3 and back.statuses == {"sent": 3}
    latest = Counter(attempts_of(shop, order)[0].status for order in orders)
    assert latest == {Status.RETRY_SCHEDULED: 1, Status.SENT: 3}


def test_a_san6_business_error_does_not_stop_the_run(
    shop: Services, shopware: ShopwareState, simulator: SimulatorState
) -> None:
    """An order SAN6 refuses is scheduled for retry; the next orders go on."""
    shopware.generate(3)
    simulator.set_faults(Faults(response_code="17", fail_count=1))

    report = run(shop)

    assert report.stopped is None
    assert report.statuses == {"retry_scheduled": 1, "sent": 2}


@pytest.mark.parametrize("problem", ["disabled", "invalid"])
def test_unsendable_settings_keep_the_cursor_waiting(
    shop: Services, shopware: ShopwareState, problem: str
) -> None:
    """Sending disabled or invalid SAN6 settings: no attempt, the cursor stays."""
    (order,) = shopware.generate(1)
    if problem == "disabled":
        shop.config.set(keys.SEND_STRATEGY, "disabled")
    else:
        shop.config.unset(keys.COMPANY)
    position = _position(shop)

    waiting = run(shop)

    assert waiting.exported == 0 and waiting.stopped is not None
    assert attempts_of(shop, order) == []
    assert _position(shop) == position
    shop.config.set(keys.SEND_STRATEGY, "post-xml")
    shop.config.set(keys.COMPANY, SimulatorState().company)
    assert run(shop).exported == 1


def test_a_restart_after_a_crash_sends_nothing_twice(
    shop: Services, shopware: ShopwareState, simulator: SimulatorState
) -> None:
    """A process dying right after an export: the next run skips that order."""
    orders = shopware.generate(5)

    class Crash(BaseException):
        pass

    def crash_on_third(attempt: Attempt) -> None:
        if len(simulator.requests()) == 3:
            raise Crash

    shop.exporter.on_finished.append(crash_on_third)
    with pytest.raises(Crash):
        run(shop)
    shop.exporter.on_finished.remove(crash_on_third)

    report = run(shop)

    assert (report.exported, report.known) == (2, 3)
    assert set(received_numbers(simulator).values()) == {1}
    assert len(received_numbers(simulator)) == len(orders)


def test_a_run_waits_while_another_holds_the_cursor_until_its_lease_ends(
    shop: Services, shopware: ShopwareState, clock: FrozenClock
) -> None:
    """A lease held by a dead worker blocks runs for five minutes, then not."""
    shopware.generate(1)
    assert cursor_store(shop).claim(SOURCE, "dead-worker", timedelta(minutes=5))

    blocked = run(shop)
    clock.advance(minutes=5, seconds=1)
    taken_over = run(shop)

    assert blocked.busy and blocked.exported == 0
    assert taken_over.exported == 1


def test_a_backfill_during_a_run_stops_it_and_exports_nothing_twice(
    shop: Services,
    shopware: ShopwareState,
    simulator: SimulatorState,
    clock: FrozenClock,
) -> None:
    """The running run loses its lease at its next save; the next run goes on."""
    old = shopware.generate(2, createdAt=_iso(clock.now() - timedelta(days=1)))
    new = shopware.generate(3)

    def backfill_once(_attempt: Attempt) -> None:
        if len(simulator.requests()) == 1:
            cursor_store(shop).reset(SOURCE, clock.now() - timedelta(days=2))

    shop.exporter.on_finished.append(backfill_once)
    interrupted = run(shop)
    resumed = run(shop)

    assert interrupted.stopped is not None and "moved" in interrupted.stopped
    assert resumed.exported == 4 and resumed.known == 1
    expected = {o["orderNumber"] for o in old + new}
    assert received_numbers(simulator) == dict.fromkeys(expected, 1)


def test_a_run_stops_when_its_process_is_asked_to_stop(
    shop: Services, shopware: ShopwareState, simulator: SimulatorState
) -> None:
    """The stop event ends the run after the export in flight; the rest waits."""
    shopware.generate(4)
    stop = threading.Event()
    shop.exporter.on_finished.append(lambda _attempt: stop.set())

    stopping = run(shop, stop=stop)
    resumed = run(shop)

    assert stopping.exported == 1 and stopping.stopped == "the process is stopping"
    assert resumed.exported == 3


def test_a_capped_run_asks_the_scheduler_to_run_again(
    shop: Services, shopware: ShopwareState
) -> None:
    """Past max orders per run the report says runAgain; the next run goes on."""
    shopware.generate(5)

    capped = run(shop, max_orders=3)
    rest = run(shop, max_orders=3)

    assert capped.exported == 3 and capped.as_report()["runAgain"] is True
    assert rest.exported == 2 and rest.as_report()["runAgain"] is False


def test_the_task_reports_what_its_run_did(
    shop: Services, shopware: ShopwareState
) -> None:
    """external_orders.export_new returns the run's counts and cursor."""
    shopware.generate(2)

    report = export_new.TASK.run(shop)

    assert report["exported"] == 2
    assert report["statuses"] == {"sent": 2}
    assert report["cursor"] == _position(shop).isoformat(timespec="milliseconds")
    assert export_new.TASK.default_interval == 60


def test_a_manual_export_by_id_through_the_admin_api_source_ends_sent(
    shopware_services: Services, shopware: ShopwareState, simulator: SimulatorState
) -> None:
    """The runbook's manual export reads the order from Shopware and sends it."""
    (order,) = shopware.generate(1)

    attempt = shopware_services.exporter.export(UUID(order["id"]))

    assert (attempt.status, attempt.trigger) == (Status.SENT, Trigger.MANUAL)
    assert attempt.order_number == order["orderNumber"]
    assert received_numbers(simulator) == {order["orderNumber"]: 1}


def test_the_http_manual_export_reads_from_shopware_too(
    shopware_services: Services, shopware: ShopwareState
) -> None:
    """POST /api/_action/external-orders/export/{id} answers 200 sent."""
    (order,) = shopware.generate(1)

    with running_api(shopware_services) as api:
        answer = api.export(order["id"], api.token())

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "sent"


def test_an_order_shopware_does_not_know_is_not_exported_by_hand(
    shopware_services: Services, shopware: ShopwareState
) -> None:
    """A manual export of an unknown id is OrderNotFound, with no attempt."""
    from external_orders.errors import OrderNotFound

    with pytest.raises(OrderNotFound):
        shopware_services.exporter.export(UUID(int=5))

    assert shopware_services.exports.latest(UUID(int=5)) is None


def test_the_files_source_exports_new_orders_by_created_at(
    configured: Services, simulator: SimulatorState, clock: FrozenClock
) -> None:
    """Backfilled to before the samples, every sample is exported once."""
    from external_orders.simulators.sample_orders import sample_files

    configured.file_orders.import_files(sample_files())
    cursor_store(configured).reset("files", clock.now() - timedelta(days=365))

    first = run(configured)
    again = run(configured)

    assert first.exported == len(sample_files())
    assert again.exported == 0
    assert set(received_numbers(simulator).values()) == {1}


def test_secrets_never_reach_the_log_of_a_run(
    shop: Services, shopware: ShopwareState
) -> None:
    """Neither the client secret nor a Shopware token is in the service log."""
    shopware.generate(2)
    shopware.expire_tokens()
    run(shop)

    text = shop.settings.log_file.read_text()
    secret = shop.settings.shopware_client_secret
    assert isinstance(secret, SecretStr) and secret.get_secret_value() not in text
    for token in shopware.issued_tokens():
        assert token not in text


def _position(services: Services) -> Any:
    row = cursor_store(services).read(SOURCE)
    assert row is not None
    return row.cursor.position


def _iso(moment: Any) -> str:
    return str(moment.isoformat(timespec="milliseconds"))
