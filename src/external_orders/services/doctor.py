"""``doctor``: is this installation able to export? One check per concern.

A check is a function of the ``Services`` that returns a status and one
line; ``CHECKS`` is the list ``external-orders doctor`` runs, in order, so
a new concern is one more function in the list. A check that raises is a
failed check, never a crash; checks that need the database are skipped
when the database check failed. Nothing a check prints holds a secret.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from external_orders.adapters.db.engine import (
    TimeZones,
    describe_database,
    time_zones,
)
from external_orders.adapters.db.tasks import TaskStatus
from external_orders.domain import san6_config
from external_orders.domain.san6_config import SendStrategy, config_problems
from external_orders.tasks.registry import all_tasks

if TYPE_CHECKING:
    from external_orders.bootstrap import Services


class CheckStatus(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: CheckStatus
    message: str


Finding = tuple[CheckStatus, str]


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[Services], Finding]
    needs_database: bool = True


def check_database(services: Services) -> Finding:
    info = describe_database(services.engine)
    where = f"{info.backend} {info.server_version} at {info.url}".replace("  ", " ")
    if info.missing_tables:
        missing = ", ".join(info.missing_tables)
        return CheckStatus.FAIL, f"{where}: tables missing ({missing}): run db upgrade"
    return CheckStatus.OK, f"{where}, schema revision {info.revision}"


def check_time_zone(services: Services) -> Finding:
    return time_zone_finding(time_zones(services.engine))


def time_zone_finding(zones: TimeZones | None) -> Finding:
    """The service's session must be UTC; the server's default should be."""
    if zones is None:
        return CheckStatus.OK, "SQLite: times are stored in UTC"
    if zones.session_offset != 0:
        return CheckStatus.FAIL, (
            f"the service's session time zone is {zones.session_zone}, not UTC: "
            "stored times would be off"
        )
    default = f"{zones.default_zone} (system {zones.system_zone})"
    if zones.default_offset != 0:
        hours = zones.default_offset / 60
        return CheckStatus.WARN, (
            f"server default time zone {default} is UTC{hours:+g} h, not UTC: "
            f"ad-hoc runbook queries with NOW(3) are off by {abs(hours):g} h; "
            "set default_time_zone = '+00:00' on the server, or run "
            "SET time_zone = '+00:00' first"
        )
    return CheckStatus.OK, f"session +00:00, server default {default} = UTC"


def check_san6_settings(services: Services) -> Finding:
    stored = services.config.all()
    problems = config_problems(stored)
    if problems:
        return CheckStatus.FAIL, "; ".join(problems)

    config = san6_config.load_san6_config(stored)
    target = _host_of(config.base_url)
    if config.strategy is SendStrategy.DISABLED:
        return CheckStatus.WARN, f"sending is disabled (strategy disabled), {target}"
    if config.strategy is SendStrategy.FILETRANSFERURL and services.signer is None:
        return CheckStatus.FAIL, (
            "strategy filetransferurl needs EXTERNAL_ORDERS_APP_SECRET, not set"
        )
    return CheckStatus.OK, (
        f"strategy {config.strategy.value}, {target}, timeout {config.timeout:g} s"
    )


def check_scheduled_tasks(services: Services) -> Finding:
    rows = {row.name: row for row in services.scheduled_tasks.all()}
    missing = sorted(set(all_tasks()) - set(rows))
    if missing:
        return CheckStatus.FAIL, f"not registered: {', '.join(missing)}: db upgrade"

    now = services.clock.now()
    warnings = []
    for row in rows.values():
        late = max(timedelta(seconds=2 * row.run_interval), timedelta(minutes=2))
        if row.status is TaskStatus.INACTIVE:
            warnings.append(f"{row.name} is paused")
        elif row.status is TaskStatus.FAILED:
            warnings.append(f"{row.name} last run failed: {row.last_error}")
        elif (
            row.status is TaskStatus.SCHEDULED and row.next_execution_time < now - late
        ):
            due = row.next_execution_time.isoformat(timespec="seconds")
            warnings.append(f"{row.name} due since {due}: is a worker running?")
    if warnings:
        return CheckStatus.WARN, "; ".join(warnings)
    return CheckStatus.OK, f"{len(rows)} tasks registered, none paused or late"


def check_order_source(services: Services) -> Finding:
    """The source's own ``check()`` when it has one (returns a line or raises)."""
    source = services.orders
    check = getattr(source, "check", None)
    if callable(check):
        return CheckStatus.OK, str(check() or f"{services.settings.order_source} ok")
    return CheckStatus.OK, f"order source {services.settings.order_source}"


CHECKS: list[Check] = [
    Check("database", check_database),
    Check("time zone", check_time_zone),
    Check("SAN6 settings", check_san6_settings),
    Check("scheduled tasks", check_scheduled_tasks),
    Check("order source", check_order_source, needs_database=False),
]


def run_checks(
    services: Services, checks: Sequence[Check] = CHECKS
) -> list[CheckResult]:
    """Every check's result, in order; a raising check is a failed one."""
    results = []
    database_ok = True
    for check in checks:
        if check.needs_database and not database_ok:
            results.append(
                CheckResult(check.name, CheckStatus.SKIP, "database unavailable")
            )
            continue
        status, message = _run(check, services)
        if check.name == "database" and status is CheckStatus.FAIL:
            database_ok = False
        results.append(CheckResult(check.name, status, message))
    return results


def _run(check: Check, services: Services) -> Finding:
    try:
        return check.run(services)
    except Exception as error:
        cause = getattr(error, "orig", None) or error
        line = (str(cause).splitlines() or [""])[0]
        return CheckStatus.FAIL, f"{type(cause).__name__}: {line}"[:300]


def _host_of(url: str) -> str:
    # The base URL may carry an ssid; show where it points, nothing more.
    parts = urlsplit(url)
    return f"SAN6 at {parts.scheme}://{parts.netloc.rpartition('@')[2]}"
