"""The scheduled tasks this service knows, by name.

Each task module defines ``TASK``; ``db upgrade`` registers every one of
them in ``scheduled_task`` with its default interval, and the worker and
``task run`` look them up here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from external_orders.bootstrap import Services

TaskReport = Mapping[str, object]


@dataclass(frozen=True)
class ScheduledTask:
    name: str
    default_interval: int
    """Seconds between two runs, unless ``scheduled_task.run_interval`` says else."""
    run: Callable[[Services], TaskReport]
    """One run now; returns what it did, for the log and ``task run``."""
    description: str


def all_tasks() -> dict[str, ScheduledTask]:
    # Imported here: task modules import the services, which import this.
    from external_orders.tasks import alert_check, export_new, export_retry

    tasks = (export_retry.TASK, export_new.TASK, alert_check.TASK)
    return {task.name: task for task in tasks}
