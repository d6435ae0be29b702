"""Alert mail over SMTP (smtplib): STARTTLS, implicit TLS or plain.

One connection per message: alerts are rare, and a connection kept open
would only go stale between them.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from external_orders.domain.alert_message import AlertMessage
from external_orders.errors import NotificationFailed
from external_orders.logs import redact

Security = Literal["starttls", "tls", "none"]


@dataclass
class MailChannel:
    """Sends to ``recipients`` through ``host``:``port``.

    ``security``: ``starttls`` upgrades a plain connection (port 587),
    ``tls`` speaks TLS from the start (port 465), ``none`` neither (a relay
    on localhost only: with a user, the password would cross in clear).
    ``ssl_context`` defaults to the system's trusted authorities.
    """

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    security: Security = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    ssl_context: ssl.SSLContext | None = None
    name: str = "mail"

    def send(self, message: AlertMessage) -> None:
        email = self._email(message)
        try:
            with self._connect() as smtp:
                if self.security == "starttls":
                    smtp.starttls(context=self._context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(email)
        except (smtplib.SMTPException, OSError) as error:
            raise NotificationFailed(self.name, _problem(error)) from error

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    def _email(self, message: AlertMessage) -> EmailMessage:
        email = EmailMessage()
        email["Subject"] = message.subject()
        email["From"] = self.sender
        email["To"] = ", ".join(self.recipients)
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(domain="external-orders")
        email["X-ExternalOrders-Alert"] = message.alert
        email.set_content(message.text())
        return email


def _problem(error: Exception) -> str:
    """A one-line reason that names no credential."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"authentication refused (SMTP {error.smtp_code})"
    if isinstance(error, smtplib.SMTPResponseException):
        raw = error.smtp_error
        text = (
            raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        ).splitlines()
        return redact(f"SMTP {error.smtp_code} {text[0] if text else ''}".strip())
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "every recipient was refused"
    return redact(f"{type(error).__name__}: {error}".splitlines()[0])
