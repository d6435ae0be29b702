"""KPI queries on a large ``external_order_export``: EXPLAIN and timings.

Seeds ROWS attempts (default 1,000,000) spread over 90 days with one
``INSERT ... SELECT`` (MariaDB's ``seq_1_to_N`` table, SQLite's recursive
CTE), plus PENDING ``retry_scheduled`` rows around now and BURST extra
attempts in the last 15 minutes; then prints the plan of every query a KPI
snapshot runs and how long each takes, and the time of a whole snapshot
and of a ``/metrics`` rendering.

    .venv/bin/python bench/kpi_queries.py \\
        --database-url 'mysql+pymysql://root@127.0.0.1:3306/DB?charset=utf8mb4'

It drops and recreates the service's tables in that database.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from external_orders.adapters.db.engine import create_database_engine, upgrade_database
from external_orders.adapters.db.kpis import kpi_queries
from external_orders.adapters.db.schema import external_order_export, metadata
from external_orders.clock import SystemClock
from external_orders.metrics import ExportMetrics
from external_orders.services.kpi import kpi_service
from external_orders.settings import Settings

COLUMNS = (
    "id, order_id, status, strategy, attempts, correlation_id, next_retry_at, "
    "created_at, updated_at, chain_id, `trigger`, order_number, last_error"
)

MYSQL_SEED = """
INSERT INTO external_order_export ({columns})
SELECT
  UNHEX(CONCAT('{tag}', LPAD(HEX(seq), 31, '0'))),
  UNHEX(MD5(CONCAT('o{tag}', seq DIV 2))),
  {status},
  'post-xml', seq % 6, MD5(CONCAT('c{tag}', seq)), {next_retry_at},
  {created_at}, {created_at},
  UNHEX(CONCAT('{tag}', LPAD(HEX(seq), 31, '0'))), 'manual', CONCAT('B', seq),
  {last_error}
