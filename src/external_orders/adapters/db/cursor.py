"""The new-order cursor: how far ``export_new`` has walked an order source.

One row of ``external_order_cursor`` per order source. A run claims the row
with a lease (renewed at each save), so two runs, in one process or in
several, never walk one cursor at once; a save by a run that lost its lease
(a backfill moved the cursor meanwhile, or the lease ran out and another
run took it) changes nothing and tells the run to stop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from external_orders.adapters.db.schema import order_cursor as t
from external_orders.clock import Clock, millisecond


@dataclass(frozen=True)
class Cursor:
    """Every order created before ``position`` has been decided (handed to the
    export or skipped), and so have the orders created at ``position`` whose
    ids are in ``seen``. ``since`` is the earliest creation time ever taken.

    Times are whole milliseconds: several orders may share one, which is why
    the ids at the boundary are kept instead of a strict "after".
    """

    position: datetime
    seen: frozenset[UUID]
    since: datetime

    @classmethod
    def starting_at(cls, moment: datetime) -> Cursor:
        moment = millisecond(moment)
        return cls(position=moment, seen=frozenset(), since=moment)

    def has_passed(self, created: datetime, order_id: UUID) -> bool:
        created = millisecond(created)
        if created == self.position:
            return order_id in self.seen
        return created < self.position

    def passed(self, created: datetime, order_id: UUID) -> Cursor:
        """The cursor once this order is decided; it never moves back."""
        created = millisecond(created)
        if created > self.position:
            return replace(self, position=created, seen=frozenset({order_id}))
        if created == self.position and order_id not in self.seen:
            return replace(self, seen=self.seen | {order_id})
        return self

    def rewound(self, earliest: datetime) -> Cursor:
        """Where a scan starts that also reads again the orders created since
        ``earliest`` (never before ``since``); the cursor itself when
        ``earliest`` is not before its position."""
        earliest = millisecond(earliest)
        if earliest >= self.position:
            return self
        return replace(self, position=max(earliest, self.since), seen=frozenset())


@dataclass(frozen=True)
class CursorRow:
    """A cursor as stored, with the lease of the run walking it, if any."""

    name: str
    cursor: Cursor
    claimed_by: str | None
    claimed_until: datetime | None
    updated_at: datetime


class CursorStore:
    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def read(self, name: str) -> CursorRow | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(t).where(t.c.name == name)).first()
        return None if row is None else _cursor_row(row)

    def claim(self, name: str, owner: str, lease: timedelta) -> Cursor | None:
        """Take the cursor for one run; None while another run holds its lease.

        A cursor that does not exist yet is created at the clock's now: on
        first start, orders placed before it are not exported automatically.
        """
        now = self.clock.now()
        free = sa.or_(
            t.c.claimed_by.is_(None),
            t.c.claimed_until < now,
            t.c.claimed_by == owner,
        )
        try:
            with self.engine.begin() as connection:
                taken = connection.execute(
                    t.update()
                    .where(t.c.name == name, free)
                    .values(claimed_by=owner, claimed_until=now + lease)
                )
                if taken.rowcount == 0 and self._exists(connection, name):
                    return None
                if taken.rowcount == 0:
                    start = Cursor.starting_at(now)
                    connection.execute(
                        t.insert().values(
                            name=name,
                            **_values(start),
                            since=start.since,
                            claimed_by=owner,
                            claimed_until=now + lease,
                            updated_at=now,
                        )
                    )
        except sa.exc.IntegrityError:
            return None  # another run created it in the same instant
        row = self.read(name)
        return None if row is None else row.cursor

    def save(self, name: str, owner: str, cursor: Cursor, lease: timedelta) -> bool:
        """Store how far the run got and renew its lease; False if it lost it."""
        now = self.clock.now()
        with self.engine.begin() as connection:
            saved = connection.execute(
                t.update()
                .where(t.c.name == name, t.c.claimed_by == owner)
                .values(**_values(cursor), claimed_until=now + lease, updated_at=now)
            )
        return saved.rowcount == 1

    def release(self, name: str, owner: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                t.update()
                .where(t.c.name == name, t.c.claimed_by == owner)
                .values(claimed_by=None, claimed_until=None)
            )

    def reset(self, name: str, moment: datetime) -> Cursor:
        """Move the cursor to ``moment`` (``orders backfill --since``).

        Every order created since then is looked at again; those with an
        attempt are not exported twice. A run walking the cursor loses its
        lease and stops at its next save.
        """
        now = self.clock.now()
        cursor = Cursor.starting_at(moment)
        values = {
            **_values(cursor),
            "since": cursor.since,
            "claimed_by": None,
            "claimed_until": None,
            "updated_at": now,
        }
        with self.engine.begin() as connection:
            moved = connection.execute(
                t.update().where(t.c.name == name).values(values)
            )
            if moved.rowcount == 0:
                connection.execute(t.insert().values(name=name, **values))
        return cursor

    def _exists(self, connection: sa.Connection, name: str) -> bool:
        query = sa.select(t.c.name).where(t.c.name == name)
        return connection.execute(query).first() is not None


def _values(cursor: Cursor) -> dict[str, Any]:
    seen = sorted(order_id.hex for order_id in cursor.seen)
    return {"position": cursor.position, "seen_ids": json.dumps(seen)}


def _cursor_row(row: sa.Row[Any]) -> CursorRow:
    seen = frozenset(UUID(hex_id) for hex_id in json.loads(row.seen_ids))
    return CursorRow(
        name=row.name,
        cursor=Cursor(position=row.position, seen=seen, since=row.since),
        claimed_by=row.claimed_by,
        claimed_until=row.claimed_until,
        updated_at=row.updated_at,
    )
