"""Column types that read the same on SQLite and MySQL/MariaDB.

On MySQL they are BINARY(16), DATETIME(3) and LONGTEXT, so the runbook's SQL
(``LOWER(HEX(id))``, ``UNHEX(REPLACE(...))``, ``NOW(3)``) runs unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect

from external_orders.clock import millisecond


class BinaryUUID(sa.TypeDecorator[UUID]):
    """A UUID stored as its 16 raw bytes."""

    impl = sa.BINARY(16)
    cache_ok = True

    def process_bind_param(self, value: UUID | None, dialect: Dialect) -> bytes | None:
        return None if value is None else value.bytes

    def process_result_value(self, value: Any, dialect: Dialect) -> UUID | None:
        return None if value is None else UUID(bytes=bytes(value))


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC datetime, stored naive in UTC with millisecond precision."""

    impl = sa.DateTime().with_variant(mysql.DATETIME(fsp=3), "mysql", "mariadb")
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC).replace(tzinfo=None)
        return millisecond(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(moment, datetime):
            raise TypeError(f"not a datetime: {moment!r}")
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def long_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
