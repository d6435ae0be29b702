"""The attempt history: reads and writes of ``external_order_export``.

Every write is one short transaction. Two rules live here because only the
database can enforce them across processes: one attempt of an order at a
time (the unique ``in_flight`` column), and one taker per pending retry
(a compare-and-set on its status). The retry task claims its batches here
(``claim_due_retries``) and closes attempts whose process died
(``recover_interrupted``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa

from external_orders.adapters.db.schema import external_order_export as t
from external_orders.clock import Clock
from external_orders.domain.attempt import (
    Attempt,
    Outcome,
    Status,
    Trigger,
    failure_outcome,
)
from external_orders.errors import AlreadySent, ExportInFlight

COLUMNS = [column.name for column in t.columns if column.name != "in_flight"]


DEADLOCK_TRIES = 3
# MySQL/MariaDB: deadlock found, lock wait timeout exceeded.
DEADLOCK_CODES = frozenset({1213, 1205})
T = TypeVar("T")


def _is_deadlock(error: sa.exc.OperationalError) -> bool:
    code = getattr(error.orig, "args", (None,))[0]
    return code in DEADLOCK_CODES


class RetryTaken(Exception):
    """The pending retry was taken or changed by someone else meanwhile."""


@dataclass(frozen=True)
class ClaimedRetry:
    """A pending retry held for one batch; ``due_at`` is its own due time."""

    attempt: Attempt
    due_at: datetime


def _attempt(row: sa.Row[Any]) -> Attempt:
    values = dict(row._mapping)
    values.pop("in_flight", None)
    values["status"] = Status(values["status"])
    values["trigger"] = Trigger(values["trigger"])
    return Attempt(**values)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


class ExportStore:
    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def begin(
        self,
        order_id: UUID,
        trigger: Trigger,
        *,
        force: bool = False,
        continues: Attempt | None = None,
        order_number: str | None = None,
    ) -> Attempt:
        """Write a new ``processing`` attempt and return it.

        ``continues``: the pending retry this attempt takes over; it leaves
        ``retry_scheduled`` for ``failed`` in the same transaction, or
        ``RetryTaken`` is raised. Without it a new chain starts, and any
        pending retry of the order is replaced (it becomes ``failed``).
        Raises ``ExportInFlight`` while another attempt of the order is
        processing, and ``AlreadySent`` when the latest attempt is ``sent``
        and neither ``force`` nor ``continues`` is given.
        """
        now = self.clock.now()
        attempt_id = uuid.uuid4()
        row = {
            "id": attempt_id,
            "order_id": order_id,
            "status": Status.PROCESSING.value,
            "strategy": None,
            "attempts": continues.attempts if continues else 0,
            "correlation_id": new_correlation_id(),
            "created_at": now,
            "updated_at": now,
            "chain_id": continues.chain_id if continues else attempt_id,
            "retry_of": continues.id if continues else None,
            "trigger": trigger.value,
            "order_number": order_number,
            "in_flight": order_id,
        }

        def write(connection: sa.Connection) -> None:
            if continues is not None:
                self._take_retry(connection, continues, now)
            else:
                self._refuse_duplicate(connection, order_id, force)
            self._clear_stale_guard(connection, order_id)
            connection.execute(t.insert().values(**row))
            if continues is None:
                self._replace_pending_retries(connection, order_id, now)

        try:
            self._transaction(write)
        except sa.exc.IntegrityError as error:
            raise ExportInFlight(order_id) from error
        return self.get(attempt_id)

    def _transaction(self, work: Callable[[sa.Connection], T]) -> T:
        """``work`` in one transaction, tried again when MariaDB/MySQL chose it
        as a deadlock victim (two attempts of one order inserted at once lock
        the unique ``in_flight`` index in opposite orders); the next try sees
        the winner's row and refuses, as it would have without the race."""
        for tries_left in range(DEADLOCK_TRIES - 1, -1, -1):
            try:
                with self.engine.begin() as connection:
                    return work(connection)
            except sa.exc.OperationalError as error:
                if tries_left == 0 or not _is_deadlock(error):
                    raise
        raise AssertionError("unreachable")

    def _take_retry(
        self, connection: sa.Connection, retry: Attempt, now: datetime
    ) -> None:
        taken = connection.execute(
            t.update()
            .where(t.c.id == retry.id, t.c.status == Status.RETRY_SCHEDULED.value)
            .values(status=Status.FAILED.value, next_retry_at=None, updated_at=now)
        )
        if taken.rowcount != 1:
            raise RetryTaken(retry.id)

    def _clear_stale_guard(self, connection: sa.Connection, order_id: UUID) -> None:
        # Only a processing row may hold the guard. A row moved out of
        # processing by hand (runbook 4.5's UPDATE) would otherwise block
        # every later attempt of its order.
        connection.execute(
            t.update()
            .where(
                t.c.in_flight == order_id,
                t.c.status != Status.PROCESSING.value,
            )
            .values(in_flight=None)
        )

    def _refuse_duplicate(
        self, connection: sa.Connection, order_id: UUID, force: bool
    ) -> None:
        latest = connection.execute(
            sa.select(t.c.id, t.c.status)
            .where(t.c.order_id == order_id)
            .order_by(t.c.created_at.desc(), t.c.updated_at.desc())
            .limit(1)
        ).first()
        if latest is None:
            return
        if latest.status == Status.PROCESSING.value:
            raise ExportInFlight(order_id)
        if latest.status == Status.SENT.value and not force:
            raise AlreadySent(order_id, latest.id)

    def _replace_pending_retries(
        self, connection: sa.Connection, order_id: UUID, now: datetime
    ) -> None:
        connection.execute(
            t.update()
            .where(
                t.c.order_id == order_id,
                t.c.status == Status.RETRY_SCHEDULED.value,
            )
            .values(status=Status.FAILED.value, next_retry_at=None, updated_at=now)
        )

    def record_request(self, attempt: Attempt, strategy: str, xml: str) -> None:
        """Store the XML before it is sent, so SAN6 can download it by URL."""
        with self.engine.begin() as connection:
            connection.execute(
                t.update()
                .where(t.c.id == attempt.id)
                .values(strategy=strategy, request_xml=xml, updated_at=self.clock.now())
            )

    def finish(self, attempt: Attempt, outcome: Outcome) -> Attempt:
        """Close a processing attempt with its outcome and release the order.

        If the attempt was meanwhile recovered as interrupted (it stayed in
        ``processing`` too long), the later outcome still wins: it is what
        SAN6 actually answered.
        """
        with self.engine.begin() as connection:
            connection.execute(
                t.update()
                .where(t.c.id == attempt.id)
                .values(
                    status=outcome.status.value,
                    attempts=outcome.attempts,
                    response_xml=outcome.response_xml,
                    response_code=outcome.response_code,
                    response_message=outcome.response_message,
                    last_error=outcome.last_error,
                    next_retry_at=outcome.next_retry_at,
                    updated_at=self.clock.now(),
                    in_flight=None,
                )
            )
        return self.get(attempt.id)

    def get(self, export_id: UUID) -> Attempt:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(t).where(t.c.id == export_id)).one()
        return _attempt(row)

    def find(self, export_id: UUID) -> Attempt | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(t).where(t.c.id == export_id)).first()
        return None if row is None else _attempt(row)

    def history(self, order_id: UUID, limit: int = 5) -> list[Attempt]:
        """The order's latest attempts, newest first (runbook 4.1)."""
        query = (
            sa.select(t)
            .where(t.c.order_id == order_id)
            .order_by(t.c.created_at.desc(), t.c.updated_at.desc())
            .limit(limit)
        )
        return self._select(query)

    def latest(self, order_id: UUID) -> Attempt | None:
        attempts = self.history(order_id, limit=1)
        return attempts[0] if attempts else None

    def recent(
        self,
        limit: int = 50,
        *,
        by: str = "created_at",
        status: Status | None = None,
        order_id: UUID | None = None,
    ) -> list[Attempt]:
        """Newest attempts by ``created_at`` (2.2) or ``updated_at`` (5)."""
        query = sa.select(t).order_by(t.c[by].desc()).limit(limit)
        if status is not None:
            query = query.where(t.c.status == status.value)
        if order_id is not None:
            query = query.where(t.c.order_id == order_id)
        return self._select(query)

    def status_counts(self) -> dict[str, int]:
        """Attempts per status, largest first (runbook 2.2)."""
        total = sa.func.count().label("total")
        query = sa.select(t.c.status, total).group_by(t.c.status).order_by(total.desc())
        with self.engine.connect() as connection:
            return {row.status: row.total for row in connection.execute(query)}

    def overdue_count(self) -> int:
        """Pending retries whose time has come (runbook 2.2)."""
        query = sa.select(sa.func.count()).where(
            t.c.status == Status.RETRY_SCHEDULED.value,
            t.c.next_retry_at.is_not(None),
            t.c.next_retry_at <= self.clock.now(),
        )
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def due_retries(self, limit: int) -> list[Attempt]:
        """Pending retries whose time has come, the most overdue first."""
        query = (
            sa.select(t)
            .where(
                t.c.status == Status.RETRY_SCHEDULED.value,
                t.c.next_retry_at <= self.clock.now(),
            )
            .order_by(t.c.next_retry_at)
            .limit(limit)
        )
        return self._select(query)

    def force_retry(self, export_id: UUID) -> Attempt | None:
        """Runbook 4.5: make any attempt a pending retry, due now.

        The next retry run continues its chain. None when there is no such
        attempt.
        """
        now = self.clock.now()
        with self.engine.begin() as connection:
            changed = connection.execute(
                t.update()
                .where(t.c.id == export_id)
                .values(
                    status=Status.RETRY_SCHEDULED.value,
                    next_retry_at=now,
                    updated_at=now,
                )
            )
        return self.get(export_id) if changed.rowcount else None

    def claim_due_retries(self, limit: int, hold: timedelta) -> list[ClaimedRetry]:
        """Take up to ``limit`` due retries for one batch, most overdue first.

        Rows locked by another claim are skipped (``FOR UPDATE SKIP LOCKED``
        on MySQL/MariaDB/PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` lets one
        claim run at a time). A claimed row stays ``retry_scheduled`` but its
        ``next_retry_at`` moves ``hold`` ahead, so no other batch sees it as
        due meanwhile; the row is locked from the select to the move, so the
        move checks only the status (a compare on the time read back would
        miss rows whose time was written by hand, as SQLite compares text).
        Should the claimer die, the row is due again when ``hold`` is over.
        """
        now = self.clock.now()
        held_until = now + hold
        query = (
            sa.select(t)
            .where(
                t.c.status == Status.RETRY_SCHEDULED.value,
                t.c.next_retry_at <= now,
            )
            .order_by(t.c.next_retry_at, t.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

        def claim(connection: sa.Connection) -> list[ClaimedRetry]:
            claimed = []
            for row in connection.execute(query).all():
                pending = _attempt(row)
                if self._move_due_time(connection, pending.id, None, held_until):
                    held = replace(pending, next_retry_at=held_until)
                    claimed.append(ClaimedRetry(held, due_at=row.next_retry_at))
            return claimed

        return self._transaction(claim)

    def release_retry(self, claimed: ClaimedRetry) -> bool:
        """Give back a claimed retry that was not tried: due again as before.

        A no-op (False) when the row changed meanwhile: taken, forced anew
        by an operator, or replaced by a manual export.
        """
        held_until = claimed.attempt.next_retry_at
        with self.engine.begin() as connection:
            return self._move_due_time(
                connection, claimed.attempt.id, held_until, claimed.due_at
            )

    def _move_due_time(
        self,
        connection: sa.Connection,
        export_id: UUID,
        expected: datetime | None,
        moved_to: datetime,
    ) -> bool:
        """Move a pending retry's due time; ``expected`` None: whatever it is."""
        update = t.update().where(
            t.c.id == export_id, t.c.status == Status.RETRY_SCHEDULED.value
        )
        if expected is not None:
            update = update.where(t.c.next_retry_at == expected)
        moved = connection.execute(update.values(next_retry_at=moved_to))
        return moved.rowcount == 1

    def recover_interrupted(
        self, stale_after: timedelta, problem: str
    ) -> list[Attempt]:
        """Close every attempt left ``processing`` longer than ``stale_after``.

        Such an attempt lost its process (killed, crashed, host lost): it is
        closed as a technical failure with ``problem`` as ``last_error``
        (``retry_scheduled`` with the chain's backoff, or ``failed_permanent``
        when the chain is exhausted) and the order is released. Each row is
        a compare-and-set, so a late outcome of a live attempt is never
        overwritten by the recovery, nor the other way round twice.
        """
        now = self.clock.now()
        cutoff = now - stale_after
        query = sa.select(t).where(
            t.c.status == Status.PROCESSING.value, t.c.updated_at < cutoff
        )
        recovered = []
        for stuck in self._select(query):
            outcome = failure_outcome(stuck.attempts, now, error=problem)
            with self.engine.begin() as connection:
                closed = connection.execute(
                    t.update()
                    .where(
                        t.c.id == stuck.id,
                        t.c.status == Status.PROCESSING.value,
                        t.c.updated_at == stuck.updated_at,
                    )
                    .values(
                        status=outcome.status.value,
                        attempts=outcome.attempts,
                        last_error=outcome.last_error,
                        next_retry_at=outcome.next_retry_at,
                        updated_at=now,
                        in_flight=None,
                    )
                )
            if closed.rowcount == 1:
                recovered.append(self.get(stuck.id))
        return recovered

    def _select(self, query: sa.Select[Any]) -> list[Attempt]:
        with self.engine.connect() as connection:
            return [_attempt(row) for row in connection.execute(query)]


def attempts_as_rows(attempts: Sequence[Attempt]) -> list[dict[str, Any]]:
    return [{name: getattr(a, name) for name in COLUMNS} for a in attempts]
