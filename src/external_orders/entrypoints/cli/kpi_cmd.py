"""``external-orders kpi``: the KPIs of runbook section 3, now."""

from __future__ import annotations

from typing import Any

import typer

from external_orders.domain.kpi import KpiSnapshot, KpiValue, Level
from external_orders.entrypoints.cli.context import services
from external_orders.entrypoints.cli.output import (
    JSON_OPTION_HELP,
    print_json,
    print_table,
)
from external_orders.entrypoints.presenters import iso

COLUMNS = ["kpi", "value", "warning", "critical", "level"]


def kpi_json(value: KpiValue) -> dict[str, Any]:
    thresholds = value.thresholds
    return {
        "name": value.name,
        "value": value.value,
        "comparison": thresholds.comparison.value,
        "warning": thresholds.warning,
        "critical": thresholds.critical,
        "level": value.level.value,
    }


def snapshot_json(snapshot: KpiSnapshot) -> dict[str, Any]:
    return {
        "at": iso(snapshot.at),
        "windowMinutes": snapshot.window_minutes,
        "attemptsInWindow": snapshot.attempts_in_window,
        "kpis": [kpi_json(value) for value in snapshot.values.values()],
    }


def _limit(value: KpiValue, level: Level) -> str:
    limit = value.thresholds.threshold(level) if level is not Level.OK else None
    if limit is None:
        return "-"
    return f"{value.thresholds.comparison.value} {limit:g}"


def kpi(
    json_output: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Each KPI with its thresholds and level (ok, warning, critical)."""
    snapshot = services().kpis.snapshot()
    if json_output:
        print_json(snapshot_json(snapshot))
        return
    rows = [
        (
            value.name,
            f"{value.value:g}",
            _limit(value, Level.WARNING),
            _limit(value, Level.CRITICAL),
            value.level.value,
        )
        for value in snapshot.values.values()
    ]
    title = (
        f"KPIs at {iso(snapshot.at)}, window {snapshot.window_minutes} min, "
        f"{snapshot.attempts_in_window} attempt(s) in it"
    )
    print_table(COLUMNS, rows, title=title)


def register(app: typer.Typer) -> None:
    app.command("kpi")(kpi)
