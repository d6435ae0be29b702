"""One run of the retry task: recover interrupted attempts, then one batch.

A batch claims up to ``EXTERNAL_ORDERS_RETRY_BATCH_SIZE`` due retries (the
runbook's ``LIMIT 20``), the most overdue first, and sends them with at
most ``EXTERNAL_ORDERS_RETRY_CONCURRENCY`` at a time, each through
``Exporter.retry``: the same path as a manual export. Nothing is sent
twice: the claim moves a row out of every other batch's sight, and the
store's compare-and-set lets one taker continue a retry. A retry that was
claimed but not tried (its order has an attempt in flight, the process is
stopping, the database hiccuped) is given back as it was.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from external_orders.adapters.db.exports import ClaimedRetry
from external_orders.domain import san6_config
from external_orders.domain.attempt import Attempt, Status
from external_orders.logs import log_event
from external_orders.tasks.registry import RUN_AGAIN, TaskReport, stop_event

if TYPE_CHECKING:
    from external_orders.bootstrap import Services

DEFAULT_SAN6_TIMEOUT = 2.5

# What became of one claimed retry.
SENT = "sent"
RESCHEDULED = "rescheduled"
PERMANENT = "permanent"
SKIPPED = "skipped"
RELEASED = "released"
BROKEN = "broken"


def stale_after(services: Services) -> timedelta:
    """How long a ``processing`` attempt may last before it counts as interrupted.

    ``EXTERNAL_ORDERS_PROCESSING_STALE_SECONDS``, else 2 x the SAN6 timeout
    + 60 s: a live attempt ends within one timeout, so an older one has
    lost its process.
    """
    configured = services.settings.processing_stale_seconds
    if configured is not None:
        return timedelta(seconds=configured)
    return timedelta(seconds=2 * san6_timeout(services) + 60)


def san6_timeout(services: Services) -> float:
    stored = services.config.get(san6_config.TIMEOUT)
    try:
        seconds = float(stored) if stored else DEFAULT_SAN6_TIMEOUT
    except ValueError:
        return DEFAULT_SAN6_TIMEOUT
    return seconds if math.isfinite(seconds) and seconds > 0 else DEFAULT_SAN6_TIMEOUT


@dataclass
class RetryBatch:
    """The retry task's run; ``run()`` returns the task report."""

    services: Services

    def run(self) -> TaskReport:
        started = time.perf_counter()
        recovered = self.recover_interrupted()

        exporter = self.services.exporter
        if exporter.sending_disabled():
            return self._disabled(recovered, started)

        claimed = self._claim()
        log_event(
            "TopM export retry batch started.",
            scheduledRetries=len(claimed),
            batchSize=self.batch_size,
            concurrency=self.concurrency,
            recoveredInterrupted=len(recovered),
        )
        outcomes = self._send_all(claimed, stop_event())

        remaining = self.services.exports.overdue_count()
        report = self._report(claimed, outcomes, recovered, remaining, started)
        log_event("TopM export retry batch finished.", **report)
        return report

    @property
    def batch_size(self) -> int:
        return self.services.settings.retry_batch_size

    @property
    def concurrency(self) -> int:
        return self.services.settings.retry_concurrency

    def recover_interrupted(self) -> list[Attempt]:
        """Close the attempts whose process died, so their chains go on."""
        limit = stale_after(self.services)
        seconds = round(limit.total_seconds())
        problem = (
            f"attempt interrupted: still processing after more than {seconds} s,"
            " its process stopped before an outcome (SAN6 may have received it)"
        )
        recovered = self.services.exports.recover_interrupted(limit, problem)
        for attempt in recovered:
            log_event(
                "TopM order export interrupted attempt recovered.",
                level=logging.WARNING,
                orderId=attempt.order_id.hex,
                exportId=attempt.id.hex,
                correlationId=attempt.correlation_id,
                attempts=attempt.attempts,
                status=attempt.status.value,
                nextRetryAt=_iso(attempt),
            )
        return recovered

    def _claim(self) -> list[ClaimedRetry]:
        # Long enough for the whole batch: every attempt ends within one
        # SAN6 timeout, so within one staleness limit.
        rounds = math.ceil(self.batch_size / self.concurrency)
        hold = stale_after(self.services) * rounds
        return self.services.exports.claim_due_retries(self.batch_size, hold)

    def _send_all(
        self, claimed: list[ClaimedRetry], stop: threading.Event
    ) -> list[str]:
        if not claimed:
            return []
        workers = min(self.concurrency, len(claimed))
        with ThreadPoolExecutor(workers, thread_name_prefix="retry") as pool:
            return list(pool.map(lambda retry: self._send_one(retry, stop), claimed))

    def _send_one(self, claimed: ClaimedRetry, stop: threading.Event) -> str:
        if stop.is_set():
            self._release(claimed)
            return RELEASED
        try:
            attempt = self.services.exporter.retry(claimed.attempt)
        except Exception as error:
            # The attempt never started (its first write failed): give it back.
            log_event(
                "TopM export retry could not start.",
                level=logging.WARNING,
                orderId=claimed.attempt.order_id.hex,
                exportId=claimed.attempt.id.hex,
                error=f"{type(error).__name__}: {error}",
            )
            self._release(claimed)
            return BROKEN
        if attempt is None:
            self._release(claimed)
            return SKIPPED
        return _kind(attempt)

    def _release(self, claimed: ClaimedRetry) -> None:
        try:
            self.services.exports.release_retry(claimed)
        except Exception as error:
            # Still safe: the row is due again once its hold is over.
            log_event(
                "TopM export retry release failed.",
                level=logging.WARNING,
                exportId=claimed.attempt.id.hex,
                error=f"{type(error).__name__}: {error}",
            )

    def _report(
        self,
        claimed: list[ClaimedRetry],
        outcomes: list[str],
        recovered: list[Attempt],
        remaining: int,
        started: float,
    ) -> dict[str, Any]:
        counts = Counter(outcomes)
        processed = counts[SENT] + counts[RESCHEDULED] + counts[PERMANENT]
        drain = self.services.settings.retry_drain
        full = len(claimed) == self.batch_size
        return {
            "scheduledRetries": len(claimed),
            "processedRetries": processed,
            "sentRetries": counts[SENT],
            "rescheduledRetries": counts[RESCHEDULED],
            "permanentRetries": counts[PERMANENT],
            "skippedRetries": counts[SKIPPED] + counts[BROKEN],
            "releasedRetries": counts[RELEASED],
            "recoveredInterrupted": len(recovered),
            "overdueRetries": remaining,
            "durationMs": round((time.perf_counter() - started) * 1000),
            RUN_AGAIN: drain and full and processed > 0 and remaining > 0,
        }

    def _disabled(self, recovered: list[Attempt], started: float) -> TaskReport:
        log_event(
            "TopM export retry batch started.",
            scheduledRetries=0,
            batchSize=self.batch_size,
            concurrency=self.concurrency,
            recoveredInterrupted=len(recovered),
        )
        report = self._report(
            [], [], recovered, self.services.exports.overdue_count(), started
        )
        report["sendingDisabled"] = True
        log_event("TopM export retry batch finished.", **report)
        return report


def _kind(attempt: Attempt) -> str:
    if attempt.status is Status.SENT:
        return SENT
    if attempt.status is Status.FAILED_PERMANENT:
        return PERMANENT
    return RESCHEDULED


def _iso(attempt: Attempt) -> str | None:
    moment = attempt.next_retry_at
    return None if moment is None else moment.isoformat(timespec="milliseconds")
