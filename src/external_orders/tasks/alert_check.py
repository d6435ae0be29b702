"""Placeholder for the task `external_orders.alert_check` (being written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from external_orders.tasks.registry import ScheduledTask, TaskReport

if TYPE_CHECKING:
    from external_orders.bootstrap import Services


def run(services: Services) -> TaskReport:
    raise NotImplementedError("external_orders.alert_check")


TASK = ScheduledTask(
    name="external_orders.alert_check",
    default_interval=60,
    run=run,
    description="Evaluate the KPI alert rules and notify.",
)
