"""Runs the scheduled tasks of ``scheduled_task``: when due, or once by hand.

Any number of instances (workers, ``serve``'s background thread, manual
``task run``) may share one database: each run is claimed in the table
first (``TaskStore.claim``), so a given tick of a task runs in one
instance only, and a paused task runs nowhere. The claim is a lease that
the running instance renews; when an instance dies its lease runs out and
another one takes the task up.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from external_orders.adapters.db.engine import is_database_error
from external_orders.adapters.db.tasks import RUNNABLE, TaskRow, TaskStatus
from external_orders.errors import TaskBusy, TaskFailed, TaskNotFound, TaskPaused
from external_orders.logs import log_event
from external_orders.tasks.registry import (
    RUN_AGAIN,
    ScheduledTask,
    TaskReport,
    all_tasks,
    stop_event,
    stopping_on,
)

if TYPE_CHECKING:
    from external_orders.bootstrap import Services

MIN_WAIT_SECONDS = 0.05
OUTAGE_WAIT_CAP_SECONDS = 30.0
PROBLEM_LENGTH = 300


@dataclass(frozen=True)
class TaskRun:
    """One run of a task by this instance."""

    name: str
    started_at: datetime
    report: TaskReport
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def default_instance() -> str:
    """``host:pid:random``, the ``claimed_by`` of this process's runs."""
    name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    return name[-128:]


def next_wait(next_wake: datetime | None, now: datetime, poll_seconds: float) -> float:
    """Seconds to sleep: until the next due time, at most ``poll_seconds``."""
    floor = min(poll_seconds, MIN_WAIT_SECONDS)
    if next_wake is None:
        return poll_seconds
    seconds = (next_wake - now).total_seconds()
    return max(floor, min(seconds, poll_seconds))


def outage_wait(failures: int, poll_seconds: float) -> float:
    """Seconds to wait after ``failures`` failed loops in a row: doubling,
    from one poll up to 30 s (or one poll, if that is longer)."""
    cap = max(poll_seconds, OUTAGE_WAIT_CAP_SECONDS)
    return float(min(poll_seconds * 2 ** min(failures - 1, 16), cap))


def is_due(row: TaskRow, now: datetime) -> bool:
    """Whether a claim of the task could succeed now (the claim decides)."""
    if row.status.value in RUNNABLE:
        return row.next_execution_time <= now
    return row.status is TaskStatus.RUNNING and not row.held_at(now)


