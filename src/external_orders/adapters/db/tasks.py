"""The scheduled tasks in ``scheduled_task``: registration, runs and leases.

A run is claimed by one compare-and-set ``UPDATE`` that only one instance
can win, on every backend: the winner holds a lease (``claimed_by``,
``claimed_until``) that it renews while it runs. A lease that ran out
(the instance died) lets the next instance claim the task again. Statuses
are Shopware's: ``scheduled``, ``running``, ``failed`` (the last run
raised; it is run again at its next time) and ``inactive`` (paused).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from external_orders.adapters.db.schema import scheduled_task as t
from external_orders.clock import Clock
from external_orders.errors import TaskNotFound

ERROR_LENGTH = 2000


class TaskStatus(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    FAILED = "failed"
    INACTIVE = "inactive"


RUNNABLE = (TaskStatus.SCHEDULED.value, TaskStatus.FAILED.value)


@dataclass(frozen=True)
class TaskRow:
    """One row of ``scheduled_task``."""

    name: str
    status: TaskStatus
    run_interval: int
    default_run_interval: int
    last_execution_time: datetime | None
    next_execution_time: datetime
    claimed_by: str | None
    claimed_until: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    def held_at(self, now: datetime) -> bool:
        """True while some instance holds a lease on a run of this task."""
        return self.claimed_until is not None and self.claimed_until > now


def _row(row: sa.Row[Any]) -> TaskRow:
    values = dict(row._mapping)
    values["status"] = TaskStatus(values["status"])
    return TaskRow(**values)


class TaskStore:
    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def register(self, intervals: Mapping[str, int]) -> list[str]:
        """Add the tasks not registered yet, due now; returns the added names.

        A registered task keeps its ``run_interval`` and status (an operator
        may have changed or paused it); only ``default_run_interval`` follows
        the code. Safe when two processes register at once.
        """
        added = []
        for name, interval in intervals.items():
            if self._register_one(name, interval):
                added.append(name)
        return added

    def _register_one(self, name: str, interval: int) -> bool:
        now = self.clock.now()
        try:
            with self.engine.begin() as connection:
                if self._exists(connection, name):
                    connection.execute(
                        t.update()
                        .where(t.c.name == name)
                        .values(default_run_interval=interval)
                    )
                    return False
                connection.execute(t.insert().values(**_new_row(name, interval, now)))
        except sa.exc.IntegrityError:
            return False  # registered meanwhile by another process
        return True

    def _exists(self, connection: sa.Connection, name: str) -> bool:
        query = sa.select(t.c.name).where(t.c.name == name)
        return connection.execute(query).first() is not None

    def get(self, name: str) -> TaskRow:
        """The task's row; raises ``TaskNotFound`` when it is not registered."""
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(t).where(t.c.name == name)).first()
        if row is None:
            raise TaskNotFound(name)
        return _row(row)

    def all(self) -> list[TaskRow]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(t).order_by(t.c.name))
            return [_row(row) for row in rows]

    def claim(
        self, name: str, instance: str, lease: timedelta, *, due_only: bool = True
    ) -> bool:
        """Take the lease of one run of ``name``; False when it is not ours.

        Claimable: a ``scheduled`` or ``failed`` task (due, when
        ``due_only``), or a ``running`` one whose lease ran out. Never an
        ``inactive`` one. The single conditional UPDATE is the whole claim,
        so two instances can never both win it.
        """
        now = self.clock.now()
        runnable: sa.ColumnElement[bool] = t.c.status.in_(RUNNABLE)
        if due_only:
            runnable = sa.and_(runnable, t.c.next_execution_time <= now)
        abandoned = sa.and_(
            t.c.status == TaskStatus.RUNNING.value, t.c.claimed_until < now
        )
        with self.engine.begin() as connection:
            claimed = connection.execute(
                t.update()
                .where(t.c.name == name, sa.or_(runnable, abandoned))
                .values(
                    status=TaskStatus.RUNNING.value,
                    claimed_by=instance,
                    claimed_until=now + lease,
                    updated_at=now,
                )
            )
        return claimed.rowcount == 1

    def renew(self, name: str, instance: str, lease: timedelta) -> bool:
        """Extend our lease; False when it is no longer ours."""
        now = self.clock.now()
        with self.engine.begin() as connection:
            renewed = connection.execute(
                t.update()
                .where(t.c.name == name, t.c.claimed_by == instance)
                .values(claimed_until=now + lease, updated_at=now)
            )
        return renewed.rowcount == 1

    def finish(
        self,
        name: str,
        instance: str,
        *,
        started_at: datetime,
        next_at: datetime | None,
        error: str | None = None,
    ) -> bool:
        """Close our run: ``scheduled`` (or ``failed`` with ``error``).

        The next run is at ``next_at``, or ``started_at`` + ``run_interval``
        when None. A task paused during the run stays ``inactive``. Returns
        False when the lease was no longer ours (the run still counts).
        """
        now = self.clock.now()
        with self.engine.begin() as connection:
            row = connection.execute(
                sa.select(t.c.run_interval).where(t.c.name == name)
            ).first()
            if row is None:
                return False
            if next_at is None:
                next_at = started_at + timedelta(seconds=row.run_interval)
            closed = connection.execute(
                t.update()
                .where(t.c.name == name, t.c.claimed_by == instance)
                .values(
                    status=_status_after_run(error),
                    last_execution_time=started_at,
                    next_execution_time=next_at,
                    claimed_by=None,
                    claimed_until=None,
                    last_error=None if error is None else error[:ERROR_LENGTH],
                    updated_at=now,
                )
            )
        return closed.rowcount == 1

    def pause(self, name: str) -> TaskRow:
        """Mark the task ``inactive``: no instance starts it until resumed.

        A run in progress goes on to its end (it is not interrupted).
        """
        self._set(name, status=TaskStatus.INACTIVE.value)
        return self.get(name)

    def resume(self, name: str) -> TaskRow:
        """Make a paused task runnable again; it is due at once."""
        now = self.clock.now()
        held = sa.and_(t.c.claimed_until.is_not(None), t.c.claimed_until > now)
        status = sa.case(
            (held, TaskStatus.RUNNING.value), else_=TaskStatus.SCHEDULED.value
        )
        self._set(
            name,
            only_status=TaskStatus.INACTIVE.value,
            status=status,
            next_execution_time=now,
        )
        return self.get(name)

    def set_interval(self, name: str, seconds: int) -> TaskRow:
        """Change ``run_interval``; the next run moves to last run + seconds."""
        current = self.get(name)
        base = current.last_execution_time or self.clock.now()
        self._set(
            name,
            run_interval=seconds,
            next_execution_time=base + timedelta(seconds=seconds),
        )
        return self.get(name)

    def next_wake(self) -> datetime | None:
        """When something may next become claimable: a due time or a lease end."""
        due = sa.select(sa.func.min(t.c.next_execution_time)).where(
            t.c.status.in_(RUNNABLE)
        )
        lease = sa.select(sa.func.min(t.c.claimed_until)).where(
            t.c.status == TaskStatus.RUNNING.value
        )
        with self.engine.connect() as connection:
            moments = [connection.execute(q).scalar_one_or_none() for q in (due, lease)]
        found = [moment for moment in moments if moment is not None]
        return min(found) if found else None

    def _set(self, name: str, only_status: str | None = None, **values: Any) -> None:
        query = t.update().where(t.c.name == name)
        if only_status is not None:
            query = query.where(t.c.status == only_status)
        with self.engine.begin() as connection:
            if not self._exists(connection, name):
                raise TaskNotFound(name)
            connection.execute(query.values(updated_at=self.clock.now(), **values))


def _status_after_run(error: str | None) -> Any:
    # A pause during the run wins over the run's own outcome.
    outcome = TaskStatus.SCHEDULED.value if error is None else TaskStatus.FAILED.value
    return sa.case(
        (t.c.status == TaskStatus.INACTIVE.value, TaskStatus.INACTIVE.value),
        else_=outcome,
    )


def _new_row(name: str, interval: int, now: datetime) -> dict[str, Any]:
    return {
        "name": name,
        "status": TaskStatus.SCHEDULED.value,
        "run_interval": interval,
        "default_run_interval": interval,
        "last_execution_time": None,
        "next_execution_time": now,
        "claimed_by": None,
        "claimed_until": None,
        "last_error": None,
        "created_at": now,
        "updated_at": now,
    }
