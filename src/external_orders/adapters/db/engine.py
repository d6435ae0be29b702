"""Database engines, connection rules per backend, and ``db upgrade``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from external_orders.clock import Clock, SystemClock

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


def upgrade_database(engine: sa.Engine, clock: Clock | None = None) -> None:
    """Apply every migration not yet applied, then register the scheduled tasks.

    Running it again changes nothing: a registered task keeps its interval
    and status. New tasks are due at once (``clock``, default the system's).
    """
    # Imported here: alembic costs ~0.15 s, and only `db upgrade` needs it.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    register_tasks(engine, clock or SystemClock())


def register_tasks(engine: sa.Engine, clock: Clock) -> list[str]:
    """Add every task of ``tasks.registry`` missing from ``scheduled_task``."""
    # Imported here: the registry imports the task modules, which import the
    # services, which import this module.
    from external_orders.adapters.db.tasks import TaskStore
    from external_orders.settings import Settings
    from external_orders.tasks.registry import registered_intervals

    return TaskStore(engine, clock).register(registered_intervals(Settings()))


def is_database_error(error: BaseException) -> bool:
    """True for errors of the database layer (unreachable, lost, locked)."""
    return isinstance(error, sa.exc.SQLAlchemyError)


@dataclass(frozen=True)
class TimeZones:
    """What the server says about time zones (MySQL/MariaDB only).

    Offsets are minutes east of UTC at this moment; ``default_offset`` is
    what a new session without ``SET time_zone`` gets (an operator's
    ``mysql`` shell running the runbook's ``NOW(3)`` queries).
    """

    session_zone: str
    session_offset: int
    default_zone: str
    system_zone: str
    default_offset: int


def time_zones(engine: sa.Engine) -> TimeZones | None:
    """The server's time zones; None on backends without any (SQLite)."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        return None
    offset = "SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW())"
    with engine.connect() as connection:
        session = connection.exec_driver_sql(
            "SELECT @@session.time_zone, @@global.time_zone, @@system_time_zone"
        ).one()
        session_offset = connection.exec_driver_sql(offset).scalar_one()
        try:
            connection.exec_driver_sql("SET time_zone = DEFAULT")
            default_offset = connection.exec_driver_sql(offset).scalar_one()
        finally:
            connection.exec_driver_sql("SET time_zone = '+00:00'")
    return TimeZones(
        session_zone=str(session[0]),
        session_offset=int(session_offset),
        default_zone=str(session[1]),
        system_zone=str(session[2]),
        default_offset=int(default_offset),
    )


@dataclass(frozen=True)
class DatabaseInfo:
    """Where the service's database is and whether its schema is in place."""

    url: str
    """The URL with its password hidden."""
    backend: str
    server_version: str
    revision: str | None
    missing_tables: list[str]


def describe_database(engine: sa.Engine) -> DatabaseInfo:
    """Connects and reads the server version and the schema's revision."""
    from external_orders.adapters.db.schema import metadata

    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
        inspector = sa.inspect(connection)
        missing = [name for name in metadata.tables if not inspector.has_table(name)]
        revision = None
        if inspector.has_table("alembic_version"):
            revision = connection.exec_driver_sql(
                "SELECT version_num FROM alembic_version"
            ).scalar()
    info = engine.dialect.server_version_info or ()
    return DatabaseInfo(
        url=engine.url.render_as_string(hide_password=True),
        backend=engine.dialect.name,
        server_version=".".join(str(part) for part in info),
        revision=None if revision is None else str(revision),
        missing_tables=missing,
    )
