"""``external-orders alerts``: the built-in alerting's state and a test send."""

from __future__ import annotations

from typing import Any

import typer

from external_orders.adapters.db.alerts import Notification
from external_orders.domain.alerting import AlertState
from external_orders.entrypoints.cli.context import services
from external_orders.entrypoints.cli.errors import CommandFailed
from external_orders.entrypoints.cli.output import (
    JSON_OPTION_HELP,
    print_json,
    print_table,
)
from external_orders.entrypoints.presenters import iso

app = typer.Typer(help="Built-in alerts (mail, Slack).", no_args_is_help=True)

JsonOption = typer.Option(False, "--json", help=JSON_OPTION_HELP)
STATE_COLUMNS = [
    "alert",
    "severity",
    "value",
    "threshold",
    "pending_since",
    "fired_at",
    "last_notified_at",
]
OUTBOX_COLUMNS = ["created_at", "channel", "alert", "event", "status", "attempts"]


def state_json(state: AlertState) -> dict[str, Any]:
    return {
        "alert": state.name,
        "severity": state.severity.value,
        "value": state.value,
        "threshold": state.threshold,
        "pendingSince": iso(state.pending_since),
        "firedAt": iso(state.fired_at),
        "lastNotifiedAt": iso(state.last_notified_at),
    }


def notification_json(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id.hex,
        "channel": notification.channel,
        "alert": notification.message.alert,
        "event": notification.message.event.value,
        "severity": notification.message.severity.value,
        "status": notification.status,
        "attempts": notification.attempts,
        "nextAttemptAt": iso(notification.next_attempt_at),
        "lastError": notification.last_error,
        "createdAt": iso(notification.created_at),
        "sentAt": iso(notification.sent_at),
    }


@app.command("status")
def status(
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    json_output: bool = JsonOption,
) -> None:
    """Every alert's state, the outbox per status and the latest notifications."""
    alerts = services().alerts
    states = [state_json(state) for state in alerts.store.states().values()]
    outbox = alerts.store.outbox_counts()
    latest = [notification_json(n) for n in alerts.store.recent(limit)]
    channels = [channel.name for channel in alerts.channels]
    if json_output:
        print_json(
            {"channels": channels, "alerts": states, "outbox": outbox, "latest": latest}
        )
        return
    print(f"channels: {', '.join(channels) or 'none configured'}")
    print_table(STATE_COLUMNS, [list(s.values()) for s in states], title="alert_state")
    print_table(["status", "total"], outbox.items(), title="alert_notification")
    rows = [
        [
            n["createdAt"],
            n["channel"],
            n["alert"],
            n["event"],
            n["status"],
            n["attempts"],
        ]
        for n in latest
    ]
    print_table(OUTBOX_COLUMNS, rows, title=f"latest {limit} notifications")


@app.command("test")
def test() -> None:
    """Send a test notification to every configured channel now."""
    results = services().alerts.send_test()
    for channel, problem in results.items():
        print(f"{channel}: {'sent' if problem is None else 'failed: ' + problem}")
    failed = [channel for channel, problem in results.items() if problem is not None]
    if failed:
        raise CommandFailed(f"test notification failed on {', '.join(failed)}")
