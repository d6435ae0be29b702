"""``external-orders orders``: the order folder and the new-order cursor."""

from __future__ import annotations

from pathlib import Path

import typer

from external_orders.adapters.db.cursor import CursorRow
from external_orders.domain.order import timestamp_of
from external_orders.entrypoints.cli.context import services
from external_orders.entrypoints.cli.errors import CommandFailed
from external_orders.entrypoints.cli.output import JSON_OPTION_HELP, print_json
from external_orders.entrypoints.presenters import iso
from external_orders.errors import InvalidInput
from external_orders.tasks.export_new import cursor_store, new_order_export

app = typer.Typer(
    help="Order files, and where the export of new orders stands.",
    no_args_is_help=True,
)

JsonOption = typer.Option(False, "--json", help=JSON_OPTION_HELP)


@app.command("import")
def import_(files: list[Path], json_output: bool = JsonOption) -> None:
    """Check order files (one order or {"data": [...]}) and copy them in.

    Nothing is imported when any file is not a valid order document.
    """
    imported = services().file_orders.import_files(files)
    if json_output:
        print_json({"imported": [order_id.hex for order_id in imported]})
        return
    folder = services().settings.order_dir
    print(f"imported {len(imported)} order(s) into {folder}")


@app.command("cursor")
def cursor(json_output: bool = JsonOption) -> None:
    """Where export_new stands for the configured order source."""
    source = services().settings.order_source
    row = cursor_store(services()).read(source)
    if json_output:
        print_json(_cursor_json(source, row))
    elif row is None:
        print(
            f"source {source}: no cursor yet; the first export_new run starts "
            "at the time it runs (or run `orders backfill --since DATE`)"
        )
    else:
        for key, value in _cursor_json(source, row).items():
            print(f"{key}: {'' if value is None else value}")


@app.command("backfill")
def backfill(
    since: str = typer.Option(
        ..., "--since", help="A date (2026-11-01, UTC) or an ISO 8601 time."
    ),
    run: bool = typer.Option(
        True, "--run/--no-run", help="Export the orders now (default), or only move."
    ),
    json_output: bool = JsonOption,
) -> None:
    """Move the cursor back to DATE: orders created since then with no attempt
    yet are exported (now, and by the next export_new runs)."""
    moment = timestamp_of(since)
    if moment is None:
        raise InvalidInput(
            f"--since {since!r}: expected a date like 2026-11-01 "
            "or a time like 2026-11-01T08:00:00+01:00"
        )
    if moment > services().clock.now():
        # A typo in the year would silently stop every new-order export.
        raise InvalidInput(f"--since {since!r} is in the future")
    source = services().settings.order_source
    cursor_store(services()).reset(source, moment)
    report = new_order_export(services(), unlimited=True).run() if run else None

    if json_output:
        print_json(
            {
                "source": source,
                "since": iso(moment),
                "run": None if report is None else report.as_report(),
            }
        )
    else:
        print(f"source {source}: cursor moved to {iso(moment)}")
    if report is None:
        return
    if not json_output:
        print(
            f"exported {report.exported}, skipped {report.skipped}, "
            f"already handled {report.known}; cursor at {iso(report.position)}"
        )
    if report.busy or report.stopped:
        reason = report.stopped or "another export_new run is going on"
        raise CommandFailed(f"the cursor moved, the run stopped: {reason}")


def _cursor_json(source: str, row: CursorRow | None) -> dict[str, object]:
    if row is None:
        return {"source": source, "position": None}
    return {
        "source": source,
        "position": iso(row.cursor.position),
        "ordersAtPosition": len(row.cursor.seen),
        "since": iso(row.cursor.since),
        "claimedBy": row.claimed_by,
        "claimedUntil": iso(row.claimed_until),
        "updatedAt": iso(row.updated_at),
    }
