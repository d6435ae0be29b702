"""The tables of external-orders.

``external_order_export`` keeps the runbook's columns with the runbook's
meaning; the extra columns (``chain_id``, ``retry_of``, ``trigger``,
``order_number``, ``in_flight``) describe chains and guard against two
attempts of one order at once.
"""

from __future__ import annotations

import sqlalchemy as sa

from external_orders.adapters.db.types import BinaryUUID, UtcDateTime, long_text

metadata = sa.MetaData()

external_order_export = sa.Table(
    "external_order_export",
    metadata,
    sa.Column("id", BinaryUUID, primary_key=True),
    sa.Column("order_id", BinaryUUID, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("strategy", sa.String(32), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("request_xml", long_text(), nullable=True),
    sa.Column("response_xml", long_text(), nullable=True),
    sa.Column("response_code", sa.String(64), nullable=True),
    sa.Column("response_message", sa.Text, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("correlation_id", sa.String(64), nullable=False),
    sa.Column("next_retry_at", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # The first attempt of the chain this row belongs to (itself for a first).
    sa.Column("chain_id", BinaryUUID, nullable=False),
    # The attempt this row retries; NULL on the first attempt of a chain.
    sa.Column("retry_of", BinaryUUID, nullable=True),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("order_number", sa.String(64), nullable=True),
    # Equals order_id while the row is processing, else NULL: the unique index
    # makes a second concurrent attempt of the same order fail to insert.
    sa.Column("in_flight", BinaryUUID, nullable=True),
    sa.Index("idx_external_order_export_order_created", "order_id", "created_at"),
    sa.Index("idx_external_order_export_status_retry", "status", "next_retry_at"),
    sa.Index("idx_external_order_export_created", "created_at"),
    # The windowed KPIs (adapters.db.kpis): a created_at range per status.
    sa.Index("idx_external_order_export_status_created", "status", "created_at"),
    sa.Index("idx_external_order_export_updated", "updated_at"),
    sa.Index("idx_external_order_export_chain", "chain_id"),
    sa.Index("uniq_external_order_export_in_flight", "in_flight", unique=True),
)

system_config = sa.Table(
    "system_config",
    metadata,
    sa.Column("configuration_key", sa.String(255), primary_key=True),
    sa.Column("configuration_value", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# The tasks the worker runs (Shopware's names: scheduled, running, failed,
# inactive = paused); runbook 2.3 reads name .. next_execution_time.
scheduled_task = sa.Table(
    "scheduled_task",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
    # Seconds between runs; an operator's change survives `db upgrade`.
    sa.Column("run_interval", sa.Integer, nullable=False),
    sa.Column("default_run_interval", sa.Integer, nullable=False),
    sa.Column("last_execution_time", UtcDateTime, nullable=True),
    sa.Column("next_execution_time", UtcDateTime, nullable=False),
    # Lease of the instance running it now, so one instance runs a given tick.
    sa.Column("claimed_by", sa.String(128), nullable=True),
    sa.Column("claimed_until", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

integration = sa.Table(
    "integration",
    metadata,
    sa.Column("id", BinaryUUID, primary_key=True),
    sa.Column("label", sa.String(255), nullable=False),
    sa.Column("access_key_id", sa.String(64), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(255), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Column("last_used_at", UtcDateTime, nullable=True),
)

# One row per alert (services.alerts): what it fires at, since when its
# condition holds, when it last notified; ``version`` is a compare-and-set
# guard, so two checks at once never both notify.
alert_state = sa.Table(
    "alert_state",
    metadata,
    sa.Column("alert", sa.String(64), primary_key=True),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("threshold", sa.Float, nullable=True),
    sa.Column("pending_since", UtcDateTime, nullable=True),
    sa.Column("fired_at", UtcDateTime, nullable=True),
    sa.Column("last_notified_at", UtcDateTime, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# The outbox of alert notifications, one row per event and channel: status
# pending -> sending (claimed until next_attempt_at) -> sent, or back to
# pending with a later next_attempt_at, or abandoned after the last attempt.
alert_notification = sa.Table(
    "alert_notification",
    metadata,
    sa.Column("id", BinaryUUID, primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("alert", sa.String(64), nullable=False),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("payload", long_text(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Index("idx_alert_notification_status_next", "status", "next_attempt_at"),
    sa.Index("idx_alert_notification_created", "created_at"),
)

order_cursor = sa.Table(
    "external_order_cursor",
    metadata,
    # One cursor per order source: "files" or "shopware".
    sa.Column("name", sa.String(64), primary_key=True),
    # Every order created before ``position`` has been decided (handed to the
    # export or skipped), and so have those at ``position`` listed in
    # ``seen_ids`` (a JSON list of hex ids: orders sharing one millisecond).
    sa.Column("position", UtcDateTime, nullable=False),
    sa.Column("seen_ids", long_text(), nullable=False, default="[]"),
    # The earliest createdAt ever taken: the first start, or backfill --since.
    sa.Column("since", UtcDateTime, nullable=False),
    # Lease of the run walking the cursor now, so two runs never walk it at once.
    sa.Column("claimed_by", sa.String(128), nullable=True),
    sa.Column("claimed_until", UtcDateTime, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
