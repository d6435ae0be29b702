"""The scheduler and ``scheduled_task`` on real databases (SQLite, MariaDB)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa

from external_orders.adapters.db.engine import upgrade_database
from external_orders.adapters.db.tasks import TaskStatus
from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock
from external_orders.clock import millisecond as ms
from external_orders.errors import TaskBusy, TaskFailed, TaskNotFound, TaskPaused
from external_orders.services.scheduler import Scheduler
from external_orders.tasks.registry import (
    RUN_AGAIN,
    ScheduledTask,
    TaskReport,
    all_tasks,
)

NAME = "external_orders.test_recorder"


@dataclass
class Recorder:
    """A task that notes each run; what it does is set by the test."""

    runs: int = 0
    fail: bool = False
    report: dict[str, object] = field(default_factory=dict)
    during: Callable[[Services], None] | None = None
    ran: threading.Event = field(default_factory=threading.Event)

    def run(self, services: Services) -> TaskReport:
        self.runs += 1
        if self.during is not None:
            self.during(services)
        self.ran.set()
        if self.fail:
            raise RuntimeError("boom")
        return self.report


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def scheduler(services: Services, recorder: Recorder, instance: str) -> Scheduler:
    built = Scheduler(services, instance=instance)
    built.tasks = {NAME: ScheduledTask(NAME, 60, recorder.run, "records runs")}
    return built


def test_db_upgrade_registers_every_task_due_now(
    services: Services, clock: FrozenClock
) -> None:
    """Each known task is in scheduled_task, scheduled, every 60 s, due now."""
    upgrade_database(services.engine, clock)

    rows = {row.name: row for row in services.scheduled_tasks.all()}

    assert set(all_tasks()) <= set(rows)
    retry = rows["external_orders.export_retry"]
    assert (retry.status, retry.run_interval) == (TaskStatus.SCHEDULED, 60)
    assert retry.next_execution_time <= clock.now()


def test_upgrade_keeps_the_interval_and_pause_an_operator_set(
    services: Services, clock: FrozenClock
) -> None:
    """Running db upgrade again keeps a changed run_interval and a pause."""
    upgrade_database(services.engine, clock)
    name = "external_orders.export_retry"
    services.scheduled_tasks.set_interval(name, 300)
    services.scheduled_tasks.pause(name)

    upgrade_database(services.engine, clock)

    row = services.scheduled_tasks.get(name)
    assert (row.status, row.run_interval) == (TaskStatus.INACTIVE, 300)
    assert row.default_run_interval == 60


def test_one_instance_runs_a_given_tick(
    services: Services, recorder: Recorder, clock: FrozenClock
) -> None:
    """Of two instances only the first runs the due task; the next tick is free."""
    first = scheduler(services, recorder, "first")
    second = scheduler(services, recorder, "second")
    clock.advance(seconds=1)

    assert [run.name for run in first.run_due()] == [NAME]
    assert second.run_due() == []

    clock.advance(seconds=60)
    assert [run.name for run in second.run_due()] == [NAME]
    assert recorder.runs == 2


def test_simultaneous_claims_have_exactly_one_winner(
    services: Services, recorder: Recorder, clock: FrozenClock
) -> None:
    """Eight threads claiming the same run at once: one of them gets it."""
    scheduler(services, recorder, "setup").ensure_registered()
    clock.advance(seconds=1)
    barrier = threading.Barrier(8)
    wins: list[bool] = []

    def claim(number: int) -> None:
        barrier.wait()
        lease = timedelta(seconds=60)
        wins.append(services.scheduled_tasks.claim(NAME, f"i{number}", lease))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(wins) == [False] * 7 + [True]


def test_a_paused_task_is_run_by_no_instance(
    services: Services, recorder: Recorder, clock: FrozenClock
) -> None:
    """Paused: no tick runs it and a manual run is refused; resumed: due at once."""
    instance = scheduler(services, recorder, "one")
    instance.ensure_registered()
    instance.pause(NAME)
    clock.advance(minutes=10)

    assert instance.run_due() == []
    with pytest.raises(TaskPaused):
        instance.run_task(NAME)

    instance.resume(NAME)
    assert [run.name for run in instance.run_due()] == [NAME]
    assert recorder.runs == 1


def test_manual_run_is_refused_while_another_instance_runs_the_task(
    services: Services, recorder: Recorder, clock: FrozenClock
) -> None:
    """A held lease refuses task run; once it lapsed (holder died) it runs."""
    instance = scheduler(services, recorder, "manual")
    instance.ensure_registered()
    assert services.scheduled_tasks.claim(NAME, "worker-1", timedelta(seconds=60))

    with pytest.raises(TaskBusy, match="worker-1"):
        instance.run_task(NAME)

    clock.advance(seconds=61)
    assert instance.run_task(NAME) == {}
    assert services.scheduled_tasks.get(NAME).status is TaskStatus.SCHEDULED


def test_a_failing_run_is_recorded_and_the_task_runs_again_later(
    services: Services, recorder: Recorder, clock: FrozenClock
) -> None:
    """A raising task is failed with last_error, then runs at its next time."""
    instance = scheduler(services, recorder, "one")
    recorder.fail = True
    clock.advance(seconds=1)

    [run] = instance.run_due()

    row = services.scheduled_tasks.get(NAME)
    assert run.error == "RuntimeError: boom"
    assert (row.status, row.last_error) == (TaskStatus.FAILED, "RuntimeError: boom")
    recorder.fail = False
    clock.advance(seconds=60)
    assert instance.run_due()[0].ok
    row = services.scheduled_tasks.get(NAME)
    assert (row.status, row.last_error) == (TaskStatus.SCHEDULED, None)


def test_a_manual_run_that_raises_is_a_task_failure(
    services: Services, recorder: Recorder
) -> None:
    """task run of a raising task raises TaskFailed naming the problem."""
    recorder.fail = True

    with pytest.raises(TaskFailed, match="boom"):
        scheduler(services, recorder, "one").run_task(NAME)

    assert services.scheduled_tasks.get(NAME).status is TaskStatus.FAILED


def test_a_run_that_asks_again_is_due_at_once(
    services: Services, recorder: Recorder, clock: FrozenClock
) -> None:
    """A report with runAgain makes the next run due now, not in 60 s."""
    recorder.report = {RUN_AGAIN: True}
    instance = scheduler(services, recorder, "one")
    clock.advance(seconds=1)

    instance.run_due()

    assert services.scheduled_tasks.get(NAME).next_execution_time == ms(clock.now())
    assert len(instance.run_due()) == 1


def test_a_pause_during_a_run_is_kept_when_the_run_ends(
    services: Services, recorder: Recorder
) -> None:
    """Pausing a running task leaves it inactive after the run."""
    recorder.during = lambda built: built.scheduled_tasks.pause(NAME)

    scheduler(services, recorder, "one").run_task(NAME)

    assert services.scheduled_tasks.get(NAME).status is TaskStatus.INACTIVE


def test_the_lease_is_renewed_while_a_long_run_goes_on(
    services: Services, recorder: Recorder, clock: FrozenClock
) -> None:
    """A run longer than its lease keeps it: no other instance takes over."""
    services.settings.task_lease_seconds = 0.3

    def long_run(built: Services) -> None:
        clock.advance(seconds=10)
        deadline = time.monotonic() + 10
        while not built.scheduled_tasks.get(NAME).held_at(clock.now()):
            assert time.monotonic() < deadline, "lease never renewed"
            time.sleep(0.02)
        with pytest.raises(TaskBusy):
            scheduler(built, Recorder(), "other").run_task(NAME)

    recorder.during = long_run
    scheduler(services, recorder, "one").run_task(NAME)

    assert recorder.runs == 1


def test_the_runbook_query_shows_the_last_and_next_run(
    services: Services, recorder: Recorder, clock: FrozenClock
) -> None:
    """Runbook 2.3's columns: last run at its start, next one interval later."""
    started = clock.advance(seconds=1)
    scheduler(services, recorder, "one").run_due()

    with services.engine.connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT name, status, run_interval, last_execution_time,"
                " next_execution_time FROM scheduled_task WHERE name = :name"
            ),
            {"name": NAME},
        ).one()
    stored = services.scheduled_tasks.get(NAME)

    assert (row.name, row.status, row.run_interval) == (NAME, "scheduled", 60)
    assert stored.last_execution_time == ms(started)
    assert stored.next_execution_time == stored.last_execution_time + timedelta(
        seconds=60
    )


def test_run_forever_runs_due_tasks_until_stopped(
    services: Services, recorder: Recorder, clock: FrozenClock
) -> None:
    """The loop runs the due task, and returns once stop is set."""
    services.settings.worker_poll_seconds = 0.05
    instance = scheduler(services, recorder, "loop")
    clock.advance(seconds=1)
    stop = threading.Event()
    loop = threading.Thread(target=instance.run_forever, args=(stop,))

    loop.start()
    ran = recorder.ran.wait(10)
    stop.set()
    loop.join(10)

    assert ran and not loop.is_alive()
    assert recorder.runs == 1


def test_unknown_task_names_are_not_found(
    services: Services, recorder: Recorder
) -> None:
    """run, pause and interval of an unknown task raise TaskNotFound."""
    instance = scheduler(services, recorder, "one")

    with pytest.raises(TaskNotFound):
        instance.run_task("external_orders.nope")
    with pytest.raises(TaskNotFound):
        instance.pause("external_orders.nope")
    with pytest.raises(TaskNotFound):
        instance.set_interval("external_orders.nope", 10)
