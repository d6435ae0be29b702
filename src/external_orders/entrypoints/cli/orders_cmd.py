"""``external-orders orders``: the order folder."""

from __future__ import annotations

from pathlib import Path

import typer

from external_orders.entrypoints.cli.context import services
from external_orders.entrypoints.cli.output import JSON_OPTION_HELP, print_json

app = typer.Typer(help="Orders of the file order source.", no_args_is_help=True)


@app.command("import")
def import_(
    files: list[Path],
    json_output: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Check order files (one order or {"data": [...]}) and copy them in.

    Nothing is imported when any file is not a valid order document.
    """
    imported = services().file_orders.import_files(files)
    if json_output:
        print_json({"imported": [order_id.hex for order_id in imported]})
        return
    folder = services().settings.order_dir
    print(f"imported {len(imported)} order(s) into {folder}")
