"""``external-orders task``: the scheduled tasks of ``scheduled_task``.

``task run NAME`` is the runbook's ``scheduled-task:run --no-wait``: one run
now, coordinated with every worker (refused while one runs the task).
"""

from __future__ import annotations

from typing import Any

import typer

from external_orders.adapters.db.tasks import TaskRow
from external_orders.entrypoints.cli.context import services
from external_orders.entrypoints.cli.output import (
    JSON_OPTION_HELP,
    print_json,
    print_table,
)
from external_orders.entrypoints.presenters import iso
from external_orders.services.scheduler import Scheduler

app = typer.Typer(
    help="Scheduled tasks: run one now, list, pause, resume, change the interval.",
    no_args_is_help=True,
)

JsonOption = typer.Option(False, "--json", help=JSON_OPTION_HELP)
NameArgument = typer.Argument(..., help="e.g. external_orders.export_retry")
COLUMNS = [
    "name",
    "status",
    "run_interval",
    "last_execution_time",
    "next_execution_time",
    "claimed_by",
    "last_error",
]


def task_json(row: TaskRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "status": row.status.value,
        "runInterval": row.run_interval,
        "defaultRunInterval": row.default_run_interval,
        "lastExecutionTime": iso(row.last_execution_time),
        "nextExecutionTime": iso(row.next_execution_time),
        "claimedBy": row.claimed_by,
        "claimedUntil": iso(row.claimed_until),
        "lastError": row.last_error,
    }


def _row(row: TaskRow) -> list[object]:
    return [
        row.name,
        row.status.value,
        row.run_interval,
        iso(row.last_execution_time),
        iso(row.next_execution_time),
        row.claimed_by,
        row.last_error,
    ]


def _print_task(row: TaskRow, json_output: bool) -> None:
    if json_output:
        print_json(task_json(row))
    else:
        print(
            f"{row.name}: {row.status.value}, every {row.run_interval} s, "
            f"next run {iso(row.next_execution_time)}"
        )


@app.command("list")
def list_(json_output: bool = JsonOption) -> None:
    """Every task with its status and times (runbook 2.3)."""
    rows = Scheduler(services()).rows()
    if json_output:
        print_json([task_json(row) for row in rows])
    else:
        print_table(COLUMNS, [_row(row) for row in rows], title="scheduled_task")


@app.command("run")
def run(name: str = NameArgument, json_output: bool = JsonOption) -> None:
    """Run the task once now, due or not; refused while paused or running."""
    report = Scheduler(services()).run_task(name)
    if json_output:
        print_json({"task": name, **report})
    else:
        details = " ".join(f"{key}={value}" for key, value in report.items())
        print(f"{name}: done {details}".rstrip())


@app.command("pause")
def pause(name: str = NameArgument, json_output: bool = JsonOption) -> None:
    """Suspend the task (status inactive): no worker starts it until resumed."""
    _print_task(Scheduler(services()).pause(name), json_output)


@app.command("resume")
def resume(name: str = NameArgument, json_output: bool = JsonOption) -> None:
    """Make a paused task run again; it is due at once."""
    _print_task(Scheduler(services()).resume(name), json_output)


@app.command("interval")
def interval(
    name: str = NameArgument,
    seconds: int = typer.Argument(..., min=1, max=7 * 86400, help="Seconds."),
    json_output: bool = JsonOption,
) -> None:
    """Set the seconds between two runs; kept by later db upgrades."""
    _print_task(Scheduler(services()).set_interval(name, seconds), json_output)
