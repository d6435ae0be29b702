"""The scheduler's rules that need no database: waits, due tasks, intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from external_orders.adapters.db.engine import TimeZones
from external_orders.adapters.db.tasks import TaskRow, TaskStatus
from external_orders.entrypoints.cli.worker_cmd import OffsetClock
from external_orders.services.doctor import CheckStatus, time_zone_finding
from external_orders.services.scheduler import is_due, next_wait, outage_wait
from external_orders.settings import Settings
from external_orders.tasks.registry import (
    RUN_AGAIN,
    ScheduledTask,
    all_tasks,
    stop_event,
    stopping_on,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def row(status: TaskStatus, next_in: float, lease_in: float | None = None) -> TaskRow:
    return TaskRow(
        name="external_orders.export_retry",
        status=status,
        run_interval=60,
        default_run_interval=60,
        last_execution_time=None,
        next_execution_time=NOW + timedelta(seconds=next_in),
        claimed_by=None if lease_in is None else "other",
        claimed_until=None if lease_in is None else NOW + timedelta(seconds=lease_in),
        last_error=None,
        created_at=NOW,
        updated_at=NOW,
    )


def test_wait_is_the_time_until_the_next_run_capped_by_the_poll() -> None:
    """The worker sleeps until the next due time, never longer than one poll."""
    assert next_wait(NOW + timedelta(seconds=2), NOW, 5.0) == 2.0
    assert next_wait(NOW + timedelta(minutes=10), NOW, 5.0) == 5.0
    assert next_wait(None, NOW, 5.0) == 5.0


def test_wait_never_spins_on_a_task_that_is_already_due() -> None:
    """A due (or overdue) task gives a short pause, not a busy loop."""
    assert next_wait(NOW - timedelta(seconds=30), NOW, 5.0) == 0.05
    assert next_wait(NOW, NOW, 0.01) == 0.01


def test_outage_waits_double_up_to_thirty_seconds() -> None:
    """After failures in a row the loop waits 5, 10, 20, 30, 30 ... seconds."""
    waits = [outage_wait(failures, 5.0) for failures in range(1, 7)]
    assert waits == [5.0, 10.0, 20.0, 30.0, 30.0, 30.0]
    assert outage_wait(1000, 5.0) == 30.0
    assert outage_wait(3, 60.0) == 60.0


def test_a_task_is_due_when_its_time_has_come_and_nobody_holds_it() -> None:
    """scheduled/failed at or after next time, or running with a lapsed lease."""
    assert is_due(row(TaskStatus.SCHEDULED, next_in=0), NOW)
    assert is_due(row(TaskStatus.FAILED, next_in=-5), NOW)
    assert not is_due(row(TaskStatus.SCHEDULED, next_in=1), NOW)
    assert not is_due(row(TaskStatus.INACTIVE, next_in=-600), NOW)
    assert not is_due(row(TaskStatus.RUNNING, next_in=-60, lease_in=10), NOW)
    assert is_due(row(TaskStatus.RUNNING, next_in=-60, lease_in=-1), NOW)


def test_registered_interval_comes_from_the_task_setting() -> None:
    """EXTERNAL_ORDERS_EXPORT_RETRY_INTERVAL overrides the retry task's 60 s."""
    retry = all_tasks()["external_orders.export_retry"]

    assert retry.interval(Settings()) == 60
    assert retry.interval(Settings(export_retry_interval=300)) == 300


def test_a_task_without_a_setting_keeps_its_default_interval() -> None:
    """A task with no ``<name>_interval`` setting registers its default."""
    task = ScheduledTask("external_orders.nothing_here", 42, lambda _: {}, "test")

    assert task.interval(Settings()) == 42


def test_every_known_task_is_in_the_registry() -> None:
    """The three tasks of the service are known by their runbook names."""
    assert set(all_tasks()) >= {
        "external_orders.export_retry",
        "external_orders.export_new",
        "external_orders.alert_check",
    }
    assert RUN_AGAIN == "runAgain"


def test_stop_event_is_the_one_the_scheduler_runs_under() -> None:
    """Outside a run the stop event is never set; inside it is the loop's."""
    import threading

    stop = threading.Event()
    assert not stop_event().is_set()
    with stopping_on(stop):
        assert stop_event() is stop
    assert stop_event() is not stop


def test_offset_clock_runs_ahead_by_the_seconds_in_its_file(tmp_path: Path) -> None:
    """The worker's test clock reads its offset at every call; no file, none."""
    path = tmp_path / "offset"
    clock = OffsetClock(path)
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 60

    path.write_text("3600")
    ahead = clock.now() - datetime.now(UTC)

    assert timedelta(minutes=59) < ahead < timedelta(minutes=61)


def test_server_default_time_zone_other_than_utc_is_a_warning() -> None:
    """A MariaDB whose default zone is +02:00 is usable but warned about."""
    zones = TimeZones("+00:00", 0, "Europe/Paris", "CEST", 120)

    status, message = time_zone_finding(zones)

    assert status is CheckStatus.WARN
    assert "off by 2 h" in message and "NOW(3)" in message


def test_utc_server_and_session_pass_and_a_non_utc_session_fails() -> None:
    """SYSTEM on a UTC host is fine; a session not in UTC is a failure."""
    utc = TimeZones("+00:00", 0, "SYSTEM", "UTC", 0)
    assert time_zone_finding(utc)[0] is CheckStatus.OK
    assert time_zone_finding(None)[0] is CheckStatus.OK

    shifted = TimeZones("SYSTEM", 60, "SYSTEM", "CET", 60)
    assert time_zone_finding(shifted)[0] is CheckStatus.FAIL
