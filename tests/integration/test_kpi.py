"""KPI values on seeded tables, at the window's edges, with a frozen clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from external_orders.adapters.db.schema import external_order_export
from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock
from external_orders.domain.kpi import KpiSnapshot, Level
from external_orders.services.kpi import kpi_service

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
MS = timedelta(milliseconds=1)


@pytest.fixture
def clock() -> FrozenClock:
    """A clock on a whole millisecond, so the edges are exact in the table."""
    return FrozenClock(NOW)


def seed(
    services: Services,
    status: str,
    created_at: datetime,
    *,
    next_retry_at: datetime | None = None,
    last_error: str | None = None,
    count: int = 1,
) -> None:
    rows = []
    for _ in range(count):
        attempt_id = uuid.uuid4()
        rows.append(
            {
                "id": attempt_id,
                "order_id": uuid.uuid4(),
                "status": status,
                "attempts": 1,
                "correlation_id": attempt_id.hex,
                "next_retry_at": next_retry_at,
                "created_at": created_at,
                "updated_at": created_at,
                "chain_id": attempt_id,
                "trigger": "manual",
                "last_error": last_error,
            }
        )
    with services.engine.begin() as connection:
        connection.execute(sa.insert(external_order_export), rows)


def values(snapshot: KpiSnapshot) -> dict[str, float]:
    return {name: kpi.value for name, kpi in snapshot.values.items()}


@pytest.mark.mysql
def test_an_empty_table_gives_zeros_and_ok(services: Services) -> None:
    """No attempt at all: every KPI is 0 and ok."""
    snapshot = services.kpis.snapshot()

    assert set(values(snapshot).values()) == {0}
    assert {kpi.level for kpi in snapshot.values.values()} == {Level.OK}
    assert snapshot.attempts_in_window == 0


@pytest.mark.mysql
def test_the_window_includes_its_first_millisecond(services: Services) -> None:
    """A failure created exactly 15 minutes ago counts; one 1 ms older does not."""
    seed(services, "failed", NOW - WINDOW)
    seed(services, "retry_scheduled", NOW - WINDOW - MS, next_retry_at=NOW + WINDOW)
    seed(services, "failed_permanent", NOW)
    seed(services, "sent", NOW - WINDOW - MS)

    snapshot = services.kpis.snapshot()

    assert snapshot.value("failed_exports_total") == 2
    assert snapshot.attempts_in_window == 2


@pytest.mark.mysql
def test_failed_exports_count_the_three_failed_statuses(services: Services) -> None:
    """failed, retry_scheduled and failed_permanent count; sent and processing not."""
    recent = NOW - timedelta(minutes=1)
    seed(services, "failed", recent, count=3)
    seed(services, "retry_scheduled", recent, next_retry_at=NOW, count=4)
    seed(services, "failed_permanent", recent, count=3)
    seed(services, "sent", recent, count=5)
    seed(services, "processing", recent, count=1)

    snapshot = services.kpis.snapshot()

    assert snapshot.value("failed_exports_total") == 10
    assert snapshot["failed_exports_total"].level is Level.WARNING
    assert snapshot.value("failure_rate_pct") == 62.5
    assert snapshot["failure_rate_pct"].level is Level.CRITICAL


@pytest.mark.mysql
def test_failure_rate_has_two_decimals_and_its_own_thresholds(
    services: Services,
) -> None:
    """1 failure in 16 attempts is 6.25 %: above 5 (warning), not above 15."""
    recent = NOW - timedelta(minutes=2)
    seed(services, "failed", recent)
    seed(services, "sent", recent, count=15)

    snapshot = services.kpis.snapshot()

    assert snapshot.value("failure_rate_pct") == 6.25
    assert snapshot["failure_rate_pct"].level is Level.WARNING


@pytest.mark.mysql
def test_pending_retries_count_whenever_they_were_created(services: Services) -> None:
    """retry_pending_total counts old rows too (the 3.0 query missed them)."""
    seed(
        services,
        "retry_scheduled",
        NOW - timedelta(days=2),
        next_retry_at=NOW - timedelta(days=2) + timedelta(minutes=5),
        count=21,
    )

    snapshot = services.kpis.snapshot()

    assert snapshot.value("retry_pending_total") == 21
    assert snapshot.value("retry_backlog") == 21
    assert snapshot["retry_pending_total"].level is Level.WARNING
    assert snapshot.value("failed_exports_total") == 0


@pytest.mark.mysql
def test_oldest_retry_age_is_how_late_the_most_overdue_retry_is(
    services: Services,
) -> None:
    """Age = now - the earliest due next_retry_at; retries not yet due add nothing."""
    created = NOW - timedelta(hours=3)
    seed(
        services, "retry_scheduled", created, next_retry_at=NOW - timedelta(minutes=31)
    )
    seed(services, "retry_scheduled", created, next_retry_at=NOW - timedelta(minutes=2))
    seed(services, "retry_scheduled", created, next_retry_at=NOW + timedelta(hours=1))
    seed(services, "failed", created)

    snapshot = services.kpis.snapshot()

    assert snapshot.value("oldest_retry_age_minutes") == 31
    assert snapshot["oldest_retry_age_minutes"].level is Level.CRITICAL
    assert snapshot.value("overdue_retry_backlog") == 2
    assert snapshot.value("retry_pending_total") == 3


@pytest.mark.mysql
def test_a_retry_due_exactly_now_is_overdue_with_age_zero(services: Services) -> None:
    """next_retry_at = now is due (<=) but not late: overdue 1, age 0."""
    seed(services, "retry_scheduled", NOW - WINDOW, next_retry_at=NOW)

    snapshot = services.kpis.snapshot()

    assert snapshot.value("overdue_retry_backlog") == 1
    assert snapshot.value("oldest_retry_age_minutes") == 0


@pytest.mark.mysql
def test_age_thresholds_are_strictly_above(
    services: Services, clock: FrozenClock
) -> None:
    """15.00 minutes late is ok; 15.01 is a warning."""
    seed(services, "retry_scheduled", NOW - WINDOW, next_retry_at=NOW - WINDOW)
    assert services.kpis.snapshot()["oldest_retry_age_minutes"].level is Level.OK

    clock.advance(seconds=1)

    assert services.kpis.snapshot()["oldest_retry_age_minutes"].level is Level.WARNING


@pytest.mark.mysql
def test_invalid_config_attempts_of_the_window_are_counted(services: Services) -> None:
    """Only failed_permanent rows whose last_error says invalid SAN6 config count."""
    recent = NOW - timedelta(minutes=3)
    seed(services, "failed_permanent", recent, last_error="invalid SAN6 config: x")
    seed(services, "failed_permanent", recent, last_error="order cannot be exported")
    seed(
        services,
        "failed_permanent",
        NOW - WINDOW - MS,
        last_error="invalid SAN6 config: y",
    )

    snapshot = services.kpis.snapshot()

    assert snapshot.value("san6_config_invalid_total") == 1
    assert snapshot["san6_config_invalid_total"].level is Level.CRITICAL


@pytest.mark.mysql
def test_window_and_thresholds_come_from_the_settings(
    services: Services, clock: FrozenClock
) -> None:
    """A 5-minute window with a warning at 2 sees only the last 5 minutes."""
    settings = services.settings.model_copy(
        update={"kpi_window_minutes": 5, "kpi_failed_exports_warning": 2}
    )
    kpis = kpi_service(settings, services.engine, clock)
    seed(services, "failed", NOW - timedelta(minutes=5), count=2)
    seed(services, "failed", NOW - timedelta(minutes=6), count=5)

    snapshot = kpis.snapshot()

    assert snapshot.window_minutes == 5
    assert snapshot.value("failed_exports_total") == 2
    assert snapshot["failed_exports_total"].level is Level.WARNING
    assert snapshot["failed_exports_total"].thresholds.warning == 2


@pytest.mark.mysql
def test_the_window_slides_with_the_clock(
    services: Services, clock: FrozenClock
) -> None:
    """Failures leave failed_exports_total 15 minutes after they were created."""
    seed(services, "failed", NOW, count=30)
    assert services.kpis.snapshot()["failed_exports_total"].level is Level.CRITICAL

    clock.advance(WINDOW)
    assert services.kpis.snapshot().value("failed_exports_total") == 30

    clock.advance(MS)
    assert services.kpis.snapshot().value("failed_exports_total") == 0
