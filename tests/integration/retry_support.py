"""Helpers for the retry tests: generated orders and retries seeded in the table."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from external_orders.adapters.db.schema import external_order_export as t
from external_orders.bootstrap import Services
from external_orders.clock import millisecond
from external_orders.simulators import sample_orders


def generated_orders(count: int) -> list[dict[str, Any]]:
    """``count`` copies of the first sample order, each with its own id and number."""
    return sample_orders.generated_orders(count, prefix="R")


def import_orders(services: Services, orders: list[dict[str, Any]]) -> list[UUID]:
    """Store ``orders`` in the service's order folder; returns their ids."""
    folder = services.settings.order_dir.parent
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"generated-{uuid.uuid4().hex}.json"
    source.write_text(json.dumps({"data": orders}))
    imported = services.file_orders.import_files([source])
    source.unlink()
    return imported


def seed_attempt(
    engine: sa.Engine,
    order: dict[str, Any],
    *,
    status: str = "retry_scheduled",
    attempts: int = 1,
    due_at: datetime | None,
    at: datetime,
) -> UUID:
    """One attempt row written as the engine would have left it."""
    export_id = uuid.uuid4()
    order_id = UUID(order["id"])
    row = {
        "id": export_id,
        "order_id": order_id,
        "status": status,
        "strategy": "post-xml",
        "attempts": attempts,
        "response_code": "17" if status == "retry_scheduled" else None,
        "response_message": "Artikel unbekannt"
        if status == "retry_scheduled"
        else None,
        "correlation_id": uuid.uuid4().hex,
        "next_retry_at": due_at,
        "created_at": at,
        "updated_at": at,
        "chain_id": export_id,
        "retry_of": None,
        "trigger": "manual",
        "order_number": order["orderNumber"],
        "in_flight": order_id if status == "processing" else None,
    }
    with engine.begin() as connection:
        connection.execute(t.insert().values(**row))
    return export_id


def seed_due_retries(
    engine: sa.Engine, orders: list[dict[str, Any]], now: datetime
) -> dict[UUID, datetime]:
    """One due retry per order, the first order the most overdue; id -> due time."""
    rows = []
    due = {}
    for number, order in enumerate(orders):
        export_id = uuid.uuid4()
        due_at = now - timedelta(minutes=30) + timedelta(milliseconds=number)
        rows.append(
            {
                "id": export_id,
                "order_id": UUID(order["id"]),
                "status": "retry_scheduled",
                "strategy": "post-xml",
                "attempts": 1,
                "response_code": "17",
                "response_message": "Artikel unbekannt",
                "correlation_id": uuid.uuid4().hex,
                "next_retry_at": due_at,
                "created_at": due_at - timedelta(minutes=5),
                "updated_at": due_at - timedelta(minutes=5),
                "chain_id": export_id,
                "retry_of": None,
                "trigger": "manual",
                "order_number": order["orderNumber"],
                "in_flight": None,
            }
        )
        due[export_id] = millisecond(due_at)
    with engine.begin() as connection:
        connection.execute(t.insert(), rows)
    return due


def statuses(engine: sa.Engine) -> dict[str, int]:
    """Rows per status."""
    query = sa.select(t.c.status, sa.func.count()).group_by(t.c.status)
    with engine.connect() as connection:
        return {status: count for status, count in connection.execute(query).all()}


def rows_of(engine: sa.Engine, order_id: UUID) -> list[sa.Row[Any]]:
    """The order's rows, oldest first."""
    query = sa.select(t).where(t.c.order_id == order_id).order_by(t.c.created_at)
    with engine.connect() as connection:
        return list(connection.execute(query).all())


def log_messages(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]
