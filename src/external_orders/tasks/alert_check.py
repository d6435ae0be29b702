"""The task ``external_orders.alert_check``: the built-in alerting, every minute.

Each run evaluates the alert rules of runbook sections 3 and 6 against the
KPIs, stores each alert's state, queues its notifications and delivers
the due ones (``services.alerts``). Its interval is
``EXTERNAL_ORDERS_ALERT_CHECK_INTERVAL`` (default 60 s): the runbook's
durations (10 and 15 minutes) are met to within one interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from external_orders.tasks.registry import ScheduledTask, TaskReport

if TYPE_CHECKING:
    from external_orders.bootstrap import Services


def run(services: Services) -> TaskReport:
    return services.alerts.check().as_dict()


TASK = ScheduledTask(
    name="external_orders.alert_check",
    default_interval=60,
    run=run,
    description="Evaluate the KPI alert rules and notify.",
)
