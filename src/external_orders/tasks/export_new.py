"""Placeholder for the task `external_orders.export_new` (being written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from external_orders.tasks.registry import ScheduledTask, TaskReport

if TYPE_CHECKING:
    from external_orders.bootstrap import Services


def run(services: Services) -> TaskReport:
    raise NotImplementedError("external_orders.export_new")


TASK = ScheduledTask(
    name="external_orders.export_new",
    default_interval=60,
    run=run,
    description="Export orders placed since the last run.",
)
