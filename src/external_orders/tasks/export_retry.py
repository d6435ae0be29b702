"""The task ``external_orders.export_retry``: failed exports whose time has come.

Each run first closes the attempts left ``processing`` by a process that
died, then sends one batch of due retries (``services.retry``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from external_orders.services.retry import RetryBatch
from external_orders.tasks.registry import ScheduledTask, TaskReport

if TYPE_CHECKING:
    from external_orders.bootstrap import Services


def run(services: Services) -> TaskReport:
    return RetryBatch(services).run()


TASK = ScheduledTask(
    name="external_orders.export_retry",
    default_interval=60,
    run=run,
    description="Retry failed exports whose next_retry_at has come.",
)
