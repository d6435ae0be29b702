"""Errors of external-orders.

Every error the service raises on purpose derives from ``ExternalOrdersError``;
library errors (SQLAlchemy, httpx, XML parsers) are turned into one of these
inside the adapter that met them, so entrypoints map only this tree::

    ExternalOrdersError
    ├── InvalidInput               bad argument from a user (CLI 2, HTTP 400)
    │   ├── InvalidOrderId         not a UUID
    │   ├── InvalidSetting         unknown key or invalid value
    │   └── InvalidOrderDocument   an order file that cannot be imported
    ├── OrderNotFound              the order source has no such order (404)
    ├── OrderSourceUnavailable     the order source failed technically (retry)
    │   └── OrderSourceAuthFailed  Shopware refused the integration's credentials
    ├── OrderNotExportable         the order's data can never give valid XML
    ├── San6ConfigInvalid          missing or invalid SAN6 settings (503)
    ├── SendingDisabled            strategy ``disabled`` (503)
    ├── San6Unavailable            timeout, transport error, HTTP 5xx (retry)
    ├── ExportRefused              would risk a duplicate in the ERP (409)
    │   ├── ExportInFlight         an attempt of the order is ``processing``
    │   └── AlreadySent            the latest attempt is ``sent``; use force
    ├── SigningUnavailable         no EXTERNAL_ORDERS_APP_SECRET
    │   └── AppSecretRequired      a strategy needs it to start (serve refuses)
    ├── Unauthorized               missing or bad Admin API credentials (401)
    │   ├── InvalidClientCredentials  unknown access key, wrong secret, revoked
    │   └── InvalidAccessToken     bad, tampered, expired or revoked bearer token
    ├── IntegrationNotFound        no integration with this id or access key
    ├── ExportNotFound             no attempt with this export id
    ├── TaskNotFound               unknown scheduled task name
    ├── TaskRefused                a task run cannot start now (CLI 3)
    │   ├── TaskPaused             the task is ``inactive``; task resume
    │   └── TaskBusy               another instance holds the run's lease
    ├── TaskFailed                 a run by hand raised; recorded as failed
    ├── NotificationFailed         a mail server or Slack refused an alert
    └── NoAlertChannel             no mail or Slack channel is configured

Messages never contain a secret: callers pass only what is safe to show.
"""

from __future__ import annotations

from uuid import UUID


class ExternalOrdersError(Exception):
    """Base of every error raised on purpose by external-orders."""


class InvalidInput(ExternalOrdersError):
    """A user gave an argument that cannot be used."""


class InvalidOrderId(InvalidInput):
    def __init__(self, value: str) -> None:
        shown = value if len(value) <= 64 else value[:61] + "..."
        super().__init__(f"invalid order id {shown!r}: expected a UUID")
        self.value = value


class InvalidSetting(InvalidInput):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class InvalidOrderDocument(InvalidInput):
    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class OrderNotFound(ExternalOrdersError):
    def __init__(self, order_id: UUID) -> None:
        super().__init__(f"order {order_id.hex} not found")
        self.order_id = order_id


class OrderSourceUnavailable(ExternalOrdersError):
    """The order source could not answer; the export is retried later."""

    def __init__(self, order_id: UUID | None, problem: str) -> None:
        super().__init__(f"order source unavailable: {problem}")
        self.order_id = order_id
        self.problem = problem


class OrderSourceAuthFailed(OrderSourceUnavailable):
    """Shopware refused the integration's access key, secret or permissions.

    Still retried like an outage: an operator fixes the credentials and the
    pending exports go on; ``doctor`` names the problem.
    """


