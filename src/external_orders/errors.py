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
    ├── OrderNotExportable         the order's data can never give valid XML
    ├── San6ConfigInvalid          missing or invalid SAN6 settings (503)
    ├── SendingDisabled            strategy ``disabled`` (503)
    ├── San6Unavailable            timeout, transport error, HTTP 5xx (retry)
    ├── ExportRefused              would risk a duplicate in the ERP (409)
    │   ├── ExportInFlight         an attempt of the order is ``processing``
    │   └── AlreadySent            the latest attempt is ``sent``; use force
    ├── SigningUnavailable         no EXTERNAL_ORDERS_APP_SECRET
    └── TaskNotFound               unknown scheduled task name

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


class OrderNotExportable(ExternalOrdersError):
    """The order's data can never become a valid AuftragNeu2 document."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"order cannot be exported: {problem}")
        self.problem = problem


class San6ConfigInvalid(ExternalOrdersError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid SAN6 config: " + "; ".join(problems))
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
