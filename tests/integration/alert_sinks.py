"""Real alert receivers on loopback: what an SMTP server (aiosmtpd) and a
Slack webhook stand-in received; the fixtures are in ``alert_fixtures``."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER = "alerts"
SMTP_PASSWORD = "smtp-password-0123"
WEBHOOK_PATH = "/services/T0000/B0000/hook-secret-token"


@dataclass
class MailSink:
    """What the SMTP server accepted, as parsed messages."""

    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        valid = isinstance(data, LoginPassword) and (
            data.login.decode() == SMTP_USER and data.password.decode() == SMTP_PASSWORD
        )
        if valid:
            with self.lock:
                self.logins.append(data.login.decode())
        return AuthResult(success=valid, handled=False)

    def received(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.received()]

    def bodies(self) -> list[str]:
        return [message.get_content() for message in self.received()]


@dataclass
class SlackSink:
    """What the webhook received; ``status`` is what it answers next."""

    url: str = ""
    payloads: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.payloads)

    def fields(self) -> list[dict[str, str]]:
        """Per message, the attachment fields as ``title: value``."""
        return [
            {item["title"]: item["value"] for item in p["attachments"][0]["fields"]}
            for p in self.received()
        ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))
