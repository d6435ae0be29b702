"""The runbook's alert sequence end to end, minute by minute on a frozen clock.

SAN6 (the simulator) answers HTTP 503 to every order; the retry pass and
the alert check run every minute as the worker would. The mail and Slack
sinks must receive the warning, then the critical, then the section 6
escalation 15 minutes after the backlog passed 100, and, once SAN6 is back
and the retries drained, the resolves.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock
from external_orders.logs import configure_logging
from external_orders.simulators.sample_orders import sample_files
from external_orders.simulators.san6 import Faults, SimulatorState
from external_orders.simulators.settings import simulator_settings
from tests.integration.alert_sinks import MailSink, SlackSink

pytest_plugins = ["tests.integration.alert_fixtures"]

ORDERS = 105


@pytest.fixture
def shop(
    services: Services,
    clock: FrozenClock,
    simulator: SimulatorState,
    simulator_url: str,
    mail_sink: tuple[MailSink, int],
    slack_sink: SlackSink,
    tmp_path: Path,
) -> Iterator[Services]:
    """A service with 105 orders, SAN6 settings, mail and Slack channels."""
    settings = services.settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": mail_sink[1],
            "smtp_security": "none",
            "smtp_to": ("support@shop.example",),
            "slack_webhook_url": SecretStr(slack_sink.url),
        }
    )
    configure_logging(settings.log_dir, to_stderr=False)
    built = Services(settings, clock)
    for key, value in simulator_settings(simulator, simulator_url, timeout=2).items():
        built.config.set(key, value)
    built.file_orders.import_files([_orders_file(tmp_path)])
    yield built
    built.close()


def _orders_file(folder: Path) -> Path:
    template = json.loads(sample_files()[1].read_text())
    orders = []
    for number in range(ORDERS):
        order = copy.deepcopy(template)
        order["id"] = uuid.uuid4().hex
        order["orderNumber"] = f"A{number:05d}"
        orders.append(order)
    path = folder / "generated-orders.json"
    path.write_text(json.dumps({"data": orders}))
    return path


class Worker:
    """What the worker does each minute: due retries, then the alert check."""

    def __init__(self, services: Services, clock: FrozenClock) -> None:
        self.services = services
        self.clock = clock
        self.start = clock.now()

    def minute(self) -> None:
        self.clock.advance(minutes=1)
        for pending in self.services.exports.due_retries(1000):
            self.services.exporter.retry(pending)
        self.services.alerts.check()

    def until(self, minutes: int) -> None:
        while self.clock.now() < self.start + timedelta(minutes=minutes):
            self.minute()


def received(mail: MailSink, slack: SlackSink) -> list[tuple[str, str, str]]:
    """(alert, event, severity) per Slack message; mail must say the same."""
    slack_events = [(f["alert"], f["event"], f["severity"]) for f in slack.fields()]
    mail_events = [
        (_field(body, "alert"), _field(body, "event"), _field(body, "severity"))
        for body in mail.bodies()
    ]
    assert sorted(mail_events) == sorted(slack_events)
    return slack_events


def _field(body: str, key: str) -> str:
    return next(
        line.split("=", 1)[1]
        for line in body.splitlines()
        if line.startswith(f"{key}=")
    )


def first(events: list[tuple[str, str, str]], wanted: tuple[str, str, str]) -> int:
    return events.index(wanted)


@pytest.mark.slow
def test_warning_critical_escalation_then_resolve(
    shop: Services,
    clock: FrozenClock,
    simulator: SimulatorState,
    mail_sink: tuple[MailSink, int],
    slack_sink: SlackSink,
) -> None:
    """SAN6 down: warning, critical, escalation at +15 min; back up: resolved."""
    mail = mail_sink[0]
    simulator.set_faults(Faults(http_status=503))
    orders = [o["id"] for o in shop.file_orders.all()]
    worker = Worker(shop, clock)

    _export(shop, orders[:10])
    shop.alerts.check()
    assert ("failed_exports_total", "firing", "warning") in received(mail, slack_sink)

    clock.advance(seconds=1)
    _export(shop, orders[10:30])
    shop.alerts.check()
    assert ("failed_exports_total", "escalated", "critical") in received(
        mail, slack_sink
    )

    clock.advance(seconds=1)
    _export(shop, orders[30:])
    shop.alerts.check()
    assert ("retry_pending_total", "escalated", "critical") in received(
        mail, slack_sink
    )

    worker.until(14)
    assert not _has(received(mail, slack_sink), "prolonged_outage")
    worker.until(15)
    escalation = ("prolonged_outage", "firing", "critical")
    assert escalation in received(mail, slack_sink)
    assert "T+20 min (Dev d'astreinte)" in mail.bodies()[-1] + _last_steps(slack_sink)

    simulator.clear_faults()
    worker.until(31)
    assert shop.exports.status_counts().get("retry_scheduled", 0) == 0
    events = received(mail, slack_sink)
    assert ("prolonged_outage", "resolved", "critical") in events
    assert ("retry_pending_total", "resolved", "critical") in events

    worker.until(46)
    events = received(mail, slack_sink)
    fired = {alert for alert, event, _ in events if event == "firing"}
    resolved = {alert for alert, event, _ in events if event == "resolved"}
    assert fired == resolved
    order = [
        first(events, ("failed_exports_total", "firing", "warning")),
        first(events, ("failed_exports_total", "escalated", "critical")),
        first(events, escalation),
        first(events, ("prolonged_outage", "resolved", "critical")),
    ]
    assert order == sorted(order)
    _assert_timeline(shop, worker.start)


def _export(services: Services, order_ids: list[Any]) -> None:
    for order_id in order_ids:
        services.exporter.export(uuid.UUID(order_id))


def _has(events: list[tuple[str, str, str]], alert: str) -> bool:
    return any(name == alert for name, _, _ in events)


def _last_steps(slack: SlackSink) -> str:
    return str(slack.received()[-1]["attachments"][0].get("text", ""))


def _assert_timeline(services: Services, start: datetime) -> None:
    """Warning at once; escalation 15 minutes after the backlog passed 100;
    the resolve at the first check after the retries drained."""
    sent = {
        (n.message.alert, n.message.event.value): n.message.at
        for n in services.alerts.store.recent(500)
        if n.channel == "slack"
    }
    crossed = sent[("retry_pending_total", "escalated")]
    assert sent[("failed_exports_total", "firing")] == start
    assert sent[("prolonged_outage", "firing")] - crossed == timedelta(minutes=15)
    assert sent[("prolonged_outage", "resolved")] - crossed == timedelta(minutes=30)
