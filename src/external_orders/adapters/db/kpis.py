"""The counts behind the KPIs, each one indexed query on ``external_order_export``.

The two window queries are ranges of ``idx_external_order_export_status_created``
(status, created_at): the per-status count reads the index alone, the
invalid-settings count looks up only the window's ``failed_permanent`` rows.
The retry query is a range of ``idx_external_order_export_status_retry``,
also read from the index alone. None reads the whole table, so they stay
cheap enough for every Prometheus scrape: ``bench/kpi_queries.py`` prints
their EXPLAIN and timings on 1,000,000 rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from external_orders.adapters.db.schema import external_order_export as t
from external_orders.adapters.db.schema import scheduled_task
from external_orders.domain.attempt import Status
from external_orders.domain.kpi import FAILED_STATUSES, INVALID_CONFIG_PREFIX


@dataclass(frozen=True)
class WindowCounts:
    """Attempts created since the start of the window."""

    total: int
    failed: int
    invalid_config: int


@dataclass(frozen=True)
class RetryCounts:
    """Rows in ``retry_scheduled``, now."""

    pending: int
    overdue: int
    oldest_due: datetime | None
    """The earliest ``next_retry_at`` among the overdue ones."""


def window_query(since: datetime) -> sa.Select[Any]:
    """Attempts created since ``since``, per status.

    Every status is named so that each is one range of the (status,
    created_at) index, read from the index alone.
    """
    return (
        sa.select(t.c.status, sa.func.count().label("total"))
        .where(
            t.c.status.in_([status.value for status in Status]),
            t.c.created_at >= since,
        )
        .group_by(t.c.status)
    )


def invalid_config_query(since: datetime) -> sa.Select[Any]:
    """Attempts created since ``since`` and closed for invalid SAN6 settings."""
    return sa.select(sa.func.count()).where(
        t.c.created_at >= since,
        t.c.status == Status.FAILED_PERMANENT.value,
        t.c.last_error.like(INVALID_CONFIG_PREFIX + "%"),
    )


def retry_query(now: datetime) -> sa.Select[Any]:
    """Pending retries, the overdue ones, and the earliest overdue due time."""
    due = t.c.next_retry_at <= now
    overdue = sa.func.coalesce(sa.func.sum(sa.case((due, 1), else_=0)), 0)
    oldest = sa.func.min(sa.case((due, t.c.next_retry_at), else_=None))
    return sa.select(
        sa.func.count().label("pending"),
        overdue.label("overdue"),
        oldest.label("oldest"),
    ).where(t.c.status == Status.RETRY_SCHEDULED.value)


def kpi_queries(now: datetime, since: datetime) -> dict[str, sa.Select[Any]]:
    """Every query a KPI snapshot runs, by name (for EXPLAIN in the bench)."""
    return {
        "window": window_query(since),
        "window invalid config": invalid_config_query(since),
        "retries": retry_query(now),
    }


class KpiStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def window_counts(self, since: datetime) -> WindowCounts:
        """Attempts with ``created_at >= since``: all, failed, invalid settings."""
        with self.engine.connect() as connection:
            rows = connection.execute(window_query(since))
            totals = {row.status: int(row.total) for row in rows}
            invalid = connection.execute(invalid_config_query(since)).scalar_one()

        failed = sum(totals.get(status, 0) for status in FAILED_STATUSES)
        return WindowCounts(sum(totals.values()), failed, int(invalid))

    def retry_counts(self, now: datetime) -> RetryCounts:
        with self.engine.connect() as connection:
            row = connection.execute(retry_query(now)).one()
        return RetryCounts(int(row.pending), int(row.overdue), row.oldest)

    def last_task_run(self, name: str) -> datetime | None:
        """``scheduled_task.last_execution_time`` of task ``name``, if it ran."""
        query = sa.select(scheduled_task.c.last_execution_time).where(
            scheduled_task.c.name == name
        )
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one_or_none()
