"""The export engine against real databases and the SAN6 simulator."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
import sqlalchemy as sa

from external_orders.adapters.db.schema import external_order_export
from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock, millisecond
from external_orders.domain import san6_config as keys
from external_orders.domain.attempt import Status, Trigger
from external_orders.domain.order import order_id_of
from external_orders.errors import (
    AlreadySent,
    ExportInFlight,
    OrderNotFound,
    SendingDisabled,
)
from external_orders.simulators.sample_orders import sample_files
from external_orders.simulators.san6 import Faults, SimulatorState


def import_samples(services: Services) -> list[UUID]:
    services.file_orders.import_files(sample_files())
    return [order_id_of(o) for o in services.file_orders.all()]


@pytest.fixture
def order_id(configured: Services) -> UUID:
    return import_samples(configured)[0]


def log_lines(services: Services) -> list[dict[str, object]]:
    path = services.settings.log_file
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_sample_order_is_sent(
    configured: Services, simulator: SimulatorState
) -> None:
    """Each sample order ends sent with code 0, its request and answer stored."""
    order_ids = import_samples(configured)

    results = [configured.exporter.export(order_id) for order_id in order_ids]

    assert len(order_ids) >= 8
    assert {attempt.status for attempt in results} == {Status.SENT}
    assert {attempt.response_code for attempt in results} == {"0"}
    for attempt in results:
        stored = configured.exports.get(attempt.id)
        assert stored.request_xml and stored.request_xml.startswith("<?xml")
        assert stored.response_xml and "<response_code>0" in stored.response_xml
    assert len(simulator.received) == len(order_ids)


def test_business_error_schedules_a_retry_in_five_minutes(
    configured: Services, simulator: SimulatorState, order_id: UUID, clock: FrozenClock
) -> None:
    """A SAN6 business error gives retry_scheduled, attempts 1, now + 5 min."""
    simulator.set_faults(
        Faults(response_code="17", response_message="Artikel unbekannt")
    )

    attempt = configured.exporter.export(order_id)

    assert attempt.status is Status.RETRY_SCHEDULED
    assert attempt.attempts == 1
    assert attempt.response_code == "17"
    assert attempt.response_message == "Artikel unbekannt"
    assert attempt.next_retry_at == millisecond(clock.now()) + timedelta(minutes=5)


def test_missing_product_setting_is_permanent_and_sends_nothing(
    configured: Services, simulator: SimulatorState, order_id: UUID
) -> None:
    """Without the product setting: failed_permanent, the log says so, no call."""
    configured.config.unset(keys.PRODUCT)

    attempt = configured.exporter.export(order_id)

    assert attempt.status is Status.FAILED_PERMANENT
    assert "externalOrdersSan6Product" in (attempt.last_error or "")
    assert simulator.received == []
    messages = [line["message"] for line in log_lines(configured)]
    assert "TopM order export skipped: invalid SAN6 config." in messages


def test_http_500_is_a_technical_error_with_a_retry(
    configured: Services, simulator: SimulatorState, order_id: UUID
) -> None:
    """HTTP 500 from SAN6 schedules a retry and logs the technical failure."""
    simulator.set_faults(Faults(http_status=500))

    attempt = configured.exporter.export(order_id)

    assert attempt.status is Status.RETRY_SCHEDULED
    assert attempt.response_code is None
    assert "500" in (attempt.last_error or "")
    messages = [line["message"] for line in log_lines(configured)]
    assert "TopM order export failed." in messages


def test_disabled_sending_writes_no_attempt(
    configured: Services, order_id: UUID
) -> None:
    """Strategy disabled: the export is refused and no row is written."""
    configured.config.set(keys.SEND_STRATEGY, "disabled")

    with pytest.raises(SendingDisabled):
        configured.exporter.export(order_id)

    assert configured.exports.history(order_id) == []


def test_unknown_order_is_not_found_and_writes_nothing(configured: Services) -> None:
    """An order the source does not know raises OrderNotFound, no row."""
    from uuid import uuid4

    unknown = uuid4()
    with pytest.raises(OrderNotFound):
        configured.exporter.export(unknown)
    assert configured.exports.history(unknown) == []


def test_second_attempt_while_processing_is_refused(
    configured: Services, order_id: UUID
) -> None:
    """One attempt at a time per order."""
    configured.exports.begin(order_id, Trigger.MANUAL)

    with pytest.raises(ExportInFlight):
        configured.exporter.export(order_id)


def test_sent_order_is_sent_again_only_when_forced(
    configured: Services, simulator: SimulatorState, order_id: UUID
) -> None:
    """A sent order is refused without force and sent again with it."""
    first = configured.exporter.export(order_id)

    with pytest.raises(AlreadySent):
        configured.exporter.export(order_id)
    again = configured.exporter.export(order_id, force=True)

    assert first.status is again.status is Status.SENT
    assert again.chain_id != first.chain_id
    assert len(simulator.received) == 2


def test_manual_export_replaces_a_pending_retry(
    configured: Services, simulator: SimulatorState, order_id: UUID
) -> None:
    """A manual export turns the pending retry into failed and starts a chain."""
    simulator.set_faults(Faults(http_status=500, fail_count=1))
    pending = configured.exporter.export(order_id)

    manual = configured.exporter.export(order_id)

    replaced = configured.exports.get(pending.id)
    assert replaced.status is Status.FAILED
    assert replaced.next_retry_at is None
    assert manual.status is Status.SENT
    assert manual.chain_id == manual.id
    assert manual.attempts == 0


def test_retries_follow_the_backoff_then_become_permanent(
    configured: Services, simulator: SimulatorState, order_id: UUID, clock: FrozenClock
) -> None:
    """+5, +10, +15, +20, +25 minutes, then the sixth failure is final."""
    simulator.set_faults(Faults(response_code="9", response_message="kaputt"))
    attempt = configured.exporter.export(order_id)
    delays = []
    while attempt.status is Status.RETRY_SCHEDULED:
        assert attempt.next_retry_at is not None
        delays.append(round((attempt.next_retry_at - clock.now()).total_seconds() / 60))
        clock.set(attempt.next_retry_at)
        [due] = configured.exports.due_retries(20)
        retried = configured.exporter.retry(due)
        assert retried is not None
        assert configured.exports.get(due.id).status is Status.FAILED
        attempt = retried

    assert delays == [5, 10, 15, 20, 25]
    assert attempt.status is Status.FAILED_PERMANENT
    assert attempt.attempts == 6
    chain = configured.exports.history(order_id, limit=10)
    assert len(chain) == 6
    assert {a.chain_id for a in chain} == {attempt.chain_id}
    assert configured.exports.overdue_count() == 0


def test_order_without_product_line_is_permanent_without_call(
    configured: Services, simulator: SimulatorState, tmp_path: Path
) -> None:
    """An order with no product line item is never sent and never retried."""
    order = {
        "id": "0190c0ffee0000000000000000000001",
        "orderNumber": "X-1",
        "orderDateTime": "2026-11-30T10:00:00.000+00:00",
        "billingAddress": {"firstName": "A", "lastName": "B", "city": "Köln"},
        "lineItems": [{"type": "promotion", "label": "Rabatt", "quantity": 1}],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(order))
    [imported] = configured.file_orders.import_files([path])

    attempt = configured.exporter.export(imported)

    assert attempt.status is Status.FAILED_PERMANENT
    assert "product line item" in (attempt.last_error or "")
    assert simulator.received == []


def test_secret_never_reaches_log_or_columns(
    configured: Services, simulator: SimulatorState, order_id: UUID
) -> None:
    """The authentifizierung value appears in no log line and no text column."""
    secret = simulator.authentifizierung
    simulator.set_faults(Faults(http_status=500))
    attempt = configured.exporter.export(order_id)

    row = configured.exports.get(attempt.id)
    text = " ".join(
        str(value)
        for value in (
            row.last_error,
            row.response_message,
            row.response_xml,
            row.request_xml,
        )
    )
    assert secret not in text
    assert secret not in configured.settings.log_file.read_text()


def test_a_processing_row_forced_to_retry_by_sql_is_retried(
    configured: Services, simulator: SimulatorState, order_id: UUID
) -> None:
    """Runbook 4.5 on a stuck processing row: the next retry takes it."""
    stuck = configured.exports.begin(order_id, Trigger.MANUAL)
    with configured.engine.begin() as connection:
        connection.execute(
            sa.update(external_order_export)
            .where(external_order_export.c.id == stuck.id)
            .values(status="retry_scheduled", next_retry_at=configured.clock.now())
        )

    [due] = configured.exports.due_retries(20)
    retried = configured.exporter.retry(due)

    assert retried is not None and retried.status is Status.SENT
    assert configured.exports.get(stuck.id).status is Status.FAILED


def test_a_retry_forced_with_the_database_clock_is_claimed(
    configured: Services, simulator: SimulatorState, order_id: UUID
) -> None:
    """Runbook 4.5 written with the database's own NOW: the next claim takes it."""
    simulator.set_faults(Faults(http_status=500, fail_count=1))
    pending = configured.exporter.export(order_id)
    now = "NOW(3)" if configured.engine.dialect.name == "mysql" else "CURRENT_TIMESTAMP"
    with configured.engine.begin() as connection:
        connection.execute(
            sa.text(
                f"UPDATE external_order_export SET next_retry_at = {now} WHERE id = :id"
            ),
            {"id": pending.id.bytes},
        )
    configured.clock.advance(seconds=1)

    claimed = configured.exports.claim_due_retries(20, timedelta(minutes=5))

    assert [c.attempt.id for c in claimed] == [pending.id]
