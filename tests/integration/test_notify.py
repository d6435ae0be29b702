"""Alert channels over real loopback servers: SMTP (aiosmtpd) and a webhook."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from external_orders.adapters.notify.mail import MailChannel
from external_orders.adapters.notify.slack import SlackChannel
from external_orders.domain.alert_message import ESCALATION_STEPS, AlertMessage
from external_orders.domain.alerting import Event
from external_orders.domain.kpi import Level
from external_orders.errors import NotificationFailed
from tests.integration.alert_sinks import (
    SMTP_PASSWORD,
    SMTP_USER,
    Certificate,
    MailSink,
    SlackSink,
    free_port,
)

pytest_plugins = ["tests.integration.alert_fixtures"]

MESSAGE = AlertMessage(
    alert="retry_pending_total",
    event=Event.FIRING,
    severity=Level.CRITICAL,
    metric="retry_pending_total",
    value=130,
    threshold=100,
    comparison=">",
    time_window_minutes=15,
    at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    dashboard_url="https://grafana.example/d/topm",
)

PAYLOAD = {
    "service": "ExternalOrders",
    "metric": "retry_pending_total",
    "severity": "critical",
    "value": "130",
    "threshold": "> 100",
    "timeWindow": "15m",
    "runbook": "docs/runbook-export-san6.md",
    "dashboard": "https://grafana.example/d/topm",
}


def mail(port: int, **options: object) -> MailChannel:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": "external-orders@shop.example",
        "recipients": ("support@shop.example", "oncall@shop.example"),
        "security": "none",
        "timeout": 5.0,
    }
    values.update(options)
    return MailChannel(**values)  # type: ignore[arg-type]


@pytest.fixture
def tls_mail_server(certificate: Certificate) -> Iterator[tuple[MailSink, int, str]]:
    """SMTP with STARTTLS and AUTH required after it: (sink, port, mode)."""
    sink = MailSink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=sink.authenticate,
        auth_required=True,
    )
    controller.start()
    yield sink, port, "starttls"
    controller.stop()


def test_mail_carries_the_runbook_payload(mail_sink: tuple[MailSink, int]) -> None:
    """A plain SMTP send reaches every recipient with the 3.4 fields in the body."""
    sink, port = mail_sink

    mail(port).send(MESSAGE)

    [received] = sink.received()
    assert received["To"] == "support@shop.example, oncall@shop.example"
    assert received["Subject"].startswith("[ExternalOrders] CRITICAL retry_pending")
    body = received.get_content()
    for key, value in PAYLOAD.items():
        assert f"{key}={value}" in body


def test_mail_over_starttls_logs_in(
    tls_mail_server: tuple[MailSink, int, str], certificate: Certificate
) -> None:
    """With STARTTLS the channel upgrades the connection, then authenticates."""
    sink, port, _mode = tls_mail_server
    channel = mail(
        port,
        security="starttls",
        user=SMTP_USER,
        password=SMTP_PASSWORD,
        ssl_context=certificate.client_context(),
    )

    channel.send(MESSAGE)

    assert sink.logins == [SMTP_USER]
    assert len(sink.received()) == 1


def test_mail_with_a_wrong_password_fails_without_showing_it(
    tls_mail_server: tuple[MailSink, int, str], certificate: Certificate
) -> None:
    """A refused login is NotificationFailed naming the SMTP code, not the password."""
    _sink, port, _mode = tls_mail_server
    channel = mail(
        port,
        security="starttls",
        user=SMTP_USER,
        password="wrong-password-987",
        ssl_context=certificate.client_context(),
    )

    with pytest.raises(NotificationFailed) as raised:
        channel.send(MESSAGE)

    assert "authentication refused" in str(raised.value)
    assert "wrong-password-987" not in str(raised.value)


def test_mail_over_implicit_tls(certificate: Certificate) -> None:
    """Security tls speaks TLS from the first byte (port 465 style)."""
    sink = MailSink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        ssl_context=certificate.server_context(),
    )
    controller.start()
    try:
        mail(port, security="tls", ssl_context=certificate.client_context()).send(
            MESSAGE
        )
    finally:
        controller.stop()

    assert len(sink.received()) == 1


def test_unreachable_mail_server_is_a_notification_failure() -> None:
    """A closed port gives NotificationFailed, not an OSError."""
    with pytest.raises(NotificationFailed, match="mail notification failed"):
        mail(free_port(), timeout=2.0).send(MESSAGE)


def test_slack_payload_has_the_runbook_fields(slack_sink: SlackSink) -> None:
    """The webhook gets #incident-topm, a text line and one field per payload key."""
    SlackChannel(slack_sink.url).send(MESSAGE)

    [payload] = slack_sink.received()
    assert payload["channel"] == "#incident-topm"
    assert "retry_pending_total" in payload["text"]
    fields = slack_sink.fields()[0]
    for key, value in PAYLOAD.items():
        assert fields[key] == value


def test_slack_escalation_lists_the_section_6_steps(slack_sink: SlackSink) -> None:
    """An escalation message carries every step of runbook section 6."""
    message = AlertMessage(
        **{**MESSAGE.__dict__, "alert": "prolonged_outage", "steps": ESCALATION_STEPS}
    )

    SlackChannel(slack_sink.url).send(message)

    text = slack_sink.received()[0]["attachments"][0]["text"]
    for number, step in enumerate(ESCALATION_STEPS, 1):
        assert f"{number}. {step}" in text
    assert "T+30 min (Management/PO)" in text


def test_slack_error_names_the_status_not_the_url(slack_sink: SlackSink) -> None:
    """An HTTP 500 from Slack is NotificationFailed without the secret URL."""
    slack_sink.status = 500

    with pytest.raises(NotificationFailed) as raised:
        SlackChannel(slack_sink.url).send(MESSAGE)

    assert "HTTP 500" in str(raised.value)
    assert "hook-secret-token" not in str(raised.value)


def test_unreachable_slack_is_a_transport_failure() -> None:
    """A webhook nobody listens on fails with the kind of error only."""
    url = f"http://127.0.0.1:{free_port()}/services/T/B/secret-token-xyz"

    with pytest.raises(NotificationFailed) as raised:
        SlackChannel(url, timeout=2.0).send(MESSAGE)

    assert "transport error" in str(raised.value)
    assert "secret-token-xyz" not in str(raised.value)
