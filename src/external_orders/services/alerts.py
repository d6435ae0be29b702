"""Built-in alerting: the rules of runbook 3 and 6, checked, stored, notified.

``check`` is what the task ``external_orders.alert_check`` runs every
minute: it reads the KPIs, moves each alert's stored state (see
``domain.alerting``), queues one notification per event and channel in
the outbox, then delivers what is due. A channel that fails is retried
with a growing delay and logged; nothing here runs inside an export, so a
dead mail server or Slack never holds one up. Delivery is at least once:
a sender that dies between sending and recording is retried after its
claim expires.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from external_orders.adapters.db.alerts import AlertStore, Notification
from external_orders.adapters.notify import Channel
from external_orders.adapters.notify.mail import MailChannel
from external_orders.adapters.notify.slack import SlackChannel
from external_orders.clock import Clock
from external_orders.domain.alert_message import ESCALATION_STEPS, AlertMessage
from external_orders.domain.alerting import (
    AlertState,
    Event,
    Observation,
    Rule,
    observe,
    step,
)
from external_orders.domain.alerting import rules as alert_rules
from external_orders.domain.kpi import KpiSnapshot, Level
from external_orders.errors import NoAlertChannel, NotificationFailed
from external_orders.logs import log_event, register_secrets
from external_orders.services.kpi import KpiService
from external_orders.settings import Settings

_EVENT_LOGS = {
    Event.FIRING: ("Alert fired.", logging.WARNING),
    Event.ESCALATED: ("Alert escalated.", logging.WARNING),
    Event.REPEAT: ("Alert still critical.", logging.WARNING),
    Event.RESOLVED: ("Alert resolved.", logging.INFO),
}


@dataclass(frozen=True)
class Raised:
    alert: str
    event: Event
    severity: Level
    value: float


@dataclass(frozen=True)
class CheckReport:
    raised: list[Raised]
    sent: int
    failed: int

    def as_dict(self) -> dict[str, object]:
        events = [f"{r.alert}:{r.event.value}:{r.severity.value}" for r in self.raised]
        return {"events": events, "sent": self.sent, "failed": self.failed}


@dataclass
class Delivery:
    """How notifications are sent: batch, time budget, claim, retry delays."""

    batch: int = 20
    budget_seconds: float = 20.0
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 10
    max_delay: timedelta = timedelta(hours=1)

    def retry_at(self, attempts: int, now: datetime) -> datetime | None:
        """1, 2, 4 ... minutes after the last try, at most ``max_delay``."""
        if attempts >= self.max_attempts:
            return None
        delay = timedelta(minutes=2 ** min(attempts - 1, 16))
        return now + min(delay, self.max_delay)


@dataclass
class AlertService:
    """The rules, where their state is kept, and the channels they notify."""

    kpis: KpiService
    store: AlertStore
    channels: Sequence[Channel]
    clock: Clock
    rules: Sequence[Rule]
    repeat_every: timedelta = timedelta(hours=1)
    dashboard_url: str | None = None
    delivery: Delivery = field(default_factory=Delivery)

    def check(self) -> CheckReport:
        """Evaluate every rule now, queue the notifications, deliver the due."""
        raised = self.evaluate(self.kpis.snapshot())
        sent, failed = self.deliver()
        return CheckReport(raised, sent, failed)

    def evaluate(self, snapshot: KpiSnapshot) -> list[Raised]:
        """Move every alert's stored state on to ``snapshot``; what it raised."""
        states = self.store.states()
        raised = []
        for rule in self.rules:
            seen = states.get(rule.name, AlertState(rule.name))
            event = self._advance(rule, seen, snapshot)
            if event is not None:
                raised.append(event)
        return raised

    # Shortcoming: with no channel configured an alert still moves to firing,
    # so channels added later hear of it only at the hourly repeat; queueing
    # for channels that appear later would fix it.
    def _advance(
        self, rule: Rule, seen: AlertState, snapshot: KpiSnapshot
    ) -> Raised | None:
        observation = observe(rule, snapshot)
        new, event = step(rule, seen, observation, snapshot.at, self.repeat_every)
        if new == seen:
            return None

        message = None
        if event is not None:
            message = self._message(rule, seen, new, event, observation, snapshot)
        queued = [(c.name, message) for c in self.channels] if message else []
        stored = self.store.save(seen, new, queued, snapshot.at)
        if not stored or message is None:
            return None  # nothing to say, or another check stored it first

        _log_event(message)
        return Raised(rule.name, message.event, message.severity, observation.value)

    def _message(
        self,
        rule: Rule,
        seen: AlertState,
        new: AlertState,
        event: Event,
        observation: Observation,
        snapshot: KpiSnapshot,
    ) -> AlertMessage:
        resolved = event is Event.RESOLVED
        return AlertMessage(
            alert=rule.name,
            event=event,
            severity=seen.severity if resolved else new.severity,
            metric=observation.metric,
            value=observation.value,
            threshold=observation.threshold,
            comparison=observation.comparison,
            time_window_minutes=snapshot.window_minutes,
            at=snapshot.at,
            dashboard_url=self.dashboard_url,
            steps=ESCALATION_STEPS if rule.escalation and not resolved else (),
        )

    def deliver(self) -> tuple[int, int]:
        """Send due notifications, within the batch and time budget: (sent, failed)."""
        by_name = {channel.name: channel for channel in self.channels}
        deadline = time.monotonic() + self.delivery.budget_seconds
        sent = failed = 0
        for _ in range(self.delivery.batch):
            if time.monotonic() > deadline:
                break
            now = self.clock.now()
            claimed = self.store.claim_due(now, now + self.delivery.lease, 1)
            if not claimed:
                break
            if self._send(claimed[0], by_name.get(claimed[0].channel)):
                sent += 1
            else:
                failed += 1
        return sent, failed

    def _send(self, notification: Notification, channel: Channel | None) -> bool:
        try:
            if channel is None:
                raise NotificationFailed(notification.channel, "channel not configured")
            channel.send(notification.message)
        except NotificationFailed as error:
            self._failed(notification, error.problem)
            return False
        self.store.sent(notification, self.clock.now())
        log_event(
            "Alert notification sent.",
            channel=notification.channel,
            alert=notification.message.alert,
            event=notification.message.event.value,
            attempts=notification.attempts,
        )
        return True

    def _failed(self, notification: Notification, problem: str) -> None:
        now = self.clock.now()
        attempts = notification.attempts
        retry_at = self.delivery.retry_at(attempts, now)
        self.store.failed(notification, problem, retry_at, now)
        log_event(
            "Alert notification failed."
            if retry_at
            else "Alert notification abandoned.",
            level=logging.WARNING if retry_at else logging.ERROR,
            channel=notification.channel,
            alert=notification.message.alert,
            event=notification.message.event.value,
            attempts=attempts,
            error=problem,
            nextAttemptAt=retry_at.isoformat(timespec="seconds") if retry_at else None,
        )

    def send_test(self) -> dict[str, str | None]:
        """Send a test message to every channel now: name -> problem or None."""
        if not self.channels:
            raise NoAlertChannel()
        message = AlertMessage(
            alert="test",
            event=Event.TEST,
            severity=Level.WARNING,
            metric="test",
            value=None,
            threshold=None,
            comparison="",
            time_window_minutes=self.kpis.window_minutes,
            at=self.clock.now(),
            dashboard_url=self.dashboard_url,
        )
        results: dict[str, str | None] = {}
        for channel in self.channels:
            results[channel.name] = _try(channel, message)
        return results


