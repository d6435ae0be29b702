"""Built-in alerting on real databases: state, outbox, delivery, no duplicates."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from external_orders.adapters.db.alerts import ABANDONED, PENDING, SENT
from external_orders.adapters.db.schema import external_order_export
from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock, millisecond
from external_orders.domain import san6_config as keys
from external_orders.domain.alert_message import AlertMessage
from external_orders.domain.alerting import AlertState, Event
from external_orders.domain.kpi import Level
from external_orders.domain.order import order_id_of
from external_orders.logs import configure_logging
from external_orders.settings import Settings
from external_orders.simulators.sample_orders import sample_files
from external_orders.tasks.alert_check import TASK
from tests.integration.alert_sinks import MailSink, SlackSink

pytest_plugins = ["tests.integration.alert_fixtures"]


def alerting_settings(
    settings: Settings, mail_port: int, slack_url: str, **more: object
) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": mail_port,
            "smtp_security": "none",
            "smtp_to": ("support@shop.example", "oncall@shop.example"),
            "smtp_timeout": 5.0,
            "slack_webhook_url": SecretStr(slack_url),
            "dashboard_url": "https://grafana.example/d/topm",
            **more,
        }
    )


@pytest.fixture
def alerting(
    settings: Settings,
    clock: FrozenClock,
    mail_sink: tuple[MailSink, int],
    slack_sink: SlackSink,
) -> Iterator[Services]:
    """A service with both channels pointing at the loopback sinks."""
    configure_logging(settings.log_dir, to_stderr=False)
    built = Services(alerting_settings(settings, mail_sink[1], slack_sink.url), clock)
    yield built
    built.close()


def another(services: Services) -> Services:
    """A second process on the same database and clock (a restart, a worker)."""
    return Services(services.settings, services.clock)


def fail_exports(services: Services, count: int) -> None:
    rows = []
    for _ in range(count):
        attempt_id = uuid.uuid4()
        rows.append(
            {
                "id": attempt_id,
                "order_id": uuid.uuid4(),
                "status": "failed",
                "attempts": 1,
                "correlation_id": attempt_id.hex,
                "created_at": services.clock.now(),
                "updated_at": services.clock.now(),
                "chain_id": attempt_id,
                "trigger": "manual",
            }
        )
    with services.engine.begin() as connection:
        connection.execute(sa.insert(external_order_export), rows)


def events(sink: SlackSink, alert: str) -> list[tuple[str, str]]:
    return [
        (fields["event"], fields["severity"])
        for fields in sink.fields()
        if fields["alert"] == alert
    ]


@pytest.mark.mysql
def test_a_crossed_threshold_notifies_mail_and_slack(
    alerting: Services, mail_sink: tuple[MailSink, int], slack_sink: SlackSink
) -> None:
    """10 failed attempts: the warning reaches both channels in the same check."""
    fail_exports(alerting, 10)

    report = alerting.alerts.check()

    assert events(slack_sink, "failed_exports_total") == [("firing", "warning")]
    subjects = mail_sink[0].subjects()
    assert any("WARNING failed_exports_total" in s for s in subjects)
    assert report.sent == len(slack_sink.received()) + len(mail_sink[0].received())
    state = alerting.alerts.store.states()["failed_exports_total"]
    assert state.severity is Level.WARNING


@pytest.mark.mysql
def test_a_restart_does_not_notify_again(
    alerting: Services, slack_sink: SlackSink
) -> None:
    """A new process reads the stored state and has nothing new to say."""
    fail_exports(alerting, 10)
    alerting.alerts.check()
    before = len(slack_sink.received())

    restarted = another(alerting)
    restarted.alerts.check()
    restarted.close()

    assert len(slack_sink.received()) == before


@pytest.mark.mysql
def test_concurrent_checks_notify_once(
    alerting: Services, slack_sink: SlackSink, mail_sink: tuple[MailSink, int]
) -> None:
    """Four processes checking at once send each notification exactly once."""
    fail_exports(alerting, 30)
    workers = [another(alerting) for _ in range(4)]
    barrier = threading.Barrier(len(workers))

    def check(services: Services) -> None:
        barrier.wait()
        services.alerts.check()

    threads = [threading.Thread(target=check, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.close()
    alerting.alerts.deliver()

    assert events(slack_sink, "failed_exports_total") == [("firing", "critical")]
    failed_mails = [s for s in mail_sink[0].subjects() if "failed_exports_total" in s]
    assert len(failed_mails) == 1


@pytest.mark.mysql
def test_a_stale_state_is_not_stored(alerting: Services) -> None:
    """Saving over a state someone else changed first is refused, with its mail."""
    store = alerting.alerts.store
    now = alerting.clock.now()
    seen = AlertState("failure_rate_pct")
    firing = AlertState("failure_rate_pct", severity=Level.CRITICAL, fired_at=now)
    message = AlertMessage(
        "failure_rate_pct",
        Event.FIRING,
        Level.CRITICAL,
        "failure_rate_pct",
        50.0,
        15.0,
        ">",
        15,
        now,
    )

    assert store.save(seen, firing, [("slack", message)], now)
    assert not store.save(seen, firing, [("slack", message)], now)

    assert store.outbox_counts() == {PENDING: 1}
    assert store.states()["failure_rate_pct"].version == 1


@pytest.mark.mysql
def test_a_failing_channel_is_retried_later_and_logged(
    alerting: Services, slack_sink: SlackSink, clock: FrozenClock
) -> None:
    """Slack down: mail goes out, Slack's copy waits 1 minute, then is delivered."""
    slack_sink.status = 503
    fail_exports(alerting, 10)

    first = alerting.alerts.check()
    assert first.failed >= 1
    pending = [n for n in alerting.alerts.store.recent() if n.status == PENDING]
    assert {n.channel for n in pending} == {"slack"}
    assert {n.next_attempt_at for n in pending} == {
        millisecond(clock.now()) + timedelta(minutes=1)
    }

    slack_sink.status = 200
    alerting.alerts.check()
    assert slack_sink.received() == []
    clock.advance(minutes=1)
    alerting.alerts.check()

    assert events(slack_sink, "failed_exports_total") == [("firing", "warning")]
    log = alerting.settings.log_file.read_text()
    assert "Alert notification failed." in log
    assert "hook-secret-token" not in log


