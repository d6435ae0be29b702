"""Initial tables: export attempts, settings, scheduled tasks, integrations,
alert state and the new-order cursor.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from external_orders.adapters.db.types import BinaryUUID, UtcDateTime, long_text

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_order_export",
        sa.Column("id", BinaryUUID, primary_key=True),
        sa.Column("order_id", BinaryUUID, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("strategy", sa.String(32), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("request_xml", long_text(), nullable=True),
        sa.Column("response_xml", long_text(), nullable=True),
        sa.Column("response_code", sa.String(64), nullable=True),
        sa.Column("response_message", sa.Text, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("next_retry_at", UtcDateTime, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("chain_id", BinaryUUID, nullable=False),
        sa.Column("retry_of", BinaryUUID, nullable=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("order_number", sa.String(64), nullable=True),
        sa.Column("in_flight", BinaryUUID, nullable=True),
    )
    for name, columns, unique in (
        ("idx_external_order_export_order_created", ["order_id", "created_at"], 0),
        ("idx_external_order_export_status_retry", ["status", "next_retry_at"], 0),
        ("idx_external_order_export_created", ["created_at"], 0),
        ("idx_external_order_export_status_created", ["status", "created_at"], 0),
        ("idx_external_order_export_updated", ["updated_at"], 0),
        ("idx_external_order_export_chain", ["chain_id"], 0),
        ("uniq_external_order_export_in_flight", ["in_flight"], 1),
    ):
        op.create_index(name, "external_order_export", columns, unique=bool(unique))

    op.create_table(
        "system_config",
        sa.Column("configuration_key", sa.String(255), primary_key=True),
        sa.Column("configuration_value", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "scheduled_task",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("run_interval", sa.Integer, nullable=False),
        sa.Column("default_run_interval", sa.Integer, nullable=False),
        sa.Column("last_execution_time", UtcDateTime, nullable=True),
        sa.Column("next_execution_time", UtcDateTime, nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=True),
        sa.Column("claimed_until", UtcDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "integration",
        sa.Column("id", BinaryUUID, primary_key=True),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("access_key_id", sa.String(64), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
        sa.Column("last_used_at", UtcDateTime, nullable=True),
    )
    op.create_table(
        "alert_state",
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
    op.create_table(
        "alert_notification",
        sa.Column("id", BinaryUUID, primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("alert", sa.String(64), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("payload", long_text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("sent_at", UtcDateTime, nullable=True),
    )
    for name, columns in (
        ("idx_alert_notification_status_next", ["status", "next_attempt_at"]),
        ("idx_alert_notification_created", ["created_at"]),
    ):
        op.create_index(name, "alert_notification", columns)
    op.create_table(
        "external_order_cursor",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", UtcDateTime, nullable=False),
        sa.Column("seen_ids", long_text(), nullable=False),
        sa.Column("since", UtcDateTime, nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=True),
        sa.Column("claimed_until", UtcDateTime, nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "external_order_cursor",
        "alert_notification",
        "alert_state",
        "integration",
        "scheduled_task",
        "system_config",
        "external_order_export",
    ):
        op.drop_table(table)