class OrderNotExportable(ExternalOrdersError):
    """The order's data can never become a valid AuftragNeu2 document."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"order cannot be exported: {problem}")
        self.problem = problem


class San6ConfigInvalid(ExternalOrdersError):
    PREFIX = "invalid SAN6 config: "

    def __init__(self, problems: list[str]) -> None:
        super().__init__(self.PREFIX + "; ".join(problems))
        self.problems = problems


class SendingDisabled(ExternalOrdersError):
    def __init__(self) -> None:
        super().__init__(
            "sending to SAN6 is disabled "
            "(ExternalOrders.config.externalOrdersSan6SendStrategy = disabled)"
        )


class San6Unavailable(ExternalOrdersError):
    """SAN6 did not give a usable HTTP answer: timeout, transport error, 5xx."""

    def __init__(self, problem: str, duration_seconds: float = 0.0) -> None:
        super().__init__(problem)
        self.problem = problem
        self.duration_seconds = duration_seconds


class ExportRefused(ExternalOrdersError):
    def __init__(self, order_id: UUID, reason: str) -> None:
        super().__init__(f"export of order {order_id.hex} refused: {reason}")
        self.order_id = order_id
        self.reason = reason


class ExportInFlight(ExportRefused):
    def __init__(self, order_id: UUID) -> None:
        super().__init__(order_id, "an attempt is already processing")


class AlreadySent(ExportRefused):
    def __init__(self, order_id: UUID, export_id: UUID) -> None:
        super().__init__(
            order_id,
            f"already sent by export {export_id.hex}; force to send it again",
        )
        self.export_id = export_id


class SigningUnavailable(ExternalOrdersError):
    def __init__(self) -> None:
        super().__init__(
            "EXTERNAL_ORDERS_APP_SECRET is not set: "
            "signed file-transfer URLs cannot be made"
        )


class TaskNotFound(ExternalOrdersError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown scheduled task {name!r}")
        self.name = name


class TaskRefused(ExternalOrdersError):
    """A run of a scheduled task was refused; nothing ran."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"task {name} not run: {reason}")
        self.name = name
        self.reason = reason


class TaskPaused(TaskRefused):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"it is paused (external-orders task resume {name})")


class TaskBusy(TaskRefused):
    def __init__(self, name: str, claimed_by: str | None, until: str | None) -> None:
        holder = claimed_by or "another instance"
        super().__init__(name, f"it is running in {holder} (lease until {until})")
        self.claimed_by = claimed_by


class TaskFailed(ExternalOrdersError):
    """A run by hand raised; the run is recorded as ``failed``."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"task {name} failed: {problem}")
        self.name = name
        self.problem = problem


class AppSecretRequired(SigningUnavailable):
    """A setting needs EXTERNAL_ORDERS_APP_SECRET, so the service will not start."""

    def __init__(self, reason: str) -> None:
        ExternalOrdersError.__init__(
            self, f"EXTERNAL_ORDERS_APP_SECRET is not set: {reason}"
        )
        self.reason = reason


class Unauthorized(ExternalOrdersError):
    """The caller is not authenticated; the message is safe to show."""


class InvalidClientCredentials(Unauthorized):
    def __init__(self) -> None:
        # One message for unknown ids, wrong secrets and revoked integrations,
        # so an answer tells nothing about which access keys exist.
        super().__init__("invalid client credentials")


class InvalidAccessToken(Unauthorized):
    def __init__(self, problem: str) -> None:
        super().__init__(f"access token {problem}")
        self.problem = problem


class IntegrationNotFound(ExternalOrdersError):
    def __init__(self, reference: str) -> None:
        shown = reference if len(reference) <= 64 else reference[:61] + "..."
        super().__init__(f"integration {shown!r} not found")
        self.reference = reference


class ExportNotFound(ExternalOrdersError):
    def __init__(self, export_id: UUID) -> None:
        super().__init__(f"export {export_id.hex} not found")
        self.export_id = export_id


class NotificationFailed(ExternalOrdersError):
    """An alert channel (mail, Slack) did not take a notification."""

    def __init__(self, channel: str, problem: str) -> None:
        super().__init__(f"{channel} notification failed: {problem}")
        self.channel = channel
        self.problem = problem


class NoAlertChannel(ExternalOrdersError):
    def __init__(self) -> None:
        super().__init__(
            "no alert channel is configured: set EXTERNAL_ORDERS_SMTP_HOST and "
            "EXTERNAL_ORDERS_SMTP_TO, or EXTERNAL_ORDERS_SLACK_WEBHOOK_URL"
        )
