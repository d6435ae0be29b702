"""The ``external-orders`` command."""

from __future__ import annotations

import sys

import sqlalchemy as sa
import typer

from external_orders.entrypoints.cli import (
    config_cmd,
    db_cmd,
    export_cmd,
    orders_cmd,
    simulator_cmd,
)
from external_orders.entrypoints.cli.context import close_services
from external_orders.entrypoints.cli.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_UNAVAILABLE,
    CommandFailed,
    database_problem,
    exit_code_for,
    fail,
)
from external_orders.errors import ExternalOrdersError

app = typer.Typer(
    name="external-orders",
    help="Export Shopware 6 orders to TopM SAN6 and watch every attempt.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(db_cmd.app, name="db")
app.add_typer(config_cmd.app, name="config")
app.add_typer(orders_cmd.app, name="orders")
export_cmd.register(app)
simulator_cmd.register(app)


def run() -> None:
    """Entry point: every error ends as one ``Error: ...`` line on stderr."""
    try:
        app(standalone_mode=False)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        fail("interrupted", 130)
    except typer.TyperException as error:
        # Typer's usage errors (bad option values, missing arguments): exit 2.
        format_message = getattr(error, "format_message", None)
        message = format_message() if format_message else str(error)
        fail(message, getattr(error, "exit_code", EXIT_BAD_INPUT))
    except CommandFailed as error:
        fail(str(error), EXIT_FAILED)
    except ExternalOrdersError as error:
        fail(str(error), exit_code_for(error))
    except sa.exc.SQLAlchemyError as error:
        fail(database_problem(error), EXIT_UNAVAILABLE)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as error:  # last resort: never a traceback for users
        fail(f"unexpected {type(error).__name__}: {error}", 1)
    finally:
        close_services()
    sys.exit(0)
