"""Export attempts, their statuses and the retry policy.

Every try to send one order to SAN6 is an *attempt*, one row of
``external_order_export``. A *chain* is a first attempt and the retries that
continue it. ``attempts`` on a row counts the failed attempts of its chain up
to and including that row: 1 after the first failure, 0 on a first attempt
that is still processing or was sent at once, and on a ``sent`` row the
failures that came before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

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


@dataclass(frozen=True)
class Attempt:
    """One row of ``external_order_export``."""

    id: UUID
    order_id: UUID
    status: Status
    strategy: str | None
    attempts: int
    request_xml: str | None
    response_xml: str | None
    response_code: str | None
    response_message: str | None
    last_error: str | None
    correlation_id: str
    next_retry_at: datetime | None
    created_at: datetime
    updated_at: datetime
    chain_id: UUID
    retry_of: UUID | None
    trigger: Trigger
    order_number: str | None

    @property
    def is_final(self) -> bool:
        return self.status in (Status.SENT, Status.FAILED_PERMANENT)


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended: what the store writes when it closes the row."""

    status: Status
    attempts: int
    response_xml: str | None = None
    response_code: str | None = None
    response_message: str | None = None
    last_error: str | None = None
    next_retry_at: datetime | None = None


def failure_outcome(
    previous_failures: int,
    now: datetime,
    *,
    error: str | None = None,
    response_xml: str | None = None,
    response_code: str | None = None,
    response_message: str | None = None,
) -> Outcome:
    """The outcome of a failed try that may be retried (business or technical)."""
    failures = previous_failures + 1
    return Outcome(
        status=status_after_failure(failures),
        attempts=failures,
        response_xml=response_xml,
        response_code=response_code,
        response_message=response_message,
        last_error=error,
        next_retry_at=next_retry_at(failures, now),
    )


def permanent_outcome(previous_failures: int, error: str) -> Outcome:
    """The outcome of a try that no retry can fix (settings, order data)."""
    return Outcome(
        status=Status.FAILED_PERMANENT, attempts=previous_failures + 1, last_error=error
    )
