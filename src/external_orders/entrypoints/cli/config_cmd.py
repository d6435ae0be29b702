"""``external-orders config``: the SAN6 settings in ``system_config``."""

from __future__ import annotations

import typer

from external_orders.domain import san6_config
from external_orders.entrypoints.cli.context import services
from external_orders.entrypoints.cli.errors import CommandFailed
from external_orders.entrypoints.cli.output import (
    JSON_OPTION_HELP,
    print_json,
    print_table,
)
from external_orders.errors import InvalidSetting

app = typer.Typer(help="SAN6 settings (ExternalOrders.config.*).", no_args_is_help=True)

JsonOption = typer.Option(False, "--json", help=JSON_OPTION_HELP)


def _known(key: str) -> str:
    if key not in san6_config.SPECS:
        raise InvalidSetting(key, "unknown setting key")
    return key


@app.command("set")
def set_(key: str, value: str) -> None:
    """Store a setting after checking its value."""
    stored = san6_config.validate_setting(key, value)
    services().config.set(key, stored)
    print(f"{key} = {san6_config.shown(key, stored)}")


@app.command("unset")
def unset(key: str) -> None:
    """Remove a stored setting (its default, if any, applies again)."""
    services().config.unset(_known(key))
    print(f"{key} unset")


@app.command("get")
def get(key: str, json_output: bool = JsonOption) -> None:
    """Print one setting (stored value, else default); secrets as ***."""
    value = san6_config.effective(services().config.all())[_known(key)]
    shown = san6_config.shown(key, value)
    if json_output:
        print_json({"key": key, "value": shown})
    elif shown is None:
        raise CommandFailed(f"{key} is not set")
    else:
        print(shown)


@app.command("list")
def list_(json_output: bool = JsonOption) -> None:
    """Every SAN6 setting with its value and where it comes from."""
    stored = services().config.all()
    rows = []
    for key, value in san6_config.effective(stored).items():
        origin = "stored" if key in stored else ("default" if value else "missing")
        rows.append(
            {"key": key, "value": san6_config.shown(key, value), "origin": origin}
        )
    if json_output:
        print_json(rows)
    else:
        print_table(["key", "value", "origin"], [list(r.values()) for r in rows])


@app.command("check")
def check(json_output: bool = JsonOption) -> None:
    """Exit 1 and name every missing or invalid setting."""
    stored = services().config.all()
    problems = san6_config.config_problems(stored)
    strategy = san6_config.effective(stored)[san6_config.SEND_STRATEGY]
    if strategy == san6_config.SendStrategy.FILETRANSFERURL and not (services().signer):
        problems.append(
            "EXTERNAL_ORDERS_APP_SECRET is not set (needed by filetransferurl)"
        )
    if json_output:
        print_json({"valid": not problems, "problems": problems})
    else:
        for problem in problems:
            print(problem)
    if problems:
        raise CommandFailed(f"{len(problems)} SAN6 setting(s) missing or invalid")
    if not json_output:
        print("SAN6 settings are complete and valid")
