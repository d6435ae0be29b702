"""``external-orders db``: the schema."""

from __future__ import annotations

import sqlalchemy as sa
import typer

from external_orders.adapters.db.engine import upgrade_database
from external_orders.entrypoints.cli.context import services

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create or update the tables; safe to run again."""
    engine = services().engine
    before = _revision(engine)
    upgrade_database(engine, services().clock)
    after = _revision(engine)
    if before == after:
        print(f"database is up to date (revision {after})")
    else:
        print(f"database upgraded from revision {before or 'none'} to {after}")


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(
            sa.text("SELECT version_num FROM alembic_version")
        ).scalar()
