"""Orders kept as JSON files in a folder (the embedded default source).

``import_files`` stores each order as ``<order id>.json``; files dropped in
the folder by hand may hold one order or a search result ``{"data": [...]}``
and are found by a scan when no file carries the order's name.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from external_orders.domain.order import order_id_of, orders_in_document
from external_orders.errors import (
    InvalidOrderDocument,
    OrderNotFound,
    OrderSourceUnavailable,
)


def read_order_file(path: Path) -> list[dict[str, Any]]:
    """The orders of one file; raises ``InvalidOrderDocument`` naming it."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise InvalidOrderDocument(source, "no such file") from error
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidOrderDocument(source, f"cannot be read ({error})") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidOrderDocument(source, f"not JSON ({error})") from error
    return orders_in_document(document, source)


class FileOrderSource:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get(self, order_id: UUID) -> dict[str, Any]:
        named = self.directory / f"{order_id.hex}.json"
        if named.exists():
            for order in self._orders_in(named):
                if order_id_of(order) == order_id:
                    return order
        for order in self.all():
            if order_id_of(order) == order_id:
                return order
        raise OrderNotFound(order_id)

    def all(self) -> Iterator[dict[str, Any]]:
        """Every readable order of the folder; unreadable files are skipped."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("*.json")):
            try:
                yield from read_order_file(path)
            except InvalidOrderDocument:
                continue

    def _orders_in(self, path: Path) -> list[dict[str, Any]]:
        try:
            return read_order_file(path)
        except InvalidOrderDocument as error:
            raise OrderSourceUnavailable(None, str(error)) from error

    def import_files(self, paths: Sequence[Path]) -> list[UUID]:
        """Store the orders of ``paths``; all files are checked before any write.

        A file that is not a valid order document raises
        ``InvalidOrderDocument`` and nothing is imported.
        """
        orders = [order for path in paths for order in read_order_file(path)]
        self.directory.mkdir(parents=True, exist_ok=True)
        imported = []
        for order in orders:
            order_id = order_id_of(order)
            _write_atomically(self.directory / f"{order_id.hex}.json", order)
            imported.append(order_id)
        return imported


def _write_atomically(path: Path, order: dict[str, Any]) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(order, file, ensure_ascii=False, indent=2)
    os.replace(temporary, path)
