"""Orders kept as JSON files in a folder (the embedded default source).

``import_files`` stores each order as ``<order id>.json``; files dropped in
the folder by hand may hold one order or a search result ``{"data": [...]}``
and are found by a scan when no file carries the order's name. New orders
are listed by their ``createdAt`` with a scan of the whole folder, which
suits the embedded source and its few hundred files, not a shop's history.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from external_orders.domain.order import (
    created_at_of,
    order_id_of,
    orders_in_document,
)
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
    except RecursionError as error:
        raise InvalidOrderDocument(source, "not JSON (nested too deeply)") from error
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

    def created_since(
        self, start: datetime, *, exclude: Collection[UUID] = (), limit: int
    ) -> list[dict[str, Any]]:
        """See ``OrderSource.created_since``; orders without a createdAt are
        never listed, and an order found in two files is listed once."""
        found: dict[UUID, tuple[datetime, dict[str, Any]]] = {}
        for order in self.all():
            order_id = order_id_of(order)
            created = created_at_of(order)
            if created is None or order_id in exclude or order_id in found:
                continue
            if created >= start:
                found[order_id] = (created, order)
        ordered = sorted(found.items(), key=lambda item: (item[1][0], item[0].hex))
        return [order for _order_id, (_created, order) in ordered[:limit]]

    def check(self) -> str:
        if not self.directory.is_dir():
            return f"order folder {self.directory} does not exist yet (no orders)"
        count = sum(1 for _order in self.all())
        return f"order folder {self.directory} holds {count} readable orders"

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
        # Everything is read and serialised before the first write.
        texts = {
            order_id_of(order): _serialised(order)
            for path in paths
            for order in read_order_file(path)
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        for order_id, text in texts.items():
            _write_atomically(self.directory / f"{order_id.hex}.json", text)
        return list(texts)


def _serialised(order: dict[str, Any]) -> str:
    text = json.dumps(order, ensure_ascii=False, indent=2)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (valid as a JSON escape) cannot be written as
        # UTF-8; the escaped form keeps the document as it was given.
        return json.dumps(order, ensure_ascii=True, indent=2)
    return text


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
