"""Alert channels: mail over SMTP and Slack incoming webhooks.

Each channel has a ``name`` and a ``send(message)`` that either delivers or
raises ``NotificationFailed``; library errors never leave the adapter.
"""

from __future__ import annotations

from typing import Protocol

from external_orders.domain.alert_message import AlertMessage


class Channel(Protocol):
    name: str

    def send(self, message: AlertMessage) -> None:
        """Deliver ``message`` now, or raise ``NotificationFailed``."""
        ...
