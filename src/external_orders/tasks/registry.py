"""The scheduled tasks this service knows, by name.

Each task module defines ``TASK``; ``db upgrade`` registers every one of
them in ``scheduled_task`` with its default interval, and the worker and
``task run`` look them up here.

A task's ``run`` gets the ``Services`` and returns a report (a mapping that
is logged and printed by ``task run``). Two conventions for long tasks:
``stop_event()`` is set when the process running the task is asked to stop
(finish what is in flight, give back the rest, return), and a report with
``RUN_AGAIN`` true asks the scheduler to run the task again at once instead
of after its interval (a backlog is left).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from external_orders.bootstrap import Services
    from external_orders.settings import Settings

TaskReport = Mapping[str, object]

RUN_AGAIN = "runAgain"
"""Report key: true when the task should run again at once."""

TASK_PREFIX = "external_orders."

_NEVER_SET = threading.Event()
_stop: ContextVar[threading.Event] = ContextVar("task_stop", default=_NEVER_SET)


@dataclass(frozen=True)
class ScheduledTask:
    name: str
    default_interval: int
    """Seconds between two runs, unless ``scheduled_task.run_interval`` says else."""
    run: Callable[[Services], TaskReport]
    """One run now; returns what it did, for the log and ``task run``."""
    description: str

    def interval(self, settings: Settings) -> int:
        """The interval ``db upgrade`` registers: the ``<short name>_interval``
        setting when there is one (``EXTERNAL_ORDERS_EXPORT_RETRY_INTERVAL``
        for ``external_orders.export_retry``), else ``default_interval``."""
        field = self.name.removeprefix(TASK_PREFIX).replace(".", "_") + "_interval"
        value = getattr(settings, field, None)
        return value if isinstance(value, int) and value > 0 else self.default_interval


def all_tasks() -> dict[str, ScheduledTask]:
    # Imported here: task modules import the services, which import this.
    from external_orders.tasks import alert_check, export_new, export_retry

    tasks = (export_retry.TASK, export_new.TASK, alert_check.TASK)
    return {task.name: task for task in tasks}


def registered_intervals(settings: Settings) -> dict[str, int]:
    """Every known task with the interval it is registered with."""
    return {name: task.interval(settings) for name, task in all_tasks().items()}


def stop_event() -> threading.Event:
    """Set when the process running the current task is asked to stop.

    Read it in the task's own thread and hand it to helper threads: it is
    bound to the context the scheduler runs the task in.
    """
    return _stop.get()


@contextmanager
def stopping_on(event: threading.Event) -> Iterator[None]:
    """Within the block, ``stop_event()`` is ``event`` (used by the scheduler)."""
    token = _stop.set(event)
    try:
        yield
    finally:
        _stop.reset(token)
