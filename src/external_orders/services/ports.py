"""What the export service needs from the world, as protocols."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
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

    def created_since(
        self, start: datetime, *, exclude: Collection[UUID] = (), limit: int
    ) -> list[dict[str, Any]]:
        """Orders created at or after ``start``, oldest first, at most ``limit``.

        Sorted by ``createdAt`` (millisecond precision), then ``id``, so that
        orders sharing a millisecond come in a stable order; the orders of
        ``exclude`` are left out. Each holds at least ``id``, ``createdAt``
        and what the new-order qualification reads (``stateMachineState``,
        ``transactions``, ``salesChannelId``, ``tags``, ``customFields``);
        it may be a summary rather than the whole order. Raises
        ``OrderSourceUnavailable``.
        """
        ...

    def check(self) -> str:
        """One line saying the source answers (for ``doctor``).

        Raises ``OrderSourceUnavailable`` (``OrderSourceAuthFailed`` for
        refused credentials) when it does not.
        """
        ...
