"""``external-orders doctor``: checks database, time zone, settings, tasks."""

from __future__ import annotations

import typer

from external_orders.entrypoints.cli.context import services
from external_orders.entrypoints.cli.errors import CommandFailed
from external_orders.entrypoints.cli.output import (
    JSON_OPTION_HELP,
    print_json,
    print_table,
)
from external_orders.logs import redact
from external_orders.services.doctor import CheckStatus, run_checks


def doctor(
    json_output: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Check the installation; exit 1 when a check fails (warnings exit 0)."""
    results = run_checks(services())
    rows = [(r.name, r.status.value, redact(r.message)) for r in results]
    if json_output:
        print_json([{"check": c, "status": s, "message": m} for c, s, m in rows])
    else:
        print_table(["check", "status", "message"], rows, title="doctor")

    failed = [r.name for r in results if r.status is CheckStatus.FAIL]
    if failed:
        raise CommandFailed(f"{len(failed)} check(s) failed: {', '.join(failed)}")


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
