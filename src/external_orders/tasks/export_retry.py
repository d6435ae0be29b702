"""Placeholder for the task `external_orders.export_retry` (being written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from external_orders.tasks.registry import ScheduledTask, TaskReport

if TYPE_CHECKING:
    from external_orders.bootstrap import Services


def run(services: Services) -> TaskReport:
    raise NotImplementedError("external_orders.export_retry")


TASK = ScheduledTask(
    name="external_orders.export_retry",
    default_interval=60,
    run=run,
    description="Retry failed exports whose next_retry_at has come.",
)
