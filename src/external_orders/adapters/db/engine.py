"""Database engines, connection rules per backend, and ``db upgrade``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")


def create_database_engine(url: str) -> sa.Engine:
    """An engine with the session rules the service relies on.

    MySQL/MariaDB: session time zone UTC (``NOW(3)`` then compares with the
    stored UTC times), READ COMMITTED, pre-ping so a restarted server is met
    with a reconnect. SQLite: WAL, a busy timeout, and ``BEGIN IMMEDIATE``
    so that concurrent writers queue instead of failing to upgrade a lock.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_recycle": 3600}
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        options["isolation_level"] = "READ COMMITTED"
        options["connect_args"] = {"init_command": "SET time_zone = '+00:00'"}
    return sa.create_engine(parsed, **options)


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def upgrade_database(engine: sa.Engine) -> None:
    """Apply every migration not yet applied; running it again changes nothing."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
