"""Printing for the CLI: Rich tables for people, ``--json`` for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

PIPED_WIDTH = 250

# Piped output (rg, less, a file) gets wide tables instead of Rich's 80
# columns, which folded every id over several lines.
console = Console(
    highlight=False,
    soft_wrap=True,
    width=None if sys.stdout.isatty() else PIPED_WIDTH,
)

JSON_OPTION_HELP = "Print JSON instead of a table."


def print_json(value: Any) -> None:
    # Plain print: Rich would wrap long lines and break the JSON.
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None
) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)
