"""Automatic export of new orders: one run of the task ``export_new``.

A run walks the order source's orders by creation time, oldest first, from
the stored cursor, in pages; each order that qualifies and has no attempt
yet is handed to the ``Exporter`` (trigger ``new_order``), one at a time,
so SAN6 gets them in the order they were placed. The cursor moves past an
order only once it is decided (handed over, whatever the attempt's status,
or skipped) and is saved after each one: a crash or an outage loses
nothing. An order with an attempt is never exported again by a run, which
keeps restarts and re-reads from sending it twice; a concurrent manual
export is refused by the store's in-flight guard.

A run stops early, without moving past the order at hand, when the order
source fails (raised, for the scheduler to record), when sending is
disabled or the SAN6 settings are invalid (nothing would be sent), and
after the first export that failed technically (SAN6 or the source down:
the next run tries again rather than filling the retry queue).

Each run also reads again the orders created in the last ``lookback``
(by the clock): an order that Shopware stamped before one already seen but
committed after it, or one that only qualified later (paid after it was
placed, with a payment filter), is still taken while it is that young.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from external_orders.adapters.db.cursor import Cursor, CursorStore
from external_orders.adapters.db.exports import ExportStore
from external_orders.domain.attempt import Attempt, Status, Trigger
from external_orders.domain.order import (
    created_at_of,
    list_of,
    mapping_of,
    order_id_of,
    text_of,
    timestamp_of,
)
from external_orders.domain.san6_config import config_problems
from external_orders.errors import (
    ExportRefused,
    InvalidOrderDocument,
    OrderNotFound,
    OrderSourceUnavailable,
    SendingDisabled,
)
from external_orders.logs import log_event
from external_orders.services.export import Exporter
from external_orders.services.ports import OrderSource
from external_orders.services.scheduler import default_instance

CANCELLED = "cancelled"
DEFAULT_LEASE = timedelta(seconds=60)
"""How long a run holds the cursor without saving before another may take it."""

_TRUE_TEXT = frozenset({"1", "true", "yes", "on"})
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Qualification:
    """Which new orders are exported automatically.

    ``order_states``: the order's ``stateMachineState.technicalName`` must be
    one of them; empty means every state but ``cancelled``.
    ``payment_states``: the state of the order's latest transaction; empty
    means any. ``sales_channel_ids``: lowercase hex; empty means any. An
    order tagged ``test_tag`` (any case) or whose custom field
    ``test_custom_field`` is true is a test order and never taken; an empty
    name turns that check off.
    """

    order_states: frozenset[str] = frozenset()
    payment_states: frozenset[str] = frozenset()
    sales_channel_ids: frozenset[str] = frozenset()
    test_tag: str = "test"
    test_custom_field: str = "externalOrdersTestOrder"

    @classmethod
    def of(
        cls,
        *,
        order_states: Iterable[str] = (),
        payment_states: Iterable[str] = (),
        sales_channel_ids: Iterable[str] = (),
        test_tag: str = "test",
        test_custom_field: str = "externalOrdersTestOrder",
    ) -> Qualification:
        channels = {_hex(channel) for channel in sales_channel_ids}
        return cls(
            order_states=frozenset(order_states),
            payment_states=frozenset(payment_states),
            sales_channel_ids=frozenset(channels),
            test_tag=test_tag.strip(),
            test_custom_field=test_custom_field.strip(),
        )

    def skip_reason(self, order: Mapping[str, Any]) -> str | None:
        """Why ``order`` is not exported automatically; None when it qualifies."""
        if self._is_test_order(order):
            return "test order"

        state = text_of(mapping_of(order.get("stateMachineState")).get("technicalName"))
        if self.order_states and state not in self.order_states:
            return f"order state {state or 'unknown'}"
        if not self.order_states and state == CANCELLED:
            return f"order state {CANCELLED}"

        payment = _payment_state(order)
        if self.payment_states and payment not in self.payment_states:
            return f"payment state {payment or 'unknown'}"

        channel = _hex(text_of(order.get("salesChannelId")))
        if self.sales_channel_ids and channel not in self.sales_channel_ids:
            return f"sales channel {channel or 'unknown'}"
        return None

    def _is_test_order(self, order: Mapping[str, Any]) -> bool:
        if self.test_tag:
            wanted = self.test_tag.casefold()
            for tag in list_of(order.get("tags")):
                if text_of(mapping_of(tag).get("name")).casefold() == wanted:
                    return True
        if self.test_custom_field:
            value = mapping_of(order.get("customFields")).get(self.test_custom_field)
            return value is True or text_of(value).lower() in _TRUE_TEXT
        return False


def _payment_state(order: Mapping[str, Any]) -> str:
    """The state of the latest transaction (Shopware's current payment)."""
    transactions = [mapping_of(t) for t in list_of(order.get("transactions"))]
    if not transactions:
        return ""

    def created(transaction: Mapping[str, Any]) -> datetime:
        return timestamp_of(transaction.get("createdAt")) or _EARLIEST

    # Reversed: among equal times the one listed last wins.
    latest = max(reversed(transactions), key=created)
    return text_of(mapping_of(latest.get("stateMachineState")).get("technicalName"))


def _hex(value: str) -> str:
    return value.replace("-", "").strip().lower()


@dataclass
class RunReport:
    """What one run did; ``stopped`` says why it ended before the last order."""

    listed: int = 0
    exported: int = 0
    skipped: int = 0
    known: int = 0
    pages: int = 0
    position: datetime | None = None
    stopped: str | None = None
    busy: bool = False
    more: bool = False
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def decided(self) -> int:
        return self.exported + self.skipped

    def as_report(self) -> dict[str, object]:
        """The report as JSON-ready camelCase values, for logs and ``task run``."""
        position = self.position
        return {
            "listed": self.listed,
            "exported": self.exported,
            "statuses": dict(self.statuses),
            "skipped": self.skipped,
            "alreadyHandled": self.known,
            "pages": self.pages,
            "cursor": None
            if position is None
            else position.isoformat(timespec="milliseconds"),
            "stopped": self.stopped,
            "busy": self.busy,
            # The scheduler runs the task again at once: a backlog is left.
            "runAgain": self.more,
        }


class _Stop(Exception):
    """Ends the run early; the cursor stays before the order at hand."""


class NewOrderExport:
    """Runs of ``export_new`` over one order source; see the module docstring."""

    def __init__(
        self,
        *,
        source_name: str,
        orders: OrderSource,
        exporter: Exporter,
        exports: ExportStore,
        cursors: CursorStore,
        qualification: Qualification,
        page_size: int = 100,
        lookback: timedelta = timedelta(seconds=60),
        max_orders: int | None = 1000,
        stop: threading.Event | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.source_name = source_name
        self.orders = orders
        self.exporter = exporter
        self.exports = exports
        self.cursors = cursors
        self.qualification = qualification
        self.page_size = page_size
        self.lookback = lookback
        self.max_orders = max_orders
        self.stop = stop or threading.Event()
        # Renewed at every saved order; a killed run's claim ends with it.
        self.lease = lease

    def run(self) -> RunReport:
        """One run; raises ``OrderSourceUnavailable`` when listing failed.

        Returns at once with ``busy`` while another run walks the cursor.
        """
        report = RunReport()
        owner = default_instance()
        cursor = self.cursors.claim(self.source_name, owner, self.lease)
        if cursor is None:
            report.busy = True
            log_event("TopM new orders run skipped: another run is going on.")
            return report

        report.position = cursor.position
        try:
            self._walk(cursor, owner, report)
        except _Stop as stop:
            report.stopped = str(stop)
        except OrderSourceUnavailable as error:
            report.stopped = str(error)
            raise
        finally:
            self.cursors.release(self.source_name, owner)
            self._log_finished(report)
        return report

    # Shortcoming: orders are exported one at a time (~35/s on loopback); a
    # bounded pool per page, keeping the cursor at the oldest unfinished
    # order, would drain a burst faster.
    def _walk(self, cursor: Cursor, owner: str, report: RunReport) -> None:
        waiting = self._waiting_reason()
        if waiting is not None:
            raise _Stop(waiting)

        scan = cursor.rewound(self.cursors.clock.now() - self.lookback)
        while True:
            self._save(cursor, owner)  # renews the lease, notices a backfill
            page = self.orders.created_since(
                scan.position, exclude=scan.seen, limit=self.page_size
            )
            report.pages += 1
            start = scan
            for order in page:
                if self.stop.is_set():
                    raise _Stop("the process is stopping")
                if self.max_orders is not None and report.decided >= self.max_orders:
                    report.more = True
                    return
                identity = _identity(order)
                if identity is None:
                    continue
                cursor = self._decide(order, identity, cursor, owner, report)
                scan = scan.passed(*identity)
            if len(page) < self.page_size or scan == start:
                return

    def _decide(
        self,
        order: Mapping[str, Any],
        identity: tuple[datetime, UUID],
        cursor: Cursor,
        owner: str,
        report: RunReport,
    ) -> Cursor:
        """Export or skip one listed order; returns the cursor past it."""
        created, order_id = identity
        first_seen = not cursor.has_passed(created, order_id)
        report.listed += 1

        if self.exports.latest(order_id) is not None:
            report.known += 1
            return self._advance(cursor, identity, owner, report)

        reason = self.qualification.skip_reason(order)
        if reason is not None:
            if first_seen:
                report.skipped += 1
                log_event(
                    "TopM new order skipped.", orderId=order_id.hex, reason=reason
                )
            return self._advance(cursor, identity, owner, report)

        attempt = self._export(order_id, report)
        cursor = self._advance(cursor, identity, owner, report)
        if attempt is not None and _failed_technically(attempt):
            raise _Stop(
                f"export of order {order_id.hex} failed technically "
                f"({attempt.last_error}); the next run goes on"
            )
        return cursor

    def _export(self, order_id: UUID, report: RunReport) -> Attempt | None:
        try:
            attempt = self.exporter.export(order_id, trigger=Trigger.NEW_ORDER)
        except SendingDisabled as error:
            raise _Stop(str(error)) from error
        except ExportRefused:
            # A manual export of the same order is going on or was sent.
            report.known += 1
            return None
        except OrderNotFound:
            # Deleted in the shop between the listing and the export.
            report.skipped += 1
            log_event(
                "TopM new order skipped.", orderId=order_id.hex, reason="order gone"
            )
            return None
        report.exported += 1
        report.statuses[attempt.status.value] = (
            report.statuses.get(attempt.status.value, 0) + 1
        )
        return attempt

    def _advance(
        self,
        cursor: Cursor,
        identity: tuple[datetime, UUID],
        owner: str,
        report: RunReport,
    ) -> Cursor:
        moved = cursor.passed(*identity)
        if moved != cursor:
            self._save(moved, owner)
            report.position = moved.position
        return moved

    def _save(self, cursor: Cursor, owner: str) -> None:
        if not self.cursors.save(self.source_name, owner, cursor, self.lease):
            raise _Stop("the cursor was moved meanwhile (backfill or another run)")

    def _waiting_reason(self) -> str | None:
        """Why nothing can be sent now; the cursor then waits where it is."""
        stored = self.exporter.config.all()
        if self.exporter.sending_disabled(stored):
            return str(SendingDisabled())
        problems = config_problems(stored)
        if problems:
            return "invalid SAN6 config: " + "; ".join(problems)
        return None

    def _log_finished(self, report: RunReport) -> None:
        # A run that found nothing new stays quiet: one comes every minute.
        if report.busy or not (report.decided or report.stopped):
            return
        level = logging.WARNING if report.stopped else logging.INFO
        log_event(
            "TopM new orders run finished.",
            level=level,
            source=self.source_name,
            **report.as_report(),
        )


def _identity(order: Mapping[str, Any]) -> tuple[datetime, UUID] | None:
    """The order's (createdAt, id); None when it has no usable one."""
    try:
        order_id = order_id_of(order)
    except InvalidOrderDocument:
        return None
    created = created_at_of(order)
    return None if created is None else (created, order_id)


def _failed_technically(attempt: Attempt) -> bool:
    """SAN6 or the order source gave no answer (a business error has one)."""
    return attempt.status is Status.RETRY_SCHEDULED and attempt.response_xml is None
