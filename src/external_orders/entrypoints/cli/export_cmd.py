"""Export commands and the readings of runbook sections 2.2, 4 and 5."""

from __future__ import annotations

from uuid import UUID

import typer

from external_orders.domain.attempt import Attempt, Status
from external_orders.domain.order import parse_order_id
from external_orders.entrypoints.cli.context import services
from external_orders.entrypoints.cli.errors import EXIT_UNAVAILABLE, CommandFailed
from external_orders.entrypoints.cli.output import (
    JSON_OPTION_HELP,
    print_json,
    print_table,
)
from external_orders.entrypoints.presenters import attempt_json, iso
from external_orders.errors import (
    ExportNotFound,
    InvalidInput,
    InvalidOrderId,
    San6ConfigInvalid,
)

JsonOption = typer.Option(False, "--json", help=JSON_OPTION_HELP)
COLUMNS = [
    "export_id",
    "order_id",
    "status",
    "attempts",
    "response_code",
    "response_message",
    "last_error",
    "next_retry_at",
    "correlation_id",
    "updated_at",
    "created_at",
]


def _row(attempt: Attempt) -> list[object]:
    return [
        attempt.id.hex,
        attempt.order_id.hex,
        attempt.status.value,
        attempt.attempts,
        attempt.response_code,
        attempt.response_message,
        attempt.last_error,
        iso(attempt.next_retry_at),
        attempt.correlation_id,
        iso(attempt.updated_at),
        iso(attempt.created_at),
    ]


def _print_attempts(attempts: list[Attempt], json_output: bool, title: str) -> None:
    if json_output:
        print_json([attempt_json(attempt) for attempt in attempts])
    else:
        print_table(COLUMNS, [_row(attempt) for attempt in attempts], title=title)


def export(
    order_id: str = typer.Argument(..., help="32 hex digits or a dashed UUID."),
    force: bool = typer.Option(
        False, "--force", help="Send again an order whose latest attempt is sent."
    ),
    json_output: bool = JsonOption,
) -> None:
    """Export one order to SAN6 now; exit 0 only when SAN6 accepted it."""
    attempt = services().exporter.export(parse_order_id(order_id), force=force)
    if json_output:
        print_json(attempt_json(attempt))
    else:
        print(_summary(attempt))
    if attempt.status is Status.SENT:
        return
    problem = attempt.last_error or attempt.response_message or "not accepted"
    retry = (
        f", next retry at {iso(attempt.next_retry_at)}" if attempt.next_retry_at else ""
    )
    message = f"export {attempt.status.value}: {problem}{retry}"
    if problem.startswith(San6ConfigInvalid.PREFIX):
        raise CommandFailed(message, EXIT_UNAVAILABLE)
    raise CommandFailed(message)


def _summary(attempt: Attempt) -> str:
    """One line: status, ids, and what SAN6 said when it said something."""
    parts = [
        f"{attempt.status.value}: order {attempt.order_id.hex}",
        f"export {attempt.id.hex}",
        f"attempts={attempt.attempts}",
    ]
    if attempt.response_code is not None:
        parts.append(f"response_code={attempt.response_code}")
    if attempt.response_message:
        parts.append(f"response_message={attempt.response_message!r}")
    parts.append(f"correlation_id={attempt.correlation_id}")
    return " ".join(parts)


def show(order_id: str, json_output: bool = JsonOption) -> None:
    """The order's last 5 attempts, newest first (runbook 4.1)."""
    wanted = parse_order_id(order_id)
    attempts = services().exports.history(wanted, limit=5)
    if not attempts and not json_output:
        print(f"no attempt for order {wanted.hex}")
        return
    _print_attempts(attempts, json_output, f"attempts of order {wanted.hex}")


def status(json_output: bool = JsonOption) -> None:
    """Attempts per status (runbook 2.2)."""
    counts = services().exports.status_counts()
    if json_output:
        print_json([{"status": key, "total": value} for key, value in counts.items()])
    else:
        print_table(["status", "total"], counts.items(), title="external_order_export")


def recent(
    limit: int = typer.Option(50, "--limit", min=1, max=10000),
    by: str = typer.Option(
        "created_at", "--by", help="created_at (runbook 2.2) or updated_at (5)."
    ),
    status_filter: str | None = typer.Option(
        None, "--status", help="Only this status."
    ),
    json_output: bool = JsonOption,
) -> None:
    """The newest attempts (runbook 2.2; --by updated_at: section 5)."""
    if by not in ("created_at", "updated_at"):
        raise InvalidInput("--by must be created_at or updated_at")
    wanted = _status(status_filter)
    attempts = services().exports.recent(limit, by=by, status=wanted)
    _print_attempts(attempts, json_output, f"latest {limit} attempts by {by}")


def overdue(json_output: bool = JsonOption) -> None:
    """Pending retries whose time has come (runbook 2.2)."""
    count = services().exports.overdue_count()
    if json_output:
        print_json({"overdue_retries": count})
    else:
        print(f"overdue_retries: {count}")


def _status(value: str | None) -> Status | None:
    if value is None:
        return None
    try:
        return Status(value)
    except ValueError:
        allowed = ", ".join(status.value for status in Status)
        raise InvalidInput(f"unknown status {value!r}: use one of {allowed}") from None


def retry(
    export_id: str = typer.Argument(..., help="The attempt to retry (32 hex)."),
    json_output: bool = JsonOption,
) -> None:
    """Make an attempt a pending retry due now (runbook 4.5), any status.

    The next run of external_orders.export_retry continues its chain; run it
    at once with `external-orders task run external_orders.export_retry`.
    """
    wanted = parse_export_id(export_id)
    attempt = services().exports.force_retry(wanted)
    if attempt is None:
        raise ExportNotFound(wanted)
    if json_output:
        print_json(attempt_json(attempt))
    else:
        print(
            f"export {attempt.id.hex} of order {attempt.order_id.hex} is "
            f"retry_scheduled, due now; next: external-orders task run "
            f"external_orders.export_retry"
        )


def parse_export_id(value: str) -> UUID:
    try:
        return parse_order_id(value)
    except InvalidOrderId:
        shown = value if len(value) <= 64 else value[:61] + "..."
        raise InvalidInput(f"invalid export id {shown!r}: expected a UUID") from None


def register(app: typer.Typer) -> None:
    for command in (export, show, status, recent, overdue, retry):
        app.command()(command)
