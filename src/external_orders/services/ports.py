"""What the export service needs from the world, as protocols."""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID


class OrderSource(Protocol):
    """Where orders come from: a folder of JSON files, or Shopware's Admin API."""

    def get(self, order_id: UUID) -> dict[str, Any]:
        """The order entity in Shopware's Admin API JSON shape.

        Raises ``OrderNotFound`` when the source has no such order, and
        ``OrderSourceUnavailable`` when it cannot answer now (retried later).
        """
        ...