FROM seq_1_to_{rows}
"""

HISTORY = {
    "status": "CASE WHEN seq % 100 < 94 THEN 'sent' WHEN seq % 100 < 98 "
    "THEN 'failed' ELSE 'failed_permanent' END",
    "next_retry_at": "NULL",
    "created_at": "UTC_TIMESTAMP(3) - INTERVAL (seq * 7776000) MICROSECOND",
    "last_error": "CASE WHEN seq % 1000 = 999 "
    "THEN 'invalid SAN6 config: missing company' ELSE NULL END",
}
PENDING = {
    "status": "'retry_scheduled'",
    "next_retry_at": "UTC_TIMESTAMP(3) "
    "+ INTERVAL (CAST(seq % 3900 AS SIGNED) - 2400) SECOND",
    "created_at": "UTC_TIMESTAMP(3) - INTERVAL (seq % 3600) SECOND",
    "last_error": "'HTTP 503'",
}
BURST = {
    "status": "CASE WHEN seq % 4 = 0 THEN 'sent' ELSE 'failed' END",
    "next_retry_at": "NULL",
    "created_at": "UTC_TIMESTAMP(3) - INTERVAL (seq % 880) SECOND",
    "last_error": "NULL",
}


def seed_mysql(engine: sa.Engine, rows: int, pending: int, burst: int) -> None:
    """Ids in ascending order and indexes built afterwards: a bulk load, not
    a million random B-tree inserts (minutes instead of tens of seconds)."""
    indexes = list(external_order_export.indexes)
    with engine.begin() as connection:
        for index in indexes:
            index.drop(connection)
        for tag, count, shape in (
            ("a", rows, HISTORY),
            ("b", pending, PENDING),
            ("c", burst, BURST),
        ):
            if count:
                sql = MYSQL_SEED.format(columns=COLUMNS, tag=tag, rows=count, **shape)
                # The driver formats with %: the modulo operator is doubled.
                connection.exec_driver_sql(sql.replace("%", "%%"))
        for index in indexes:
            index.create(connection)
        connection.exec_driver_sql("ANALYZE TABLE external_order_export")


def seed_sqlite(engine: sa.Engine, rows: int, pending: int, burst: int) -> None:
    def sqlite(shape: dict[str, str]) -> dict[str, str]:
        text = dict(shape)
        for key in ("next_retry_at", "created_at"):
            text[key] = _sqlite_time(text[key])
        return text

    with engine.begin() as connection:
        for count, shape in ((rows, HISTORY), (pending, PENDING), (burst, BURST)):
            if not count:
                continue
            values = sqlite(shape)
            connection.exec_driver_sql(
                "WITH RECURSIVE s(seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM s "
                f"WHERE seq < {count}) INSERT INTO external_order_export "
                f"({COLUMNS.replace('`', '')}) SELECT "
                f"randomblob(16), randomblob(16), {values['status']}, 'post-xml', "
                f"seq % 6, hex(randomblob(16)), {values['next_retry_at']}, "
                f"{values['created_at']}, {values['created_at']}, randomblob(16), "
                f"'manual', 'B' || seq, {values['last_error']} FROM s"
            )
        connection.exec_driver_sql("ANALYZE")


def _sqlite_time(mysql_expression: str) -> str:
    """The SQLite spelling of the few MySQL time expressions above."""
    if mysql_expression == "NULL":
        return "NULL"
    moment = "strftime('%Y-%m-%d %H:%M:%f', 'now'"
    if "7776000) MICROSECOND" in mysql_expression:
        return f"{moment}, '-' || (seq * 7.776) || ' seconds')"
    if "+ INTERVAL" in mysql_expression or "\n" in mysql_expression:
        return f"{moment}, (seq % 3900 - 2400) || ' seconds')"
    if "% 3600" in mysql_expression:
        return f"{moment}, '-' || (seq % 3600) || ' seconds')"
    return f"{moment}, '-' || (seq % 880) || ' seconds')"


def explain(engine: sa.Engine, statement: sa.Select[Any]) -> list[str]:
    compiled = statement.compile(
        dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = {
        key: value.astimezone(UTC).replace(tzinfo=None)
        if isinstance(value, datetime)
        else value
        for key, value in compiled.params.items()
    }
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    arguments: Any = params
    if compiled.positiontup is not None:
        arguments = tuple(params[name] for name in compiled.positiontup)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + str(compiled), arguments)
        names = list(rows.keys())
        return [
            ", ".join(f"{k}={v}" for k, v in zip(names, row, strict=True) if v)
            for row in rows
        ]


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        durations.append((time.perf_counter() - started) * 1000)
    durations.sort()
    return statistics.median(durations), durations[int(0.95 * (len(durations) - 1))]


def run_query(engine: sa.Engine, statement: sa.Select[Any]) -> None:
    with engine.connect() as connection:
        connection.execute(statement).all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=5_000)
    parser.add_argument("--burst", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()

    engine = create_database_engine(options.database_url)
    with engine.begin() as connection:
        for table in [*reversed(metadata.sorted_tables), sa.table("alembic_version")]:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
    upgrade_database(engine)

    started = time.perf_counter()
    seed = seed_sqlite if engine.dialect.name == "sqlite" else seed_mysql
    seed(engine, options.rows, options.pending, options.burst)
    total = options.rows + options.pending + options.burst
    print(f"seeded {total:,} rows in {time.perf_counter() - started:.1f} s")

    now = SystemClock().now()
    for name, statement in kpi_queries(now, now - timedelta(minutes=15)).items():
        median, p95 = timed(lambda s=statement: run_query(engine, s), options.repeat)
        print(f"\n{name}: median {median:.2f} ms, p95 {p95:.2f} ms")
        for line in explain(engine, statement):
            print(f"  {line}")

    settings = Settings(database_url=options.database_url)
    kpis = kpi_service(settings, engine, SystemClock())
    median, p95 = timed(kpis.snapshot, options.repeat)
    print(f"\nKPI snapshot: median {median:.2f} ms, p95 {p95:.2f} ms")
    metrics = ExportMetrics(kpis)
    median, p95 = timed(metrics.render, options.repeat)
    print(f"/metrics rendering: median {median:.2f} ms, p95 {p95:.2f} ms")
    snapshot = kpis.snapshot()
    print({name: value.value for name, value in snapshot.values.items()})
    engine.dispose()


if __name__ == "__main__":
    main()
