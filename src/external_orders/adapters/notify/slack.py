"""Alerts to a Slack incoming webhook (``#incident-topm``), over httpx.

The webhook URL is a secret (whoever has it can post): it never appears
in an error, a log line or a table; errors name only the HTTP status or
the kind of transport failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from external_orders.domain.alert_message import AlertMessage
from external_orders.domain.kpi import Level
from external_orders.errors import NotificationFailed

_COLORS = {Level.OK: "#2eb886", Level.WARNING: "#daa038", Level.CRITICAL: "#a30200"}


def slack_payload(message: AlertMessage, channel: str) -> dict[str, Any]:
    """The webhook's JSON body: a text line, then one field per payload key."""
    fields = [
        {"title": key, "value": value, "short": len(value) <= 40}
        for key, value in message.fields().items()
        if value
    ]
    color = Level.OK if message.event.value == "resolved" else message.severity
    attachment: dict[str, Any] = {
        "fallback": message.subject(),
        "color": _COLORS[color],
        "title": message.subject(),
        "fields": fields,
    }
    if message.steps:
        attachment["text"] = "\n".join(
            f"{number}. {step}" for number, step in enumerate(message.steps, 1)
        )
    return {
        "channel": channel,
        "username": "ExternalOrders",
        "text": message.subject(),
        "attachments": [attachment],
    }


@dataclass
class SlackChannel:
    url: str = field(repr=False)
    channel: str = "#incident-topm"
    timeout: float = 5.0
    name: str = "slack"

    def send(self, message: AlertMessage) -> None:
        payload = slack_payload(message, self.channel)
        try:
            response = httpx.post(self.url, json=payload, timeout=self.timeout)
        except httpx.TimeoutException as error:
            raise NotificationFailed(self.name, "timeout") from error
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise NotificationFailed(
                self.name, f"transport error ({type(error).__name__})"
            ) from error
        if not response.is_success:
            raise NotificationFailed(self.name, f"HTTP {response.status_code}")