@pytest.mark.mysql
def test_a_channel_that_never_recovers_is_abandoned(
    alerting: Services, slack_sink: SlackSink, clock: FrozenClock
) -> None:
    """After the last attempt the notification is abandoned and logged as such."""
    alerting.alerts.delivery.max_attempts = 2
    slack_sink.status = 500
    fail_exports(alerting, 10)

    alerting.alerts.check()
    clock.advance(minutes=1)
    alerting.alerts.check()

    slack = [
        (n.status, n.attempts)
        for n in alerting.alerts.store.recent()
        if n.channel == "slack" and n.message.alert == "failed_exports_total"
    ]
    assert slack == [(ABANDONED, 2)]
    assert "Alert notification abandoned." in alerting.settings.log_file.read_text()


@pytest.mark.mysql
def test_concurrent_senders_deliver_each_notification_once(
    alerting: Services, slack_sink: SlackSink
) -> None:
    """Three senders draining one outbox at once post every message once."""
    now = alerting.clock.now()
    messages = [
        (
            "slack",
            AlertMessage(
                f"alert-{number}",
                Event.FIRING,
                Level.WARNING,
                "m",
                1.0,
                0.0,
                ">",
                15,
                now,
            ),
        )
        for number in range(12)
    ]
    alerting.alerts.store.queue(messages, now)
    senders = [another(alerting) for _ in range(3)]

    threads = [threading.Thread(target=s.alerts.deliver) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for sender in senders:
        sender.close()

    alerts = sorted(fields["alert"] for fields in slack_sink.fields())
    assert alerts == sorted(f"alert-{number}" for number in range(12))
    assert alerting.alerts.store.outbox_counts() == {SENT: 12}


@pytest.mark.mysql
def test_an_invalid_config_export_raises_a_critical_alert_at_once(
    alerting: Services, slack_sink: SlackSink, simulator_url: str
) -> None:
    """An attempt closed for invalid SAN6 settings, in any process, is critical."""
    exporting = another(alerting)
    exporting.file_orders.import_files(sample_files()[:1])
    order_id = order_id_of(next(exporting.file_orders.all()))
    exporting.config.set(keys.BASE_URL, simulator_url + "/san6/api")
    exporting.exporter.export(order_id)
    exporting.close()

    alerting.alerts.check()

    assert ("firing", "critical") in events(slack_sink, "san6_config_invalid")
    fields = [f for f in slack_sink.fields() if f["alert"] == "san6_config_invalid"]
    assert fields[0]["metric"] == "san6_config_invalid_total"
    assert "TopM order export skipped: invalid SAN6 config." in (
        alerting.settings.log_file.read_text()
    )


@pytest.mark.mysql
def test_the_task_reports_what_it_did(alerting: Services) -> None:
    """external_orders.alert_check runs a check and returns its events."""
    fail_exports(alerting, 30)

    report = TASK.run(alerting)

    assert TASK.default_interval == 60
    assert "failed_exports_total:firing:critical" in report["events"]
    assert report["failed"] == 0
    json.dumps(dict(report))


@pytest.mark.mysql
def test_send_test_reaches_every_channel(
    alerting: Services, mail_sink: tuple[MailSink, int], slack_sink: SlackSink
) -> None:
    """The test notification goes to mail and Slack and says it is a test."""
    results = alerting.alerts.send_test()

    assert results == {"mail": None, "slack": None}
    assert "notification de test" in mail_sink[0].bodies()[0]
    assert slack_sink.fields()[0]["event"] == "test"
