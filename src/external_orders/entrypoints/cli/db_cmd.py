"""``external-orders db``: the schema."""

from __future__ import annotations

import typer

from external_orders.adapters.db.engine import upgrade_database
from external_orders.entrypoints.cli.context import services

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create or update the tables; safe to run again."""
    upgrade_database(services().engine)
    print("database is up to date")
