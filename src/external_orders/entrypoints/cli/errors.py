"""Exit codes of the CLI, and the one place errors become output.

0 success · 1 the operation failed (an export not sent, a failed check) ·
2 bad input · 3 refused to avoid a duplicate · 4 not found · 5 unavailable
(sending disabled, SAN6 settings invalid, database unreachable).
"""

from __future__ import annotations

import sys

import pydantic
import sqlalchemy as sa

from external_orders import errors
from external_orders.logs import redact

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3
EXIT_NOT_FOUND = 4
EXIT_UNAVAILABLE = 5
EXIT_INTERRUPTED = 130

_CODES: list[tuple[type[Exception], int]] = [
    (errors.InvalidInput, EXIT_BAD_INPUT),
    (errors.ExportRefused, EXIT_REFUSED),
    (errors.TaskRefused, EXIT_REFUSED),
    (errors.OrderNotFound, EXIT_NOT_FOUND),
    (errors.TaskNotFound, EXIT_NOT_FOUND),
    (errors.IntegrationNotFound, EXIT_NOT_FOUND),
    (errors.ExportNotFound, EXIT_NOT_FOUND),
    (errors.SendingDisabled, EXIT_UNAVAILABLE),
    (errors.San6ConfigInvalid, EXIT_UNAVAILABLE),
    (errors.SigningUnavailable, EXIT_UNAVAILABLE),
    (errors.OrderSourceUnavailable, EXIT_UNAVAILABLE),
]


class CommandFailed(Exception):
    """A command ran but did not succeed; the message says how."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def exit_code_for(error: errors.ExternalOrdersError) -> int:
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return EXIT_FAILED


def database_problem(error: sa.exc.SQLAlchemyError) -> str:
    text = str(getattr(error, "orig", None) or error).splitlines()[0]
    if "no such table" in text or "doesn't exist" in text:
        return "the database has no tables yet: run `external-orders db upgrade`"
    return f"database unavailable: {text}"


def environment_problem(error: pydantic.ValidationError) -> str:
    """One line naming the first invalid ``EXTERNAL_ORDERS_*`` variable."""
    first = error.errors()[0]
    field = "_".join(str(part) for part in first.get("loc", ()))
    name = f"EXTERNAL_ORDERS_{field.upper()}" if field else "environment"
    return f"invalid {name}: {first.get('msg', 'invalid value')}"


def fail(message: str, code: int) -> None:
    print(f"Error: {redact(message)}", file=sys.stderr)
    sys.exit(code)
