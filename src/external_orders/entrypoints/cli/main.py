"""The ``external-orders`` command."""

from __future__ import annotations

import sys

import pydantic
import sqlalchemy as sa
import typer

from external_orders.entrypoints.cli import (
    alerts_cmd,
    config_cmd,
    db_cmd,
    doctor_cmd,
    export_cmd,
    kpi_cmd,
    orders_cmd,
    serve_cmd,
    shopware_cmd,
    simulator_cmd,
    task_cmd,
    worker_cmd,
)
from external_orders.entrypoints.cli.context import close_services
from external_orders.entrypoints.cli.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_UNAVAILABLE,
    CommandFailed,
    database_problem,
    environment_problem,
    exit_code_for,
    fail,
)
from external_orders.errors import ExternalOrdersError

# Shortcoming: every command imports all command modules (~0.5-1.3 s a start);
# registering commands lazily (click LazyGroup) would cut it.
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
shopware_cmd.register(app)
app.add_typer(task_cmd.app, name="task")
worker_cmd.register(app)
doctor_cmd.register(app)
serve_cmd.register(app)
kpi_cmd.register(app)
app.add_typer(alerts_cmd.app, name="alerts")


def run() -> None:
    """Entry point: every error ends as one ``Error: ...`` line on stderr."""
    code = 0
    try:
        # Non-standalone Typer returns the exit code of ``Exit`` (130 after
        # Ctrl-C) instead of raising it.
        returned = app(standalone_mode=False)
        code = returned if isinstance(returned, int) else 0
    except typer.Exit as done:
        code = done.exit_code
    except typer.Abort:
        fail("interrupted", EXIT_INTERRUPTED)
    except typer.TyperException as error:
        # Typer's usage errors (bad option values, missing arguments): exit 2.
        format_message = getattr(error, "format_message", None)
        message = format_message() if format_message else str(error)
        fail(message, getattr(error, "exit_code", EXIT_BAD_INPUT))
    except CommandFailed as error:
        fail(str(error), error.exit_code)
    except ExternalOrdersError as error:
        fail(str(error), exit_code_for(error))
    except sa.exc.SQLAlchemyError as error:
        fail(database_problem(error), EXIT_UNAVAILABLE)
    except pydantic.ValidationError as error:
        fail(environment_problem(error), EXIT_BAD_INPUT)
    except ModuleNotFoundError as error:
        fail(
            f"missing Python package {error.name!r} (database driver?)",
            EXIT_UNAVAILABLE,
        )
    except OSError as error:
        fail(
            f"{error.strerror or error}: {error.filename or ''}".strip(),
            EXIT_UNAVAILABLE,
        )
    except KeyboardInterrupt:
        fail("interrupted", EXIT_INTERRUPTED)
    except Exception as error:  # last resort: never a traceback for users
        fail(f"unexpected {type(error).__name__}: {error}", 1)
    finally:
        close_services()
    if code == EXIT_INTERRUPTED:
        fail("interrupted", EXIT_INTERRUPTED)
    sys.exit(code)
