"""Alert state and the notification outbox: ``alert_state``, ``alert_notification``.

Two rules live here because only the database can hold them across
processes and restarts: a state change and its notifications are written
in one transaction, and only if the state is still the one read (its
``version``), so two checks running at once never both notify; and one
sender per notification, claimed by a compare-and-set on its status.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from external_orders.adapters.db.schema import alert_notification as n
from external_orders.adapters.db.schema import alert_state as s
from external_orders.domain.alert_message import AlertMessage
from external_orders.domain.alerting import AlertState
from external_orders.domain.kpi import Level

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
ABANDONED = "abandoned"


@dataclass(frozen=True)
class Notification:
    """One row of the outbox: a message for one channel."""

    id: UUID
    channel: str
    message: AlertMessage
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def _state(row: sa.Row[Any]) -> AlertState:
    return AlertState(
        name=row.alert,
        severity=Level(row.severity),
        pending_since=row.pending_since,
        fired_at=row.fired_at,
        last_notified_at=row.last_notified_at,
        value=row.value,
        threshold=row.threshold,
        version=row.version,
    )


def _notification(row: sa.Row[Any]) -> Notification:
    return Notification(
        id=row.id,
        channel=row.channel,
        message=AlertMessage.from_json(row.payload),
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


class AlertStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def states(self) -> dict[str, AlertState]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(s).order_by(s.c.alert))
            return {row.alert: _state(row) for row in rows}

    def save(
        self,
        seen: AlertState,
        new: AlertState,
        messages: Sequence[tuple[str, AlertMessage]],
        now: datetime,
    ) -> bool:
        """Store ``new`` in place of ``seen`` and queue ``messages`` (channel,
        message), all or nothing; False when someone changed the state first."""
        values = _state_values(new, now)
        try:
            with self.engine.begin() as connection:
                if seen.version == 0:
                    connection.execute(s.insert().values(alert=new.name, **values))
                else:
                    changed = connection.execute(
                        s.update()
                        .where(s.c.alert == seen.name, s.c.version == seen.version)
                        .values(**values)
                    )
                    if changed.rowcount != 1:
                        raise _Stale()
                self._queue(connection, messages, now)
        except (_Stale, sa.exc.IntegrityError):
            return False
        return True

    def queue(
        self, messages: Sequence[tuple[str, AlertMessage]], now: datetime
    ) -> None:
        with self.engine.begin() as connection:
            self._queue(connection, messages, now)

    def _queue(
        self,
        connection: sa.Connection,
        messages: Sequence[tuple[str, AlertMessage]],
        now: datetime,
    ) -> None:
        rows = [_outbox_row(channel, message, now) for channel, message in messages]
        if rows:
            connection.execute(n.insert(), rows)

    def claim_due(
        self, now: datetime, until: datetime, limit: int
    ) -> list[Notification]:
        """Take up to ``limit`` due notifications, each for us alone until
        ``until``; a claim left by a sender that died is due again then."""
        due = (
            sa.select(n.c.id, n.c.status, n.c.next_attempt_at)
            .where(n.c.status.in_((PENDING, SENDING)), n.c.next_attempt_at <= now)
            .order_by(n.c.next_attempt_at, n.c.created_at)
            .limit(limit)
        )
        claimed = []
        with self.engine.connect() as connection:
            candidates = list(connection.execute(due))
        for row in candidates:
            if self._claim(row.id, (row.status, row.next_attempt_at), now, until):
                claimed.append(row.id)
        return [self.get(notification_id) for notification_id in claimed]

    def _claim(
        self,
        notification_id: UUID,
        seen: tuple[str, datetime],
        now: datetime,
        until: datetime,
    ) -> bool:
        status, next_attempt_at = seen
        with self.engine.begin() as connection:
            taken = connection.execute(
                n.update()
                .where(
                    n.c.id == notification_id,
                    n.c.status == status,
                    n.c.next_attempt_at == next_attempt_at,
                )
                .values(
                    status=SENDING,
                    attempts=n.c.attempts + 1,
                    next_attempt_at=until,
                    updated_at=now,
                )
            )
        return taken.rowcount == 1

    def sent(self, notification: Notification, now: datetime) -> None:
        self._close(notification, status=SENT, sent_at=now, updated_at=now)

    def failed(
        self,
        notification: Notification,
        error: str,
        retry_at: datetime | None,
        now: datetime,
    ) -> None:
        """Record a failed send: pending again at ``retry_at``, or abandoned."""
        self._close(
            notification,
            status=PENDING if retry_at else ABANDONED,
            next_attempt_at=retry_at or notification.next_attempt_at,
            last_error=error,
            updated_at=now,
        )

    def _close(self, notification: Notification, **values: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                n.update()
                .where(n.c.id == notification.id, n.c.status == SENDING)
                .values(**values)
            )

    def get(self, notification_id: UUID) -> Notification:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(n).where(n.c.id == notification_id))
            return _notification(row.one())

    def recent(self, limit: int = 20) -> list[Notification]:
        query = sa.select(n).order_by(n.c.created_at.desc()).limit(limit)
        with self.engine.connect() as connection:
            return [_notification(row) for row in connection.execute(query)]

    def outbox_counts(self) -> dict[str, int]:
        query = sa.select(n.c.status, sa.func.count().label("total")).group_by(
            n.c.status
        )
        with self.engine.connect() as connection:
            return {row.status: row.total for row in connection.execute(query)}


class _Stale(Exception):
    """The stored state is no longer the one the check read."""


def _state_values(state: AlertState, now: datetime) -> dict[str, Any]:
    return {
        "severity": state.severity.value,
        "value": state.value,
        "threshold": state.threshold,
        "pending_since": state.pending_since,
        "fired_at": state.fired_at,
        "last_notified_at": state.last_notified_at,
        "version": state.version + 1,
        "updated_at": now,
    }


def _outbox_row(channel: str, message: AlertMessage, now: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "channel": channel,
        "alert": message.alert,
        "event": message.event.value,
        "severity": message.severity.value,
        "payload": message.to_json(),
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