def _try(channel: Channel, message: AlertMessage) -> str | None:
    try:
        channel.send(message)
    except NotificationFailed as error:
        log_event(
            "Alert test notification failed.",
            level=logging.WARNING,
            channel=channel.name,
            error=error.problem,
        )
        return error.problem
    log_event("Alert test notification sent.", channel=channel.name)
    return None


def _log_event(message: AlertMessage) -> None:
    text, level = _EVENT_LOGS[message.event]
    log_event(
        text,
        level=level,
        alert=message.alert,
        severity=message.severity.value,
        metric=message.metric,
        value=message.value,
        threshold=message.threshold,
    )


def channels_from_settings(settings: Settings) -> list[Channel]:
    """The channels the settings configure: mail, Slack, both or none."""
    channels: list[Channel] = []
    if settings.smtp_host and settings.smtp_to:
        password = settings.smtp_password
        channels.append(
            MailChannel(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                recipients=tuple(settings.smtp_to),
                security=settings.smtp_security,
                user=settings.smtp_user,
                password=password.get_secret_value() if password else None,
                timeout=settings.smtp_timeout,
            )
        )
    webhook = settings.slack_webhook_url
    if webhook is not None and webhook.get_secret_value():
        url = webhook.get_secret_value()
        # The path alone is the credential too: hide it wherever it shows up.
        register_secrets(
            [url, urlsplit(url).path if len(urlsplit(url).path) > 8 else None]
        )
        channels.append(
            SlackChannel(url, settings.slack_channel, settings.slack_timeout)
        )
    return channels


def alert_service(
    settings: Settings, engine: sa.Engine, clock: Clock, kpis: KpiService
) -> AlertService:
    """Alerting with the rules, durations and channels of ``settings``."""
    return AlertService(
        kpis=kpis,
        store=AlertStore(engine),
        channels=channels_from_settings(settings),
        clock=clock,
        rules=alert_rules(
            timedelta(minutes=settings.alert_overdue_minutes),
            timedelta(minutes=settings.alert_outage_minutes),
        ),
        repeat_every=timedelta(minutes=settings.alert_repeat_minutes),
        dashboard_url=settings.dashboard_url,
    )
