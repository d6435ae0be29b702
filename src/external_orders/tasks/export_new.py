"""The task ``external_orders.export_new``: export orders placed since the last run.

Settings (``EXTERNAL_ORDERS_NEW_ORDERS_*``) choose which orders qualify, the
page size, the lookback and how many orders one run decides at most; the
cursor is kept per order source (``files`` or ``shopware``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from external_orders.adapters.db.cursor import CursorStore
from external_orders.services.new_orders import NewOrderExport, Qualification
from external_orders.tasks.registry import ScheduledTask, TaskReport, stop_event

if TYPE_CHECKING:
    from external_orders.bootstrap import Services

DEFAULT_INTERVAL = 60
"""Seconds; ``EXTERNAL_ORDERS_EXPORT_NEW_INTERVAL`` changes it at ``db upgrade``."""


def new_order_export(services: Services, *, unlimited: bool = False) -> NewOrderExport:
    """Runs over ``services``' order source; ``unlimited``: no cap per run."""
    settings = services.settings
    qualification = Qualification.of(
        order_states=settings.new_orders_order_states,
        payment_states=settings.new_orders_payment_states,
        sales_channel_ids=settings.new_orders_sales_channel_ids,
        test_tag=settings.new_orders_test_tag,
        test_custom_field=settings.new_orders_test_custom_field,
    )
    return NewOrderExport(
        source_name=settings.order_source,
        orders=services.orders,
        exporter=services.exporter,
        exports=services.exports,
        cursors=cursor_store(services),
        qualification=qualification,
        page_size=settings.new_orders_page_size,
        lookback=timedelta(seconds=settings.new_orders_lookback_seconds),
        max_orders=None if unlimited else settings.new_orders_max_per_run,
        stop=stop_event(),
        lease=timedelta(seconds=settings.task_lease_seconds),
    )


def cursor_store(services: Services) -> CursorStore:
    return CursorStore(services.engine, services.clock)


def run(services: Services) -> TaskReport:
    return new_order_export(services).run().as_report()


TASK = ScheduledTask(
    name="external_orders.export_new",
    default_interval=DEFAULT_INTERVAL,
    run=run,
    description="Export orders placed since the last run.",
)
