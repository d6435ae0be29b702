"""Export attempts, their statuses and the retry policy.

Every try to send one order to SAN6 is an *attempt*, one row of
``external_order_export``. A *chain* is a first attempt and the retries that
continue it. ``attempts`` on a row counts the failed attempts of its chain up
to and including that row: 1 after the first failure, 0 on a first attempt
that is still processing or was sent at once, and on a ``sent`` row the
failures that came before it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

MAX_RETRIES = 5
"""Retries after the first failure; the sixth failure of a chain is final."""

BACKOFF_STEP = timedelta(minutes=5)


class Status(StrEnum):
    PROCESSING = "processing"
    SENT = "sent"
    FAILED = "failed"
    RETRY_SCHEDULED = "retry_scheduled"
    FAILED_PERMANENT = "failed_permanent"


class Trigger(StrEnum):
    """What started an attempt."""

    MANUAL = "manual"
    RETRY = "retry"
    NEW_ORDER = "new_order"


def backoff(failures: int) -> timedelta:
    """Delay before the next try of a chain that has failed ``failures`` times.

    +5 min after the first failure, +10 after the second, and so on: the
    runbook's ``(attempts + 1) * 5`` with attempts counted before the failure.
    """
    return BACKOFF_STEP * failures


def status_after_failure(failures: int) -> Status:
    """The status of an attempt that failed as failure number ``failures``."""
    if failures > MAX_RETRIES:
        return Status.FAILED_PERMANENT
    return Status.RETRY_SCHEDULED


def next_retry_at(failures: int, now: datetime) -> datetime | None:
    """When a chain failed ``failures`` times is tried again, if ever."""
    if status_after_failure(failures) is Status.FAILED_PERMANENT:
        return None
    return now + backoff(failures)