class Scheduler:
    def __init__(self, services: Services, instance: str | None = None) -> None:
        self.services = services
        self.instance = instance or default_instance()
        self.tasks: dict[str, ScheduledTask] = all_tasks()
        self.store = services.scheduled_tasks
        self._registered = False

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.services.settings.task_lease_seconds)

    @property
    def poll_seconds(self) -> float:
        return self.services.settings.worker_poll_seconds

    def ensure_registered(self) -> None:
        """Register known tasks missing from the table (as ``db upgrade`` does)."""
        if not self._registered:
            settings = self.services.settings
            intervals = {n: t.interval(settings) for n, t in self.tasks.items()}
            self.store.register(intervals)
            self._registered = True

    def rows(self) -> list[TaskRow]:
        self.ensure_registered()
        return self.store.all()

    def run_due(self) -> list[TaskRun]:
        """Run once every due, unpaused task whose run this instance claims."""
        self.ensure_registered()
        now = self.services.clock.now()
        runs = []
        for row in self.store.all():
            if stop_event().is_set():
                break
            if row.name in self.tasks and is_due(row, now):
                run = self._run(self.tasks[row.name], due_only=True)
                if run is not None:
                    runs.append(run)
        return runs

    def run_task(self, name: str) -> TaskReport:
        """One run of ``name`` now, due or not (runbook: ``scheduled-task:run``).

        Raises ``TaskNotFound``, ``TaskPaused``, ``TaskBusy`` when another
        instance is running it, and ``TaskFailed`` when the run raised (it
        is recorded as ``failed`` all the same).
        """
        task = self._task(name)
        self.ensure_registered()
        if self.store.get(name).status is TaskStatus.INACTIVE:
            raise TaskPaused(name)

        run = self._run(task, due_only=False)
        if run is None:
            row = self.store.get(name)
            if row.status is TaskStatus.INACTIVE:
                raise TaskPaused(name)
            until = row.claimed_until.isoformat() if row.claimed_until else None
            raise TaskBusy(name, row.claimed_by, until)
        if run.error is not None:
            raise TaskFailed(name, run.error)
        return run.report

    def run_forever(self, stop: threading.Event) -> None:
        """Run due tasks until ``stop`` is set; never gives up on errors.

        Sleeps until the next due time, at most one poll
        (``EXTERNAL_ORDERS_WORKER_POLL_SECONDS``). A database outage or any
        other failure is logged and waited out (doubling waits up to 30 s);
        the pool reconnects on the next try. Once ``stop`` is set, a task
        in progress finishes what is in flight and the loop returns.
        """
        log_event(
            "Scheduler started.",
            instance=self.instance,
            tasks=sorted(self.tasks),
            pollSeconds=self.poll_seconds,
        )
        failures = 0
        with stopping_on(stop):
            while not stop.is_set():
                try:
                    self.run_due()
                    wait = next_wait(
                        self.store.next_wake(),
                        self.services.clock.now(),
                        self.poll_seconds,
                    )
                except Exception as error:
                    failures += 1
                    wait = outage_wait(failures, self.poll_seconds)
                    _log_failure(error, failures, wait)
                else:
                    if failures:
                        log_event("Scheduler recovered.", failedLoops=failures)
                    failures = 0
                stop.wait(wait)
        log_event("Scheduler stopped.", instance=self.instance)

    def pause(self, name: str) -> TaskRow:
        row = self.store.pause(self._known(name))
        log_event("Scheduled task paused.", task=name)
        return row

    def resume(self, name: str) -> TaskRow:
        row = self.store.resume(self._known(name))
        log_event("Scheduled task resumed.", task=name)
        return row

    def set_interval(self, name: str, seconds: int) -> TaskRow:
        row = self.store.set_interval(self._known(name), seconds)
        log_event("Scheduled task interval changed.", task=name, runInterval=seconds)
        return row

    def _task(self, name: str) -> ScheduledTask:
        task = self.tasks.get(name)
        if task is None:
            raise TaskNotFound(name)
        return task

    def _known(self, name: str) -> str:
        self.ensure_registered()
        self.store.get(name)  # raises TaskNotFound
        return name

    def _run(self, task: ScheduledTask, *, due_only: bool) -> TaskRun | None:
        claimed = self.store.claim(
            task.name, self.instance, self.lease, due_only=due_only
        )
        if not claimed:
            return None

        started_at = self.services.clock.now()
        started = time.perf_counter()
        log_event("Scheduled task started.", task=task.name, instance=self.instance)
        try:
            with self._lease_kept(task.name):
                report, error = self._execute(task)
        except BaseException:
            # Interrupted (Ctrl-C on a manual run): close the run all the same,
            # so the task is not left "running" until its lease runs out.
            self._close(task, started_at, None, "interrupted")
            raise

        again = bool(report.get(RUN_AGAIN))
        self._close(
            task, started_at, self.services.clock.now() if again else None, error
        )
        log_event(
            "Scheduled task finished.",
            level=logging.INFO if error is None else logging.ERROR,
            task=task.name,
            instance=self.instance,
            status="ok" if error is None else "failed",
            error=error,
            durationMs=round((time.perf_counter() - started) * 1000),
            runAgain=again,
        )
        return TaskRun(task.name, started_at, report, error)

    def _close(
        self,
        task: ScheduledTask,
        started_at: datetime,
        next_at: datetime | None,
        error: str | None,
    ) -> None:
        self.store.finish(
            task.name,
            self.instance,
            started_at=started_at,
            next_at=next_at,
            error=error,
        )

    def _execute(self, task: ScheduledTask) -> tuple[TaskReport, str | None]:
        try:
            return task.run(self.services), None
        except Exception as error:
            # Recorded on the task row (status failed, last_error) and in the
            # log; the next run comes at the task's next time as usual.
            logging.getLogger(__name__).exception("scheduled task %s raised", task.name)
            return {}, _problem(error)

    @contextmanager
    def _lease_kept(self, name: str) -> Iterator[None]:
        """Renew our lease every third of it while the block runs."""
        done = threading.Event()
        seconds = self.lease.total_seconds() / 3

        def renew() -> None:
            while not done.wait(seconds):
                try:
                    self.store.renew(name, self.instance, self.lease)
                except Exception as error:
                    log_event(
                        "Scheduled task lease renewal failed.",
                        level=logging.WARNING,
                        task=name,
                        error=_problem(error),
                    )

        keeper = threading.Thread(target=renew, name=f"lease-{name}", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()
            keeper.join()


def _log_failure(error: Exception, failures: int, wait: float) -> None:
    message = (
        "Scheduler database unavailable."
        if is_database_error(error)
        else "Scheduler loop failed."
    )
    log_event(
        message,
        level=logging.WARNING,
        error=_problem(error),
        failedLoops=failures,
        retryInSeconds=round(wait, 2),
    )


def _problem(error: BaseException) -> str:
    """One safe line about ``error`` (the database's own message if any)."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).splitlines() or [""]
    return f"{type(cause).__name__}: {lines[0]}"[:PROBLEM_LENGTH]
